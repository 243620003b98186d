"""The binary's size and its start-up times, as docs/packaging.md reports them.

    python3 packaging/measure.py [dist/multichat] [--runs 5]

Plain Python, no dependencies. For each run it starts ``multichat --self-test``
offscreen (temp HOME, PATH=/usr/bin:/bin) and times, from the moment the
process is spawned, the line "first window shown": the one-file unpacking,
Python, Qt and the connect window. It also times ``--version`` (the unpacking
and Python alone, no Qt). The first run is "cold" for the binary's own pages
only if the page cache was dropped before it; as root the script drops it
(``/proc/sys/vm/drop_caches``) when it can, and says whether it could.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIRST_WINDOW = "first window shown"


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


def time_first_window(binary: Path) -> tuple[float, float]:
    """Seconds to the first window and to the end of the whole self-test."""
    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        process = subprocess.Popen([str(binary), "--self-test"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=environment(home))
        assert process.stdout is not None
        first_window = None
        for line in process.stdout:
            if FIRST_WINDOW in line and first_window is None:
                first_window = time.perf_counter() - started
        stderr = process.stderr.read() if process.stderr else ""
        code = process.wait()
        total = time.perf_counter() - started
    if code != 0 or first_window is None:
        raise SystemExit(f"the self-test failed ({code}): {stderr.strip()}")
    return first_window, total


def time_version(binary: Path) -> float:
    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        subprocess.run([str(binary), "--version"], check=True, capture_output=True,
                       env=environment(home))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary", nargs="?", type=Path, default=Path("dist/multichat"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    binary: Path = args.binary
    if not binary.is_file():
        raise SystemExit(f"no binary at {binary}: run packaging/build.sh first")

    size = binary.stat().st_size
    print(f"binary: {binary} {size / 2**20:.1f} MiB ({size} bytes)")
    dropped = drop_caches()
    cold_window, cold_total = time_first_window(binary)
    print(f"first run{' after dropping the page cache' if dropped else ''}: "
          f"first window {cold_window:.2f} s, whole self-test {cold_total:.2f} s")
    windows, totals, versions = [], [], []
    for _ in range(args.runs):
        window, total = time_first_window(binary)
        windows.append(window)
        totals.append(total)
        versions.append(time_version(binary))
    print(f"warm, median of {args.runs}: first window {statistics.median(windows):.2f} s "
          f"(min {min(windows):.2f}, max {max(windows):.2f}), whole self-test "
          f"{statistics.median(totals):.2f} s, --version {statistics.median(versions):.2f} s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
