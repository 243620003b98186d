"""One step of the cluster bench: the fan-out run, the server side read at its window's edges.

bench/load.py announces its window; the harness then snapshots every
server-side process tree (bench/proc.py) and the Redis and PostgreSQL
counters, and with ``--profile`` samples the servers with py-spy over the
window only.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import proc
from bench import profile as bench_profile
from bench.cluster_sides import ROOT, Counters, Groups, load_setup

RESULTS = ROOT / "bench" / "results"
KEEPS_UP = 0.95  # below this share of the offered deliveries a step is saturated
# Samples a second with --profile (py-spy runs on the load generator's core, not the servers').
PROFILE_RATE = 1000


def window_counts(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Redis calls per command (the harness's own INFO left out) and PostgreSQL write
    transactions and commits, between two ``Counters.read``."""
    calls = {name: after["redis"][name] - before["redis"].get(name, 0)
             for name in after["redis"] if name not in ("total", "info")}
    calls = {name: n for name, n in calls.items() if n}
    return {"redis_calls": calls, "redis_total": sum(calls.values()),
            "pg_write_xacts": after["xid"] - before["xid"],
            # pg_stat_database is flushed by each backend about once a second: approximate.
            "pg_commits": after["commits"] - before["commits"]}


def measured_load(url: str, params: dict[str, Any], groups: Groups, counters: Counters,
                  profiles: Sequence[tuple[int, Path]] = ()) -> dict[str, Any]:
    """Run bench/load.py's fan-out; at its window's edges snapshot every server-side process.

    ``profiles`` (pid, output) are sampled with py-spy over the window only
    (not the clients' logins and joins before it).
    """
    command = [sys.executable, "-m", "bench.load", "fanout", url,
               json.dumps({**params, "announce": True})]
    with open(RESULTS / "load-stderr.log", "w") as errors, \
            contextlib.ExitStack() as sampling:
        load = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True,
                                cwd=ROOT, preexec_fn=load_setup)
        assert load.stdout is not None
        edges: list[tuple[float, proc.Snapshot, dict[str, Any]]] = []
        result: dict[str, Any] | None = None
        for line in load.stdout:
            if line.startswith("WINDOW "):
                # Read first, then start or stop the samplers: their start-up and
                # flushing stay out of the window.
                edges.append((time.monotonic(), proc.snapshot(groups), counters.read()))
                if line.strip() == "WINDOW start":
                    for pid, output in profiles:
                        sampling.enter_context(bench_profile.recording(
                            pid, output, rate=PROFILE_RATE, setup=load_setup))
                else:
                    sampling.close()
            elif line.startswith("RESULT "):
                result = json.loads(line[len("RESULT "):])
        load.wait(60)
    if result is None or len(edges) != 2:
        raise RuntimeError("load generator failed: "
                           + (RESULTS / "load-stderr.log").read_text()[-3000:])
    (t0, cpu0, count0), (t1, cpu1, count1) = edges
    return summarize(result, proc.used_seconds(cpu0, cpu1), t1 - t0,
                     window_counts(count0, count1), params["rate"] * params["duration"])


def summarize(result: dict[str, Any], cpu: dict[str, float], seconds: float,
              counts: dict[str, Any], messages: float) -> dict[str, Any]:
    """One step's row: efficiency over the whole server side, where the CPU went, per message."""
    total = sum(cpu.values())
    share = total / seconds

    def per_message(count: float) -> float | None:
        return count / messages if messages else None

    return {
        "offered_deliveries_per_s": result["offered_deliveries_per_s"],
        "deliveries_per_s": result["deliveries_per_s"],
        "loss": result["loss"],
        "server_side_cpu_share": share,
        "deliveries_per_server_cpu_s": result["deliveries_per_s"] / share
        if share > 0 else float("nan"),
        **{f"cpu_{name}": used / seconds for name, used in cpu.items()},
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "redis_cmds_per_msg": per_message(counts["redis_total"]),
        "pg_write_xacts_per_msg": per_message(counts["pg_write_xacts"]),
        "pg_commits_per_msg": per_message(counts["pg_commits"]),
        "redis_calls": counts["redis_calls"],
        "loadgen_cpu_share": result["loadgen_cpu_share"],
    }


def saturated(row: dict[str, Any]) -> bool:
    return bool(row["deliveries_per_s"] < KEEPS_UP * row["offered_deliveries_per_s"]
                or row["loss"] > 0)


# Delivering to this process's own sockets comes first: one process does that too.
CATEGORIES = [(name, re.compile(pattern)) for name, pattern in (
    ("closing the clients' connections (just after the window)",
     r"Connection\.close\b|write_eof|connection_lost"),
    ("delivering to this process's sockets", r"Session\.deliver|WebSocketPeer\.send"),
    ("storing: the writer's transaction on PostgreSQL", r"writer\.py|psycopg/|peewee\.py"),
    ("Redis: receiving and decoding other processes' events",
     r"_subscription|PubSub\.|push_response|redis_subscriber\.py|broker/resp\.py"),
    ("Redis: publishing", r"_publisher"),
    ("Redis: presence, heartbeat, stacks cut short", r"redis/|redis_broker\.py"),
    ("chat rules, commands' and events' JSON", r"multichat/(protocol|server/chat)/"),
    ("reading clients' frames", r"websockets/|multichat/server/net/"),
    ("event loop: select, wake-ups, callbacks", r"asyncio/|selectors\.py"),
)]


def print_profiles(outputs: list[Path]) -> None:
    combined = outputs[0].with_name(outputs[0].name.replace("-0-", "-all-"))
    combined.write_text("".join(path.read_text() for path in outputs if path.exists()))
    print(f"\n  profile of the three processes over the window: {combined} (collapsed stacks)")
    print("  by what the work is for:")
    for share, name in bench_profile.breakdown(combined, CATEGORIES):
        print(f"  {share:6.1%}  {name}")
    print("  most samples of their own:")
    for share, name in bench_profile.top_functions(combined, 20):
        print(f"  {share:6.1%}  {name}")
