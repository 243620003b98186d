"""Multichat's benchmarks, side by side with the Python ceiling.

    .venv/bin/python -m bench [--quick] [--json PATH] [--only NAME ...]
                              [--rates N ...] [--servers multichat|ceiling ...]

Each scenario starts its server (Multichat, and for fan-out also the bare
websockets ceiling in bench/ceiling.py) as a process pinned to CPU 0, and the
load generator (bench/load.py) as another process pinned to CPU 1. A table
goes to stdout and every figure to a JSON file (bench/results/latest.json).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import cluster as bench_cluster
from bench import profile as bench_profile
from bench import search as search_bench
from bench import sqlite_modes
from bench import storm as bench_storm
from bench.tables import print_table
from multichat.protocol import MsgType
from multichat.server.chat.passwords import Passwords
from multichat.server.chat.tokens import token_hash
from multichat.server.store import Store
from multichat.server.store.records import NewMessage

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# The checkout the Multichat server runs from: this one, or another for an A/B run
# (--multichat-from; `python -m multichat` imports the package of its working dir).
multichat_tree = ROOT
SERVERS = ("multichat", "ceiling")
SERVER_CPU, LOAD_CPU = {0}, {1}
# The server's start line, which also names the port. tests/helpers/process.py reads it
# too: bench/ is a harness of its own and imports nothing of tests/ (an A/B run uses an
# older checkout's server with this harness), so the few lines stand in both.
LISTENING = re.compile(r"listening on \S+:(\d+)")
GENERATOR_SATURATED = 0.9  # of one core: past this the generator, not the server, may limit


@dataclass(frozen=True)
class Options:
    """What the command line chose: size, and for the fan-out scenarios rates and servers."""

    quick: bool = False
    rates: list[int] | None = None
    servers: tuple[str, ...] = SERVERS
    profile: bool = False


def pinned(cpus: set[int]) -> Any:
    usable = os.sched_getaffinity(0)
    if len(usable) < 2:
        return None
    return lambda: os.sched_setaffinity(0, cpus & usable or usable)


def free_port() -> int:
    """A free loopback port (the ceiling server takes its port as an argument)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def raise_fd_limit() -> None:
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def seed(data_dir: Path, users: int, rooms: int = 4, messages: int = 0) -> None:
    """Accounts u0..uN with password "pw" and a saved login each, rooms 1..R, history.

    The password hash is made once with the server's own parameters (a login
    with it costs what a real one does, and is not rehashed); each account also
    gets the token ``bench-token-N``, which the clients log in with, as
    returning clients do.
    """
    store = Store.open_data_dir(data_dir)
    try:
        password_hash = Passwords().hash("pw")
        with store.db.atomic():  # one commit, not two per account (10,000 took 70 s)
            for i in range(users):
                user = store.create_user(f"u{i}", password_hash)
                store.add_token(user.id, token_hash(f"bench-token-{i}"), expires_ms=2**62)
        for r in range(1, rooms + 1):
            store.create_room(f"Room {r}")
        batch = 5_000
        for start in range(0, messages, batch):
            store.append_messages([
                NewMessage(1, 1, "u0", MsgType.MESSAGE, f"history {n}", None, n)
                for n in range(start, min(messages, start + batch))
            ])
    finally:
        store.close()


