"""Guards against known-bad Qt for Python releases (see the pin in pyproject.toml)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    carried = Signal(object)


def test_emitting_python_objects_keeps_reference_counts() -> None:
    """PySide6 6.12.0 loses a reference to a bool per emit, and later aborts the process."""
    emitter = _Emitter()
    received: list[object] = []
    emitter.carried.connect(received.append)
    before = sys.getrefcount(False), sys.getrefcount(True)
    for _ in range(200):
        emitter.carried.emit(False)
        emitter.carried.emit({"flag": True})
    received.clear()
    assert (sys.getrefcount(False), sys.getrefcount(True)) == before
