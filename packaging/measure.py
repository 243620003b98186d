"""The size and start-up times of both built forms, as docs/packaging.md reports them.

    python3 packaging/measure.py [PROGRAM ...] [--runs 5] [--warm-only]

PROGRAM defaults to both forms of a packaging/build.sh build: the one-file
binary ``dist/multichat`` and the one-folder build
``dist/multichat-onedir/multichat`` (what the .deb installs under
/opt/multichat; pass ``/usr/bin/multichat`` to time the installed app). A
program with ``_internal/`` beside it is a one-folder build, and its size is
the folder's.

Plain Python, no dependencies. For each run it starts ``PROGRAM --self-test``
offscreen (temp HOME, PATH=/usr/bin:/bin) and times, from the moment the
process is spawned, the line "first window shown": any one-file unpacking,
Python, Qt and the connect window. It also times ``--version`` (the unpacking
and Python alone, no Qt). The warm runs take the programs in turn, so that a
load on the machine weighs on each alike. The first run of each is "cold"
for its own pages only if the page cache was dropped before it; as root the
script drops it (``/proc/sys/vm/drop_caches``) when it can, and says whether
it could. ``--warm-only`` skips that first run (and the drop, which slows
everything else on a shared machine for a while).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

FIRST_WINDOW = "first window shown"
DEFAULT_PROGRAMS = (Path("dist/multichat"), Path("dist/multichat-onedir/multichat"))


@dataclass(frozen=True)
class Form:
    """What a program is on disk: one file, or an executable beside ``_internal/``."""

    program: Path
    one_folder: bool
    size: int  # bytes: the file's, or the whole folder's

    @property
    def name(self) -> str:
        return "one folder" if self.one_folder else "one file"


def folder_size(folder: Path) -> int:
    return sum(path.lstat().st_size for path in folder.rglob("*")
               if path.is_file() and not path.is_symlink())


def form_of(program: Path) -> Form:
    """The form of the build ``program`` runs, following a symlink (``/usr/bin/multichat``)."""
    real = program.resolve()
    if (real.parent / "_internal").is_dir():
        return Form(program, True, folder_size(real.parent))
    return Form(program, False, real.stat().st_size)


@dataclass(frozen=True)
class Spread:
    """The median of some timings, with their extremes."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, samples: list[float]) -> Spread:
        if not samples:
            raise ValueError("no samples")
        return cls(statistics.median(samples), min(samples), max(samples))

    def __str__(self) -> str:
        return f"{self.median:.2f} s ({self.low:.2f} to {self.high:.2f})"


def environment(home: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
            "QT_QPA_PLATFORM": "offscreen"}


def drop_caches() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def time_first_window(program: Path) -> tuple[float, float]:
    """Seconds to the first window and to the end of the whole self-test."""
    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        with subprocess.Popen([str(program), "--self-test"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env=environment(home)) as process:
            assert process.stdout is not None and process.stderr is not None
            first_window = None
            for line in process.stdout:
                if FIRST_WINDOW in line and first_window is None:
                    first_window = time.perf_counter() - started
            stderr = process.stderr.read()
            code = process.wait()
            total = time.perf_counter() - started
    if code != 0 or first_window is None:
        raise SystemExit(f"{program}: the self-test failed ({code}): {stderr.strip()}")
    return first_window, total


def time_version(program: Path) -> float:
    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        subprocess.run([str(program), "--version"], check=True, capture_output=True,
                       env=environment(home))
        return time.perf_counter() - started


@dataclass
class Samples:
    windows: list[float]
    totals: list[float]
    versions: list[float]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("programs", nargs="*", type=Path, default=list(DEFAULT_PROGRAMS),
                        metavar="PROGRAM")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warm-only", action="store_true",
                        help="no first run after dropping the page cache")
    args = parser.parse_args()
    programs: list[Path] = args.programs
    missing = [str(program) for program in programs if not program.is_file()]
    if missing:
        raise SystemExit(f"no program at {', '.join(missing)}: run packaging/build.sh first")

    for program in programs:
        form = form_of(program)
        print(f"{program}: {form.name}, {form.size / 2**20:.1f} MiB ({form.size} bytes)")
        if args.warm_only:
            continue
        dropped = drop_caches()
        cold_window, cold_total = time_first_window(program)
        print(f"  first run{' after dropping the page cache' if dropped else ''}: "
              f"first window {cold_window:.2f} s, whole self-test {cold_total:.2f} s")
    samples = {program: Samples([], [], []) for program in programs}
    for _ in range(args.runs):
        for program in programs:
            window, total = time_first_window(program)
            samples[program].windows.append(window)
            samples[program].totals.append(total)
            samples[program].versions.append(time_version(program))
    for program in programs:
        taken = samples[program]
        print(f"{program} ({form_of(program).name}), warm, median of {args.runs}: "
              f"first window {Spread.of(taken.windows)}, whole self-test "
              f"{Spread.of(taken.totals)}, --version {Spread.of(taken.versions)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
