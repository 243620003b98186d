"""The cluster against its peer: three processes on PostgreSQL + Redis behind nginx.

    .venv/bin/python -m bench --only cluster [--quick] [--rates 20 200 ...] [--profile]

Three sides, one after the other, each on a server side of its own started
for it and pinned to CPU 0 (the load generator on CPU 1):

- **Multichat cluster**: three ``multichat serve`` processes on one
  PostgreSQL and one Redis, behind nginx with the HTTP block of
  docs/operations.md;
- **Channels cluster**: the seed's consumer (bench/channels_peer/) in three
  daphne workers on channels_redis, with the same PostgreSQL, Redis and
  nginx set-up;
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

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bench import proc, services
from bench import profile as bench_profile

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SERVER_CPU, LOAD_CPU = {0}, {1}
PROCESSES = 3
CLIENTS, ROOMS, SENDERS = 200, 4, 20
LISTENING = re.compile(r"listening on \S+:(\d+)")
KEEPS_UP = 0.95  # below this share of the offered deliveries a step is saturated
PROFILE_WINDOW = 20.0  # seconds measured at each step with --profile
# Samples a second with --profile (py-spy runs on the load generator's core, not the servers').
PROFILE_RATE = 1000
# Limits the benchmark lifts (it measures throughput, not the flood limits), as bench/__main__.
UNLIMITED = ("USER_SEND_BURST", "USER_SEND_RATE", "COMMAND_BURST", "COMMAND_RATE",
             "USER_JOIN_BURST", "USER_JOIN_RATE", "LOGIN_SPRAY_NAMES")
SERVE_FLAGS = ("--send-burst", "1000000", "--send-rate", "1000000",
               "--login-free-failures", "1000000", "--max-output-bytes", str(64 * 2**20),
               "--no-advertise")

Stepper = Callable[..., list[dict[str, Any]]]
Groups = dict[str, list[int]]


def pinned(cpus: set[int]) -> Callable[[], None]:
    def setup() -> None:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        usable = os.sched_getaffinity(0)
        if len(usable) >= 2:
            os.sched_setaffinity(0, cpus & usable or usable)
    return setup


server_setup, load_setup = pinned(SERVER_CPU), pinned(LOAD_CPU)


def rates_for(quick: bool) -> list[int]:
    """Messages per second (x50 deliveries): from 1,000 deliveries/s up."""
    return [20, 200, 800] if quick else [20, 100, 200, 400, 800, 1200, 1600, 2400]


# -- the server sides ------------------------------------------------------------------------


@contextlib.contextmanager
def data_services(work: Path, database: str, pg_settings: dict[str, str] | None = None,
                  ) -> Iterator[tuple[services.Service, services.Service, str]]:
    """PostgreSQL (with ``database`` created) and Redis, started fresh."""
    with services.postgres(server_setup, pg_settings) as pg, \
            services.redis(work / "redis", server_setup) as rd:
        services.execute(services.postgres_url(pg), f'CREATE DATABASE "{database}"')
        yield pg, rd, services.postgres_url(pg, database)


def seed_multichat(url: str, users: int, rooms: int) -> None:
    """Accounts u0..uN with a saved login each (``bench-token-N``) and rooms 1..R, as
    bench/__main__.seed does for SQLite."""
    from multichat.server.chat.passwords import Passwords
    from multichat.server.chat.tokens import token_hash
    from multichat.server.store import Store

    store = Store.open(url)
    try:
        password_hash = Passwords().hash("pw")
        for i in range(users):
            user = store.create_user(f"u{i}", password_hash)
            store.add_token(user.id, token_hash(f"bench-token-{i}"), expires_ms=2**62)
        for r in range(1, rooms + 1):
            store.create_room(f"Room {r}")
    finally:
        store.close()


def said_listening(log: Path) -> Callable[[], bool]:
    """Whether the server's start line is in its log: it listens."""
    return lambda: bool(LISTENING.search(log.read_text(errors="replace")))


@contextlib.contextmanager
def multichat_processes(work: Path, tree: Path, database: str,
                        broker: str) -> Iterator[list[services.Service]]:
    """Three ``multichat serve`` on the database and broker, as docs/operations.md runs them
    behind nginx http (the proxy trusted for X-Forwarded-For)."""
    env = {**os.environ, "MULTICHAT_TRUSTED_PROXIES": "127.0.0.1",
           "MULTICHAT_MAX_CONNECTIONS_PER_ADDRESS": "0",
           **{f"MULTICHAT_{name}": "1000000" for name in UNLIMITED}}
    with contextlib.ExitStack() as stack:
        processes = []
        for n in range(PROCESSES):
            port = services.free_port()
            log = work / f"multichat-{n}.log"
            service = stack.enter_context(services.running(
                f"multichat {n}",
                [sys.executable, "-m", "multichat", "serve", "--host", "127.0.0.1",
                 "--port", str(port), "--database", database, "--broker", broker,
                 *SERVE_FLAGS],
                port, log, server_setup, env=env, ready=said_listening(log), cwd=tree))
            processes.append(service)
        yield processes
        for n in range(PROCESSES):
            text = (work / f"multichat-{n}.log").read_text(errors="replace")
            if "Traceback" in text:
                print(f"  ! multichat {n} logged an error:\n{text[-3000:]}")


