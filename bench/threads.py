"""The fan-out's server CPU by thread: the loop, the writer, the checkpointer, the rest.

    python -m bench.threads --rates 0 200 800 [--multichat-from CHECKOUT]

The same scenario as ``python -m bench --only fanout`` (200 clients in 4 rooms,
20 senders, the server pinned to CPU 0 and the generator to CPU 1); over each
step's window it reads ``/proc/PID/task/*/stat`` of the Multichat server and
names each thread by what py-spy reports (``py-spy dump``), so the fixed cost
of a message can be split between the event loop's thread and the writer's.
Rate 0 is the 200 joined clients idle: what the server spends with no message.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import bench.__main__ as harness

TICKS = os.sysconf("SC_CLK_TCK")


def thread_ticks(pid: int) -> dict[int, int]:
    """utime + stime of each thread of ``pid``, in clock ticks."""
    ticks = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[int(task.name)] = int(fields[11]) + int(fields[12])
    return ticks


def thread_names(pid: int) -> dict[int, str]:
    """OS thread id -> Python thread name, from ``py-spy dump --json``."""
    py_spy = Path(sys.executable).with_name("py-spy")
    try:
        dump = subprocess.run([str(py_spy), "dump", "--json", "--pid", str(pid)],
                              capture_output=True, text=True, timeout=30, check=False).stdout
        threads = json.loads(dump)
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return {}
    return {thread["os_thread_id"]: thread.get("thread_name") or "?"
            for thread in threads if thread.get("os_thread_id")}


def step(process: subprocess.Popen[str], rate: int, duration: float,
         warmup: float, perf: Path | None = None) -> dict[str, Any]:
    """One step: the load generator announces its window; threads are read at its ends."""
    params = {"clients": 200, "rooms": 4, "senders": 20, "rate": rate, "duration": duration,
              "warmup": warmup, "server_pid": process.pid, "announce": True}
    load = subprocess.Popen(
        [sys.executable, "-m", "bench.load", "fanout",
         f"ws://127.0.0.1:{process.port}", json.dumps(params)],  # type: ignore[attr-defined]
        stdout=subprocess.PIPE, text=True, cwd=harness.ROOT, preexec_fn=harness._load_setup)
    assert load.stdout is not None
    before: dict[int, int] = {}
    after: dict[int, int] = {}
    result: dict[str, Any] = {}
    recorder: subprocess.Popen[bytes] | None = None
    for line in load.stdout:
        if line.startswith("WINDOW start"):
            before = thread_ticks(process.pid)
            if perf is not None:  # the kernel's and SQLite's C frames too, which py-spy skips
                recorder = subprocess.Popen(
                    ["perf", "record", "-q", "-e", "cpu-clock", "-F", "2000", "-g",
                     "-p", str(process.pid), "-o", f"{perf}-{rate}.data"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    preexec_fn=harness._load_setup)
        elif line.startswith("WINDOW end"):
            after = thread_ticks(process.pid)
            if recorder is not None:
                recorder.send_signal(signal.SIGINT)
                recorder.wait(60)
        elif line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    load.wait()
    names = thread_names(process.pid)
    threads: dict[str, float] = {}
    for tid, ticks in after.items():
        name = "loop" if tid == process.pid else names.get(tid, f"thread {tid}")
        used = (ticks - before.get(tid, 0)) / TICKS / duration
        threads[name] = threads.get(name, 0.0) + used
    return {"rate": rate, "threads": threads,
            "deliveries_per_s": result.get("deliveries_per_s"),
            "server_cpu_share": result.get("server_cpu_share"),
            "deliveries_per_server_cpu_s": result.get("deliveries_per_server_cpu_s"),
            "p99_ms": result.get("p99_ms")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[0, 200, 800])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--server", choices=harness.SERVERS, default="multichat")
    parser.add_argument("--multichat-from", type=Path)
    parser.add_argument("--perf", type=Path, help="record `perf` samples of each window "
                        "to PERF-<rate>.data (perf report -i ...)")
    options = parser.parse_args()
    if options.multichat_from:
        harness.multichat_tree = options.multichat_from.resolve()
    harness.raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="bench-threads-") as work:
        data = Path(work) / "fanout"
        harness.seed(data, 200, 4)
        with harness.server(options.server, data) as process:
            for rate in options.rates:
                row = step(process, rate, options.duration, options.warmup, options.perf)
                share = row["server_cpu_share"] or 0.0
                per_message = (f", {share / rate * 1e3:.2f} ms a message" if rate else "")
                split = ", ".join(f"{name} {used:.3f}" for name, used in
                                  sorted(row["threads"].items(), key=lambda kv: -kv[1]))
                print(f"{rate:>5} msg/s: core {share:.3f}{per_message}; {split}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
