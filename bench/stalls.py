"""Where latency outliers come from: the fan-out with a stall recorder in the server.

    .venv/bin/python -m bench.stalls [--rates 1400 2000] [--repeats 5] [--no-probe]

Runs the fan-out scenario (200 clients, 4 rooms, 20 senders, 5 s windows)
against Multichat with bench/stall_probe/sitecustomize.py loaded into the
server, and for each run prints p50/p99 with the event loop's stalls (ticks
that woke more than 4 ms late) sorted by cause:

- **gc**: a garbage collection took most of the stall;
- **loop busy**: the loop's own thread was on the CPU most of it (a long
  batch of work);
- **threads**: the server's other threads (SQLite writer, checkpointer) ran
  on the server's core meanwhile;
- **off CPU**: none of these; the process waited for its core (another
  process on it, or the kernel).

The probe ticks every 2 ms, which costs the server a little CPU, so use the
figures for causes, not for efficiency (``--no-probe`` runs the same without
it, to compare the p99).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.__main__ import run_load, seed, server

PROBE_DIR = Path(__file__).resolve().parent / "stall_probe"


def cause(stall: dict[str, Any]) -> str:
    late = stall["late_ms"]
    if stall["gc_ms"] >= 0.5 * late:
        return "gc"
    if stall["loop_cpu_ms"] >= 0.6 * late:
        return "loop busy"
    if stall["other_threads_cpu_ms"] >= 0.4 * late:
        return "threads"
    return "off CPU"


def one_run(work: Path, rate: int, probe: bool) -> dict[str, Any]:
    data = work / "data"
    report = work / "stalls.json"
    settings = {"PYTHONPATH": str(PROBE_DIR), "MULTICHAT_STALL_PROBE": str(report)} if probe else {}
    with server("multichat", data, settings=settings) as process:
        result = run_load("fanout", process.port,  # type: ignore[attr-defined]
                          {"clients": 200, "rooms": 4, "senders": 20, "rate": rate,
                           "duration": 5.0, "warmup": 1.0, "server_pid": process.pid})
    summary: dict[str, Any] = {"rate": rate, "p50_ms": result["p50_ms"],
                               "p99_ms": result["p99_ms"], "loss": result["loss"],
                               "per_cpu_s": result["deliveries_per_server_cpu_s"]}
    if probe:
        found = json.loads(Path(f"{report}.{process.pid}").read_text())
        stalls = found["stalls"]
        by_cause: dict[str, list[float]] = {}
        for stall in stalls:
            by_cause.setdefault(cause(stall), []).append(stall["late_ms"])
        summary["stalls"] = {k: (len(v), round(max(v), 1)) for k, v in by_cause.items()}
        summary["gen2"] = (len(found["gen2_ms"]), round(max(found["gen2_ms"], default=0), 1))
        summary["tracked_objects"] = found.get("tracked_objects")
        summary["worst"] = sorted(stalls, key=lambda s: -s["late_ms"])[:3]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="*", default=[1400])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-probe", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="multichat-stalls-") as tmp:
        work = Path(tmp)
        seed(work / "data", 200, 4)
        for rate in args.rates:
            p99s = []
            for _ in range(args.repeats):
                row = one_run(work, rate, not args.no_probe)
                p99s.append(row["p99_ms"])
                print(json.dumps(row, default=str), flush=True)
            print(f"rate {rate}: p99 median {statistics.median(p99s):.1f} ms, "
                  f"max {max(p99s):.1f} ms over {len(p99s)} runs", flush=True)


if __name__ == "__main__":
    main()