def seed_many_messages(data_dir: Path, total: int) -> None:
    """A room holding ``total`` messages, written straight into SQLite (fast)."""
    db = sqlite3.connect(data_dir / "multichat.sqlite3")
    rows = ((1, n, 1, "u0", 0, f"history message {n}", None, n) for n in range(1, total + 1))
    db.executemany(
        "INSERT INTO message (room_id, seq, account_id, username, msg_type, text, client_id,"
        " ts_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.execute("UPDATE room SET last_seq = ? WHERE id = 1", (total,))
    db.commit()
    db.close()


@contextlib.contextmanager
def server(kind: str, data_dir: Path, extra: tuple[str, ...] = (),
           settings: dict[str, str] | None = None, *,
           limits: bool = False) -> Iterator[subprocess.Popen[str]]:
    """Start a server; ``settings`` are MULTICHAT_* variables (ignored by older trees).

    Its flood and connection limits are lifted, unless ``limits`` (the defaults then).
    """
    port = free_port()
    if kind == "ceiling":
        command = [sys.executable, "-m", "bench.ceiling", str(port)]
    else:
        command = [sys.executable, "-m", "multichat", "serve", "--host", "127.0.0.1",
                   "--port", str(port), "--data-dir", str(data_dir),
                   # The benchmark measures throughput, not the flood limits.
                   *(() if limits else (
                       "--send-burst", "1000000", "--send-rate", "1000000",
                       "--login-free-failures", "1000000",
                       "--max-output-bytes", str(64 * 2**20))),
                   "--no-advertise",
                   *extra]
    log_path = work_log(data_dir, kind)
    log = log_path.open("w")
    # Limits added later go by environment, which an older tree (--multichat-from) ignores.
    unlimited = ("USER_SEND_BURST", "USER_SEND_RATE", "COMMAND_BURST", "COMMAND_RATE",
                 "USER_JOIN_BURST", "USER_JOIN_RATE", "LOGIN_SPRAY_NAMES")
    env = {**os.environ, **({} if limits else {
        "MULTICHAT_MAX_CONNECTIONS_PER_ADDRESS": "0",
        **{f"MULTICHAT_{name}": "1000000" for name in unlimited}}), **(settings or {})}
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True,
                               cwd=multichat_tree if kind == "multichat" else ROOT,
                               preexec_fn=_server_setup, env=env)
    deadline = time.monotonic() + 60
    while not (match := LISTENING.search(log_path.read_text())):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{kind} server did not start:\n{log_path.read_text()}")
        time.sleep(0.05)
    process.port = int(match.group(1))  # type: ignore[attr-defined]
    try:
        yield process
    finally:
        process.terminate()
        process.wait(60)
        log.close()
        text = log_path.read_text()
        if "Traceback" in text:
            start = max(0, text.index("Traceback") - 300)
            print(f"  ! the {kind} server logged an error:\n{text[start:start + 4000]}")


def work_log(data_dir: Path, kind: str) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir / f"{kind}-server.log"


def die_with_harness() -> None:
    """In a child, before exec: SIGTERM when the harness dies, however it dies.

    A harness killed mid-run (Ctrl-C twice, ``kill``) does not unwind its
    ``server()`` blocks; without this the servers it started, pinned to the
    measured core, would go on running and spoil every later run.
    """
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _server_setup() -> None:
    die_with_harness()
    raise_fd_limit()
    setup = pinned(SERVER_CPU)
    if setup:
        setup()


def _load_setup() -> None:
    die_with_harness()
    raise_fd_limit()
    setup = pinned(LOAD_CPU)
    if setup:
        setup()


