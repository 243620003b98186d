"""A stall recorder loaded into the server under test, to explain latency outliers.

Loaded as ``sitecustomize`` (bench/stalls.py puts this directory on the
server's PYTHONPATH and names an output path in MULTICHAT_STALL_PROBE, to which
each process adds its pid), so the
server runs unmodified. It wraps ``asyncio.run``, ``asyncio.Runner.run`` (and
``uvloop.run``) to start
one task beside the server's: a tick every ``TICK`` seconds that notes how late
it woke. A late tick is a stall of the event loop; for each it keeps what the
loop's own thread spent on the CPU meanwhile, what the process's other threads
(the SQLite writer, the WAL checkpointer) spent, and the garbage collections
that ran in it (``gc.callbacks``); it also notes when each full collection
began and when the server froze or thawed its heap (``gc.freeze``). That
tells a stall the loop worked through (a long batch, a full collection) from
one where it waited for the core (the writer on the same pinned CPU, or
another process). At exit it writes JSON.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import json
import os
import time
from typing import Any

TICK = 0.002  # seconds between ticks: the resolution of a stall
STALL = 0.004  # seconds late past which a tick is a stall

_output = os.environ.get("MULTICHAT_STALL_PROBE")
_collections: list[tuple[int, int, int]] = []  # (start ns, end ns, generation)
_full: list[tuple[int, float]] = []  # full collections: (wall clock ns at the start, ms)
_freezes: list[tuple[int, str, int]] = []  # (wall clock ns, "freeze"/"unfreeze", frozen after)
_stalls: list[dict[str, Any]] = []
_state = {"ticks": 0, "gc_started": 0, "gc_started_wall": 0}


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    now = time.perf_counter_ns()
    if phase == "start":
        _state["gc_started"] = now
        _state["gc_started_wall"] = time.time_ns()
    else:
        generation = int(info.get("generation", -1))
        _collections.append((_state["gc_started"], now, generation))
        if generation == 2:
            _full.append((_state["gc_started_wall"], (now - _state["gc_started"]) / 1e6))


def _noting(name: str, act: Any) -> Any:
    """``gc.freeze`` or ``gc.unfreeze``, noting when the server called it."""
    def noted() -> None:
        act()
        _freezes.append((time.time_ns(), name, gc.get_freeze_count()))
    return noted


async def _watch() -> None:
    while True:
        wall0, own0, all0 = (time.perf_counter_ns(), time.thread_time_ns(),
                             time.process_time_ns())
        await asyncio.sleep(TICK)
        wall1, own1, all1 = (time.perf_counter_ns(), time.thread_time_ns(),
                             time.process_time_ns())
        _state["ticks"] += 1
        late = (wall1 - wall0) / 1e9 - TICK
        if late > STALL:
            gcs = [(e - s) / 1e6 for s, e, g in _collections[-20:] if s >= wall0 and e <= wall1]
            gens = [g for s, e, g in _collections[-20:] if s >= wall0 and e <= wall1]
            _stalls.append({"at_ns": time.time_ns(), "late_ms": late * 1000,
                            "loop_cpu_ms": (own1 - own0) / 1e6,
                            "other_threads_cpu_ms": ((all1 - all0) - (own1 - own0)) / 1e6,
                            "gc_ms": sum(gcs), "gc_generations": gens})


def _wrap(run: Any) -> Any:
    def probed(main: Any, *args: Any, **kwargs: Any) -> Any:
        async def with_watch() -> Any:
            watcher = asyncio.ensure_future(_watch())
            try:
                return await main
            finally:
                watcher.cancel()
        return run(with_watch(), *args, **kwargs)
    return probed


def _write() -> None:
    full = [(e - s) / 1e6 for s, e, g in _collections if g == 2]
    with open(f"{_output}.{os.getpid()}", "w") as out:  # one file per process
        json.dump({"ticks": _state["ticks"], "stalls": _stalls, "collections": len(_collections),
                   "gen2_ms": full, "full_collections": _full, "freezes": _freezes,
                   "tracked_objects": len(gc.get_objects())}, out)


if _output:
    gc.callbacks.append(_on_gc)
    gc.freeze, gc.unfreeze = _noting("freeze", gc.freeze), _noting("unfreeze", gc.unfreeze)
    asyncio.run = _wrap(asyncio.run)
    _runner_run = asyncio.Runner.run
    asyncio.Runner.run = lambda self, main, **kw: _wrap(  # type: ignore[method-assign]
        lambda coro: _runner_run(self, coro, **kw))(main)
    try:
        import uvloop

        uvloop.run = _wrap(uvloop.run)
    except ImportError:
        pass
    atexit.register(_write)
