"""packaging/measure.py's own logic: which form a program is, its size, the timings' spread.

No build needed: the forms are laid out in a temp dir, and the program timed is
a shell script that says what ``multichat --self-test`` says.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "packaging" / "measure.py"


def load_measure() -> ModuleType:
    # By path: "packaging" on sys.path is the PyPI library of that name, not this folder.
    spec = importlib.util.spec_from_file_location("multichat_measure", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


measure = load_measure()


def write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def test_a_program_beside_internal_is_one_folder_sized_as_the_whole_folder(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "opt" / "multichat"
    write(folder / "multichat", 10)
    write(folder / "_internal" / "libpython3.11.so.1.0", 100)
    write(folder / "_internal" / "PySide6" / "Qt" / "plugins" / "libqxcb.so", 5)
    (folder / "_internal" / "libalias.so").symlink_to("libpython3.11.so.1.0")
    command = tmp_path / "usr" / "bin" / "multichat"  # as the .deb links it
    command.parent.mkdir(parents=True)
    command.symlink_to(folder / "multichat")

    for program in (folder / "multichat", command):
        form = measure.form_of(program)
        assert (form.name, form.size) == ("one folder", 115)  # the link is not counted twice


def test_a_lone_program_is_one_file_sized_as_itself(tmp_path: Path) -> None:
    write(tmp_path / "dist" / "multichat", 1234)
    write(tmp_path / "dist" / "multichat-onedir" / "_internal" / "lib.so", 99)  # not beside it

    form = measure.form_of(tmp_path / "dist" / "multichat")

    assert (form.name, form.size) == ("one file", 1234)


def test_the_spread_is_the_median_and_the_extremes() -> None:
    spread = measure.Spread.of([0.61, 0.52, 0.55, 0.58, 0.50])
    assert (spread.median, spread.low, spread.high) == (0.55, 0.50, 0.61)
    assert str(spread) == "0.55 s (0.50 to 0.61)"
    assert measure.Spread.of([0.4, 0.6]).median == pytest.approx(0.5)
    with pytest.raises(ValueError, match="no samples"):
        measure.Spread.of([])


def fake_program(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_the_first_window_is_timed_at_its_line_within_the_whole_run(tmp_path: Path) -> None:
    program = fake_program(tmp_path / "multichat", 'echo "self-test: keyring (0.01 s)"\n'
                           'echo "self-test: first window shown (0.04 s)"\n'
                           'echo "multichat: self-test passed"')

    first_window, total = measure.time_first_window(program)

    assert 0 < first_window <= total
    assert measure.time_version(program) > 0


def test_a_failing_self_test_stops_the_measure_with_its_reason(tmp_path: Path) -> None:
    program = fake_program(tmp_path / "multichat",
                           'echo "self-test: first window shown (0.04 s)"\n'
                           'echo "self-test FAILED: no keyring backend" >&2\nexit 1')

    with pytest.raises(SystemExit, match="no keyring backend"):
        measure.time_first_window(program)