def run_load(scenario: str, port: int, params: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.load", scenario, f"ws://127.0.0.1:{port}",
         json.dumps(params)],
        capture_output=True, text=True, cwd=ROOT, preexec_fn=_load_setup, timeout=900,
        check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT "):]))
    raise RuntimeError(f"load generator failed:\n{result.stdout}\n{result.stderr}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# -- scenarios -----------------------------------------------------------------------


# Below this share of the offered deliveries a step is past saturation.
KEEPS_UP = 0.95


def saturated(row: dict[str, Any]) -> bool:
    return bool(row["deliveries_per_s"] < KEEPS_UP * row["offered_deliveries_per_s"]
                or row["loss"] > 0)


def stepped(kind: str, work: Path, *, clients: int, rooms: int, senders: int,
            rates: list[int], duration: float, warmup: float,
            profile: bool = False) -> list[dict[str, Any]]:
    """Fan-out at rising rates, against one server, up to the first saturated step."""
    data = work / f"fanout-{kind}-{clients}-{rooms}"
    seed(data, clients, rooms)
    rows = []
    with server(kind, data) as process:
        for rate in rates:
            params = {"clients": clients, "rooms": rooms, "senders": senders, "rate": rate,
                      "duration": duration, "warmup": warmup, "server_pid": process.pid}
            output = RESULTS / f"profile-{kind}-{clients}-{rate}.txt"
            with (bench_profile.recording(process.pid, output) if profile
                  else contextlib.nullcontext()):
                row = {"server": kind, "clients": clients, "rate": rate,
                       **run_load("fanout", process.port, params)}  # type: ignore[attr-defined]
            if profile:
                print_profile(output)
            row["saturated"] = saturated(row)
            rows.append(row)
            if row["saturated"]:
                break
    return rows


def fanout(options: Options, work: Path) -> list[dict[str, Any]]:
    """200 clients in 4 rooms, 20 senders, rates stepped up to saturation."""
    rates = options.rates or ([200, 800, 1600, 3200] if options.quick else
                              [100, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000,
                               2200, 2400, 2800, 3200, 4000])
    duration, warmup = (2.0, 0.5) if options.quick else (5.0, 1.0)
    return [row for kind in options.servers
            for row in stepped(kind, work, clients=200, rooms=4, senders=20, rates=rates,
                               duration=duration, warmup=warmup, profile=options.profile)]


def big_room(options: Options, work: Path) -> list[dict[str, Any]]:
    """One room of 1,000 clients (300 quick): each message is 1,000 deliveries."""
    clients = 300 if options.quick else 1000
    rates = options.rates or ([20, 80] if options.quick else [10, 20, 40, 60, 80, 100, 120, 160])
    duration, warmup = (2.0, 0.5) if options.quick else (5.0, 1.0)
    return [row for kind in options.servers
            for row in stepped(kind, work, clients=clients, rooms=1, senders=2, rates=rates,
                               duration=duration, warmup=warmup, profile=options.profile)]


def activity(options: Options, work: Path) -> list[dict[str, Any]]:
    """1,000 users in 10 rooms, each joined to one: what activity frames cost per message.

    Every user may see every room, so each message is 100 deliveries to the
    room's members and activity for the 900 users outside it (coalesced: at
    most two frames a second per room and user). Each rate runs twice, one
    server after the other on the same data: without activity
    (``MULTICHAT_ACTIVITY=0``, today's fan-out alone) and with it.
    """
    clients, rooms, senders = 1000, 10, 20
    rates = options.rates or ([100, 400] if options.quick else [50, 100, 200, 400, 800])
    duration, warmup = (2.0, 0.5) if options.quick else (5.0, 1.0)
    data = work / "activity"
    seed(data, clients, rooms)
    rows = []
    for rate in rates:
        for label, settings in (("off", {"MULTICHAT_ACTIVITY": "0"}), ("on", {})):
            with server("multichat", data, settings=settings) as process:
                params = {"clients": clients, "rooms": rooms, "senders": senders, "rate": rate,
                          "duration": duration, "warmup": warmup, "server_pid": process.pid}
                result = run_load("fanout", process.port, params)  # type: ignore[attr-defined]
            rows.append({"activity": label, "rate": rate,
                         "server_cpu_ms_per_msg": result["server_cpu_share"] / rate * 1000,
                         "activity_frames_per_msg": result["activity_frames"]
                         / max(1, result["sent"]), **result})
    return rows


def activity_cost(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Server CPU per message with activity against without, at each rate."""
    off = {r["rate"]: r for r in rows if r["activity"] == "off"}
    return [{"rate": row["rate"],
             "cpu_ms_per_msg_off": off[row["rate"]]["server_cpu_ms_per_msg"],
             "cpu_ms_per_msg_on": row["server_cpu_ms_per_msg"],
             "extra": row["server_cpu_ms_per_msg"] / off[row["rate"]]["server_cpu_ms_per_msg"] - 1,
             "activity_frames_per_msg": row["activity_frames_per_msg"],
             "p99_ms_off": off[row["rate"]]["p99_ms"], "p99_ms_on": row["p99_ms"]}
            for row in rows if row["activity"] == "on" and row["rate"] in off]


def idle(options: Options, work: Path) -> list[dict[str, Any]]:
    """Server memory per idle connection, logged in and joined to a room of 100.

    Without compression at the full size, then with and without it at 1,000
    clients: permessage-deflate keeps a zlib context per connection (the
    server runs without it by default; docs/benchmarks.md).
    """
    runs = [(1000, False), (1000, True)] if options.quick else [(10_000, False), (1000, False),
                                                               (1000, True)]
    return [idle_once(work / f"idle-{clients}-{compression}", clients, compression)
            for clients, compression in runs]


# Idle clients sit in rooms of this many: one room of 10,000 would make every join a
# fan-out to all before it (50 million enter notices), which is not what idle measures.
IDLE_ROOM_SIZE = 100


def idle_once(data: Path, clients: int, compression: bool) -> dict[str, Any]:
    rooms = max(1, clients // IDLE_ROOM_SIZE)
    seed(data, clients, rooms)
    extra = ("--compression",) if compression else ()
    with server("multichat", data, extra) as process:
        before = rss_kib(process.pid)
        load = subprocess.Popen(
            [sys.executable, "-m", "bench.load", "idle",
             f"ws://127.0.0.1:{process.port}",  # type: ignore[attr-defined]
             json.dumps({"clients": clients, "compression": compression, "rooms": rooms})],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
            preexec_fn=_load_setup,
        )
        assert load.stdout is not None and load.stdin is not None
        if load.stdout.readline().strip() != "READY":
            raise RuntimeError("idle clients did not connect")
        time.sleep(1.0)  # let the server settle before reading its memory
        after = rss_kib(process.pid)
        load.stdin.write("DONE\n")
        load.stdin.flush()
        load.communicate(timeout=300)
    return {"clients": clients, "compression": compression, "rss_before_kib": before,
            "rss_after_kib": after, "kib_per_connection": (after - before) / clients}


def history(options: Options, work: Path) -> list[dict[str, Any]]:
    total = 100_000 if options.quick else 1_000_000
    data = work / "history"
    seed(data, 2, 1)
    seed_many_messages(data, total)
    with server("multichat", data) as process:
        result = run_load("history", process.port,  # type: ignore[attr-defined]
                          {"total": total, "requests": 200 if options.quick else 1000})
    return [{"messages_in_room": total, **result}]


def catchup(options: Options, work: Path) -> list[dict[str, Any]]:
    total = 20_000
    data = work / "catchup"
    seed(data, 2, 1)
    seed_many_messages(data, total)
    with server("multichat", data) as process:
        result = run_load("catchup", process.port,  # type: ignore[attr-defined]
                          {"total": total, "missed": 10_000})
    return [result]


def logins(options: Options, work: Path) -> list[dict[str, Any]]:
    storm = 300 if options.quick else 1000
    data = work / "logins"
    seed(data, storm, 1)
    with server("multichat", data) as process:
        result = run_load("logins", process.port,  # type: ignore[attr-defined]
                          {"logins": 500 if options.quick else 3000, "storm": storm})
    return [result]


def login_timing(options: Options, work: Path) -> list[dict[str, Any]]:
    """Failed logins of an unknown user and of a wrong password: no gap to tell them apart.

    The server runs with its real Argon2 parameters and no lock-outs, so every
    attempt is checked.
    """
    data = work / "login_timing"
    seed(data, 1, 1)
    with server("multichat", data) as process:
        result = run_load("login_timing", process.port,  # type: ignore[attr-defined]
                          {"attempts": 30 if options.quick else 300})
    return [result]


def storm(options: Options, work: Path) -> list[dict[str, Any]]:
    """Every client back at once: token login, rejoin with ``since`` (bench/storm.py)."""
    return bench_storm.run(options.quick, work, seed=seed, server=server, setup=_load_setup,
                          profile=options.profile)


def sqlite(options: Options, work: Path) -> list[dict[str, Any]]:
    return sqlite_modes.run(options.quick)


def search(options: Options, work: Path) -> list[dict[str, Any]]:
    """Two-word prefix searches at a million messages (bench/search.py), in one process."""
    return search_bench.run(options.quick)


SCENARIOS = {"fanout": fanout, "big_room": big_room, "activity": activity, "idle": idle,
             "history": history,
             "catchup": catchup, "logins": logins, "login_timing": login_timing,
             "storm": storm,
             "sqlite": sqlite, "search": search,
             "cluster": lambda o, w: bench_cluster.run(o, w, single=stepped, tree=multichat_tree)}


# -- report ------------------------------------------------------------------------------


def generator_loop() -> str:
    """The event loop bench/load.py runs on: uvloop where the bench extra is installed."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def print_profile(collapsed: Path) -> None:
    print(f"\n  profile: {collapsed} (collapsed stacks); most samples of their own:")
    for share, name in bench_profile.top_functions(collapsed):
        print(f"  {share:6.1%}  {name}")


def summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each server's capacity, efficiency and latency at half of it, side by side.

    Saturation is the most deliveries per second a server kept up with; the
    latency row is the highest step at or below half of that; efficiency is
    the best deliveries per server-CPU-second over the steps.
    """
    out = []
    for kind in ("multichat", "ceiling"):
        mine = [r for r in rows if r["server"] == kind]
        kept_up = [r for r in mine if not r["saturated"]] or mine[:1]
        if not mine:
            continue
        capacity = max(r["deliveries_per_s"] for r in mine)
        half = [r for r in kept_up if r["offered_deliveries_per_s"] <= capacity / 2] or kept_up[:1]
        out.append({
            "server": kind,
            "saturation_deliveries_per_s": capacity,
            "best_deliveries_per_server_cpu_s": max(r["deliveries_per_server_cpu_s"]
                                                    for r in mine),
            "half_load_rate": half[-1]["rate"],
            "half_load_p50_ms": half[-1]["p50_ms"],
            "half_load_p99_ms": half[-1]["p99_ms"],
        })
    if len(out) == 2:
        ours, ceiling = out
        out.append({"server": "ratio",
                    **{key: ours[key] / ceiling[key] for key in (
                        "saturation_deliveries_per_s", "best_deliveries_per_server_cpu_s")}})
    return out


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Multichat next to the ceiling at each rate both ran, as a ratio of efficiency."""
    ceiling = {r["rate"]: r for r in rows if r["server"] == "ceiling"}
    out = []
    for row in rows:
        other = ceiling.get(row["rate"])
        if row["server"] != "multichat" or other is None:
            continue
        out.append({
            "rate": row["rate"],
            "multichat_deliv_per_cpu_s": row["deliveries_per_server_cpu_s"],
            "ceiling_deliv_per_cpu_s": other["deliveries_per_server_cpu_s"],
            "ratio": row["deliveries_per_server_cpu_s"] / other["deliveries_per_server_cpu_s"],
            "multichat_p99_ms": row["p99_ms"],
            "ceiling_p99_ms": other["p99_ms"],
        })
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small and short (under 3 min)")
    parser.add_argument("--json", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), default=None)
    parser.add_argument("--rates", nargs="*", type=int, default=None,
                        help="fan-out rates (messages/s) to step through, instead of the default")
    parser.add_argument("--servers", nargs="*", choices=SERVERS, default=list(SERVERS),
                        help="servers to run the fan-out scenarios against")
    parser.add_argument("--multichat-from", type=Path, default=ROOT, metavar="CHECKOUT",
                        help="run the Multichat server from another checkout (a git worktree "
                        "of an older commit, say) to measure what a change bought")
    parser.add_argument("--profile", action="store_true",
                        help="sample the fan-out and storm servers with py-spy (bench/profile.py)")
    args = parser.parse_args(argv)
    global multichat_tree  # noqa: PLW0603 - one setting for the whole run
    multichat_tree = args.multichat_from.resolve()
    options = Options(quick=args.quick, rates=args.rates, servers=tuple(args.servers),
                      profile=args.profile)
    raise_fd_limit()
    if generator_loop() != "uvloop":
        print("! uvloop is not installed: the load generator runs on the standard asyncio loop "
              "and saturates sooner (.venv/bin/pip install -e '.[bench]')")
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "processor": platform.processor(),
                    "pinned": len(os.sched_getaffinity(0)) >= 2,
                    "generator_loop": generator_loop()},
        "quick": args.quick,
        "multichat_from": str(multichat_tree),
        "scenarios": {},
    }
    with tempfile.TemporaryDirectory(prefix="multichat-bench-") as directory:
        for name in args.only or list(SCENARIOS):
            t0 = time.monotonic()
            rows = SCENARIOS[name](options, Path(directory))
            results["scenarios"][name] = rows
            print_table(f"{name} ({time.monotonic() - t0:.0f} s)", rows)
            if name in ("fanout", "big_room"):
                for label, view in (("at each rate", ratios), ("summary", summary)):
                    results["scenarios"][f"{name}_{label.replace(' ', '_')}"] = view(rows)
                    print_table(f"{name}: Multichat against the ceiling, {label}", view(rows))
            if name == "activity":
                results["scenarios"]["activity_cost"] = activity_cost(rows)
                print_table("activity: server CPU per message, with against without",
                            activity_cost(rows))
            for row in rows:
                if row.get("loadgen_cpu_share", 0) > GENERATOR_SATURATED:
                    print(f"  ! the load generator used {row['loadgen_cpu_share']:.0%} of a "
                          "core: this row may measure the generator, not the server")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
