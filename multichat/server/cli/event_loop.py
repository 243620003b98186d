"""Which event loop ``multichat serve`` runs on: uvloop where it can, asyncio otherwise.

uvloop (libuv) does a loop iteration, a socket write and a wake-up from the
writer thread for less CPU than the standard loop, which matters on the hot
path of a fan-out (docs/benchmarks.md). It is a dependency everywhere but on
Windows, where it does not exist; ``auto`` falls back to the standard loop
when it cannot be imported. The desktop app's hosted server runs under qasync
and never comes here.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

LOOP_CHOICES = ("auto", "uvloop", "asyncio")

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


class LoopUnavailable(ValueError):
    """``--loop uvloop`` where uvloop cannot run; the message says why."""


def loop_factory(choice: str) -> tuple[str, LoopFactory]:
    """The loop to run for ``choice`` (one of ``LOOP_CHOICES``), and words for the log."""
    if choice == "asyncio":
        return "asyncio (standard library)", asyncio.new_event_loop
    uvloop = _uvloop()
    if uvloop is not None:
        return f"uvloop {uvloop.__version__}", uvloop.new_event_loop
    if choice == "uvloop":
        raise LoopUnavailable("loop uvloop: uvloop is not installed or does not run on "
                              f"{sys.platform}; use --loop auto or asyncio")
    return "asyncio (standard library; uvloop is not available)", asyncio.new_event_loop


def _uvloop() -> Any:
    """The uvloop module, or None where it cannot run."""
    if sys.platform == "win32":
        return None
    try:
        import uvloop  # noqa: PLC0415 - optional, and only when serve starts its loop
    except ImportError:
        return None
    return uvloop