@contextlib.contextmanager
def multichat_side(work: Path, tree: Path, pg_settings: dict[str, str] | None = None,
                   ) -> Iterator[tuple[str, Groups, Any]]:
    """The Multichat cluster, seeded; yields the URL, the process groups, the counters."""
    work.mkdir(parents=True, exist_ok=True)
    with data_services(work, "multichat", pg_settings) as (pg, rd, database):
        seed_multichat(database, CLIENTS, ROOMS)
        with multichat_processes(work, tree, database, services.redis_url(rd)) as servers, \
                services.nginx(work / "nginx", [s.port for s in servers], server_setup) as lb, \
                Counters(pg, rd) as counters:
            groups = {"servers": [s.pid for s in servers], "postgres": [pg.pid],
                      "redis": [rd.pid], "nginx": [lb.pid]}
            yield f"ws://127.0.0.1:{lb.port}/", groups, counters


@contextlib.contextmanager
def channels_side(work: Path) -> Iterator[tuple[str, Groups, Any]]:
    """Three daphne workers of the seed's consumer on channels_redis, behind nginx."""
    work.mkdir(parents=True, exist_ok=True)
    with data_services(work, "peer") as (pg, rd, database):
        env = {**os.environ, "PEER_DATABASE": database, "PEER_REDIS": services.redis_url(rd),
               "DJANGO_SETTINGS_MODULE": "bench.channels_peer.settings"}
        subprocess.run([sys.executable, "-m", "bench.channels_peer.prepare", str(ROOMS)],
                       cwd=ROOT, env=env, check=True, timeout=120)
        with contextlib.ExitStack() as stack:
            workers = []
            for n in range(PROCESSES):
                port = services.free_port()
                workers.append(stack.enter_context(services.running(
                    f"daphne {n}",
                    [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                     "--proxy-headers", "bench.channels_peer.asgi:application"],
                    port, work / f"daphne-{n}.log", server_setup, env=env, cwd=ROOT)))
            lb = stack.enter_context(services.nginx(work / "nginx", [w.port for w in workers],
                                                    server_setup))
            counters = stack.enter_context(Counters(pg, rd))
            groups = {"servers": [w.pid for w in workers], "postgres": [pg.pid],
                      "redis": [rd.pid], "nginx": [lb.pid]}
            yield f"ws://127.0.0.1:{lb.port}/", groups, counters


# -- measuring -------------------------------------------------------------------------------


class Counters:
    """Redis commands and PostgreSQL transactions so far, read on a connection kept open
    (a new one would start a backend inside the window)."""

    def __init__(self, pg: services.Service, rd: services.Service) -> None:
        self.pg_url, self.redis_port = services.postgres_url(pg), rd.port
        self.conn: Any = None

    def __enter__(self) -> Counters:
        import psycopg

        self.conn = psycopg.connect(self.pg_url, autocommit=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def read(self) -> dict[str, Any]:
        # The next transaction id to be given: one per write transaction, none per read.
        xid, commits = self.conn.execute(
            "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint,"
            " (SELECT sum(xact_commit) FROM pg_stat_database)::bigint").fetchone()
        return {"redis": services.redis_commands(self.redis_port), "xid": xid,
                "commits": commits}


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


# Where a sample of the three processes goes: the first category with a frame in its stack.
# Delivering to this process's own sockets comes first: one process does that too.
CATEGORIES = [(name, re.compile(pattern)) for name, pattern in (
    ("closing the clients' connections (just after the window)",
     r"Connection\.close\b|write_eof|connection_lost"),
    ("delivering to this process's sockets", r"Session\.deliver|WebSocketPeer\.send"),
    ("storing: the writer's transaction on PostgreSQL", r"writer\.py|psycopg/|peewee\.py"),
    ("Redis: receiving and decoding other processes' events",
     r"_subscription|PubSub\.|push_response"),
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


def print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n## {title}")
    if not rows:
        return
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(_fmt(row.get(key)) for key in keys) + " |")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)


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
