"""The cluster against its peer: three processes on PostgreSQL + Redis behind nginx.

    .venv/bin/python -m bench --only cluster [--quick] [--rates 20 200 ...] [--profile]

Three sides, one after the other, each on a server side of its own started
for it and pinned to CPU 0 (the load generator on CPU 1):

- **Multichat cluster**: three ``multichat serve`` processes on one
  PostgreSQL and one Redis, behind nginx with the HTTP block of
  docs/operations.md, its upstream the processes' Unix sockets (``serve
  --unix``: the checkout of ``--multichat-from`` must have it);
- **Channels cluster**: the seed's consumer (bench/channels_peer/) in three
  daphne workers on channels_redis, with the same PostgreSQL, Redis and
  nginx set-up, the workers on Unix sockets too (``daphne -u``);
- **one process**: Multichat alone on SQLite, as the fan-out scenario runs it.

The same fan-out (bench/load.py: 200 clients in 4 rooms, 20 senders) steps up
to each side's first saturated step. The figure is deliveries per CPU-second
of *everything* on the server side: each process tree (the servers,
PostgreSQL with all its backends and workers, Redis, nginx's master and
worker) is read from /proc as the window opens and closes (bench/proc.py).
Over the same window Redis's command counts and PostgreSQL's transaction ids
give the round trips and write transactions per message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import services
from bench.cluster_measure import RESULTS, measured_load, print_profiles, saturated
from bench.cluster_sides import CLIENTS, ROOMS, SENDERS, channels_side, multichat_side
from bench.tables import print_table as print_rows

PROFILE_WINDOW = 20.0  # seconds measured at each step with --profile

Stepper = Callable[..., list[dict[str, Any]]]


def rates_for(quick: bool) -> list[int]:
    """Messages per second (x50 deliveries): from 1,000 deliveries/s up."""
    return [20, 200, 800] if quick else [20, 100, 200, 400, 800, 1200, 1600, 2400]


def stepped(side: str, started: Any, *, rates: list[int], duration: float, warmup: float,
            profile_pids: bool = False) -> list[dict[str, Any]]:
    """One side at rising rates, up to its first saturated step."""
    rows = []
    frames = "seed" if side == "channels cluster" else "compact"
    with started as (url, groups, counters):
        for rate in rates:
            params = {"clients": CLIENTS, "rooms": ROOMS, "senders": SENDERS, "rate": rate,
                      "duration": duration, "warmup": warmup, "frames": frames}
            outputs = [RESULTS / f"profile-cluster-{n}-{rate}.txt"
                       for n in range(len(groups["servers"]))]
            profiles = list(zip(groups["servers"], outputs, strict=True)) if profile_pids else []
            row = {"side": side, "rate": rate,
                   **measured_load(url, params, groups, counters, profiles)}
            if profile_pids:
                print_profiles(outputs)
            row["saturated"] = saturated(row)
            rows.append(row)
            if row["saturated"]:
                break
    return rows


def one_process_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """bench/__main__'s single-server rows in this scenario's columns."""
    return [{"side": "one process", "rate": row["rate"],
             "offered_deliveries_per_s": row["offered_deliveries_per_s"],
             "deliveries_per_s": row["deliveries_per_s"], "loss": row["loss"],
             "server_side_cpu_share": row["server_cpu_share"],
             "deliveries_per_server_cpu_s": row["deliveries_per_server_cpu_s"],
             "cpu_servers": row["server_cpu_share"],
             "p50_ms": row["p50_ms"], "p99_ms": row["p99_ms"],
             "loadgen_cpu_share": row["loadgen_cpu_share"], "saturated": row["saturated"]}
            for row in rows]


# -- comparison ------------------------------------------------------------------------------


def compare(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At each rate: the cluster against Channels (target >= 5x) and against one process
    (cost per delivery, target <= 2x)."""
    by = {(row["side"], row["rate"]): row for row in rows}
    out = []
    for row in rows:
        if row["side"] != "multichat cluster" or not row["deliveries_per_s"]:
            continue
        peer, single = by.get(("channels cluster", row["rate"])), by.get(("one process",
                                                                           row["rate"]))
        ours = row["deliveries_per_server_cpu_s"]
        out.append({
            "rate": row["rate"],
            "deliveries_per_s": row["offered_deliveries_per_s"],
            "cluster_per_cpu_s": ours,
            "channels_per_cpu_s": peer["deliveries_per_server_cpu_s"] if peer else None,
            "x_channels": ours / peer["deliveries_per_server_cpu_s"] if peer else None,
            "one_process_per_cpu_s": single["deliveries_per_server_cpu_s"] if single else None,
            "cost_x_one_process": single["deliveries_per_server_cpu_s"] / ours
            if single else None,
        })
    return out


def saturation(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each side's most deliveries per second kept up with, and its first saturated step."""
    out = []
    for side in ("multichat cluster", "channels cluster", "one process"):
        mine = [row for row in rows if row["side"] == side]
        if not mine:
            continue
        kept = [row for row in mine if not row["saturated"]]
        first = next((row for row in mine if row["saturated"]), None)
        out.append({"side": side,
                    "kept_up_to_deliveries_per_s": max(
                        (row["deliveries_per_s"] for row in kept), default=0.0),
                    "first_saturated_rate": first["rate"] if first else None,
                    "delivered_there_per_s": first["deliveries_per_s"] if first else None,
                    "loss_there": first["loss"] if first else None})
    return out


def run(options: Any, work: Path, *, single: Stepper, tree: Path) -> list[dict[str, Any]]:
    """The scenario: ``single`` is bench/__main__'s one-server stepper, ``tree`` the
    checkout the Multichat processes run from."""
    missing = services.missing()
    if missing:
        print(f"! the cluster scenario is skipped: {', '.join(missing)} not installed"
              " (Debian: postgresql redis-server nginx; pip: the bench extra)")
        return []
    rates = options.rates or rates_for(options.quick)
    duration, warmup = (2.0, 0.5) if options.quick else (4.0, 1.0)
    if options.profile:
        # At light load a few seconds hold few samples of work (py-spy --gil counts
        # only the moments a thread holds the GIL).
        duration = PROFILE_WINDOW
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = stepped("multichat cluster", multichat_side(work / "cluster-multichat", tree),
                   rates=rates, duration=duration, warmup=warmup, profile_pids=options.profile)
    rows += stepped("channels cluster", channels_side(work / "cluster-channels"),
                    rates=rates, duration=duration, warmup=warmup)
    rows += one_process_rows(single("multichat", work / "cluster-single", clients=CLIENTS,
                                    rooms=ROOMS, senders=SENDERS, rates=rates,
                                    duration=duration, warmup=warmup))
    print_rows("cluster: at each rate, against Channels and against one process", compare(rows))
    print_rows("cluster: saturation of each side", saturation(rows))
    return [{**row, "redis_calls": json.dumps(row["redis_calls"])} if "redis_calls" in row
            else row for row in rows]
