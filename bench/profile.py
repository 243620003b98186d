"""Sampling the server under load with py-spy: where its CPU goes, repeatably.

    .venv/bin/python -m bench --only fanout --rates 1600 --servers multichat --profile

writes ``bench/results/profile-<server>-<rate>.txt`` (collapsed stacks, which
speedscope and flamegraph.pl read) and prints the functions with the most
samples of their own. py-spy samples from outside the process, so the server
runs unmodified; it is ``pip install py-spy`` (the ``bench`` extra).
"""

from __future__ import annotations

import collections
import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

SAMPLES_PER_SECOND = 250
# "function (path/to/file.py:123)": keep the file's path from the package on.
_PATH = re.compile(r"\((?:.*/)?(site-packages|python3\.\d+|multichat|bench)/")


def py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install -e '.[bench]'")
    return found


@contextlib.contextmanager
def recording(pid: int, output: Path, *, rate: int = SAMPLES_PER_SECOND,
              setup: Callable[[], None] | None = None) -> Iterator[None]:
    """Sample the process ``pid`` while the block runs; only threads holding the GIL count.

    ``setup`` runs in py-spy's process before it starts (to pin it off the
    servers' core, say).
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    spy = subprocess.Popen(
        [py_spy(), "record", "--pid", str(pid), "--output", str(output), "--format", "raw",
         "--rate", str(rate), "--nonblocking", "--gil"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=setup,
    )
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)


def top_functions(collapsed: Path, count: int = 15) -> list[tuple[float, str]]:
    """The functions with the largest share of samples of their own, largest first."""
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        leaf = _PATH.sub("(", stack.rsplit(";", 1)[-1])
        # One line per function, not per line number.
        own[re.sub(r":\d+\)$", ")", leaf)] += int(samples)
        total += int(samples)
    return [(n / total, name) for name, n in own.most_common(count)] if total else []


def breakdown(collapsed: Path,
              categories: Sequence[tuple[str, re.Pattern[str]]]) -> list[tuple[float, str]]:
    """The share of samples in each category, largest first.

    A stack belongs to the first category (in the order given) that matches
    any of its frames; stacks no category matches are "other".
    """
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        name = next((name for name, pattern in categories if pattern.search(stack)), "other")
        counts[name] += int(samples)
        total += int(samples)
    return [(n / total, name) for name, n in counts.most_common()] if total else []
