"""The cluster bench's server sides: what runs on the server core, started and read.

The Multichat cluster (three ``multichat serve`` on PostgreSQL + Redis behind
nginx) and the Channels cluster (three daphne workers of bench/channels_peer/
on channels_redis behind the same nginx set-up), each on a PostgreSQL, Redis
and nginx of its own (bench/services.py), pinned to CPU 0; ``Counters`` reads
Redis's command counts and PostgreSQL's transaction counters.

nginx reaches both sides' processes on Unix sockets (``serve --unix``,
``daphne -u``), docs/operations.md's same-host upstream, unless ``unix`` is
False (TCP to 127.0.0.1, as before the third pass).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import services

ROOT = Path(__file__).resolve().parent.parent
SERVER_CPU, LOAD_CPU = {0}, {1}
PROCESSES = 3
LISTEN_BACKLOG = 4096  # serve's default --listen-backlog
CLIENTS, ROOMS, SENDERS = 200, 4, 20
LISTENING = re.compile(r"listening on (\S+:\d+|unix:)")
# Limits the benchmark lifts (it measures throughput, not the flood limits), as bench/__main__.
UNLIMITED = ("USER_SEND_BURST", "USER_SEND_RATE", "COMMAND_BURST", "COMMAND_RATE",
             "USER_JOIN_BURST", "USER_JOIN_RATE", "LOGIN_SPRAY_NAMES")
SERVE_FLAGS = ("--send-burst", "1000000", "--send-rate", "1000000",
               "--login-free-failures", "1000000", "--max-output-bytes", str(64 * 2**20),
               "--no-advertise")

Groups = dict[str, list[int]]  # the server side's process trees by name: servers, postgres, ...


def pinned(cpus: set[int]) -> Callable[[], None]:
    """A child's set-up: no file descriptor limit short of the hard one, pinned to ``cpus``."""
    def setup() -> None:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        usable = os.sched_getaffinity(0)
        if len(usable) >= 2:
            os.sched_setaffinity(0, cpus & usable or usable)
    return setup


server_setup, load_setup = pinned(SERVER_CPU), pinned(LOAD_CPU)


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


def upstream(work: Path, n: int, unix: bool) -> tuple[list[str], int | Path]:
    """Where process ``n`` listens, as its command's words and as nginx's upstream."""
    if unix:
        path = work / "sockets" / f"{n}.sock"
        path.parent.mkdir(exist_ok=True)
        return ["--unix", str(path)], path
    port = services.free_port()
    return ["--host", "127.0.0.1", "--port", str(port)], port


@contextlib.contextmanager
def multichat_processes(work: Path, tree: Path, database: str, broker: str, *,
                        proxy_protocol: bool = False, unix: bool = True,
                        ) -> Iterator[list[tuple[services.Service, int | Path]]]:
    """Three ``multichat serve`` on the database and broker, as docs/operations.md runs them
    behind nginx http (the proxy trusted for X-Forwarded-For: on TCP by its address, on a
    Unix socket as every peer there); each with its upstream, a port or a path."""
    env = {**os.environ, "MULTICHAT_TRUSTED_PROXIES": "" if unix else "127.0.0.1",
           "MULTICHAT_MAX_CONNECTIONS_PER_ADDRESS": "0",
           **{f"MULTICHAT_{name}": "1000000" for name in UNLIMITED},
           **({"MULTICHAT_PROXY_PROTOCOL": "true"} if proxy_protocol else {})}
    with contextlib.ExitStack() as stack:
        processes = []
        for n in range(PROCESSES):
            where, address = upstream(work, n, unix)
            log = work / f"multichat-{n}.log"
            service = stack.enter_context(services.running(
                f"multichat {n}",
                [sys.executable, "-m", "multichat", "serve", *where, "--database", database,
                 "--broker", broker, *SERVE_FLAGS],
                address if isinstance(address, int) else 0, log, server_setup, env=env,
                ready=said_listening(log), cwd=tree))
            processes.append((service, address))
        yield processes
        for n in range(PROCESSES):
            text = (work / f"multichat-{n}.log").read_text(errors="replace")
            if "Traceback" in text:
                print(f"  ! multichat {n} logged an error:\n{text[-3000:]}")


@contextlib.contextmanager
def multichat_side(work: Path, tree: Path, pg_settings: dict[str, str] | None = None,
                   proxy: str = "http", unix: bool = True) -> Iterator[tuple[str, Groups, Any]]:
    """The Multichat cluster, seeded; yields the URL, the process groups, the counters.

    ``proxy="stream"``: nginx's documented TCP block instead, the processes
    reading its PROXY protocol header. ``unix``: nginx to the processes over
    Unix sockets.
    """
    work.mkdir(parents=True, exist_ok=True)
    with data_services(work, "multichat", pg_settings) as (pg, rd, database):
        seed_multichat(database, CLIENTS, ROOMS)
        with multichat_processes(work, tree, database, services.redis_url(rd),
                                 proxy_protocol=proxy == "stream", unix=unix) as servers, \
                services.nginx(work / "nginx", [address for _, address in servers],
                               server_setup, proxy) as lb, \
                Counters(pg, rd) as counters:
            groups = {"servers": [s.pid for s, _ in servers], "postgres": [pg.pid],
                      "redis": [rd.pid], "nginx": [lb.pid]}
            yield f"ws://127.0.0.1:{lb.port}/", groups, counters


@contextlib.contextmanager
def channels_side(work: Path, unix: bool = True) -> Iterator[tuple[str, Groups, Any]]:
    """Three daphne workers of the seed's consumer on channels_redis, behind nginx (on
    Unix sockets with ``unix``, ``daphne -u``)."""
    work.mkdir(parents=True, exist_ok=True)
    with data_services(work, "peer") as (pg, rd, database):
        env = {**os.environ, "PEER_DATABASE": database, "PEER_REDIS": services.redis_url(rd),
               "DJANGO_SETTINGS_MODULE": "bench.channels_peer.settings"}
        subprocess.run([sys.executable, "-m", "bench.channels_peer.prepare", str(ROOMS)],
                       cwd=ROOT, env=env, check=True, timeout=120)
        with contextlib.ExitStack() as stack:
            workers, upstreams = [], []
            for n in range(PROCESSES):
                where, address = upstream(work, n, unix)
                if isinstance(address, Path):
                    # daphne -u PATH, with the listen queue Multichat's processes have:
                    # Twisted's default of 50 is short of 200 clients joining at once,
                    # and on a Unix socket nginx gets EAGAIN past it (a 502), not the
                    # SYN retry of TCP.
                    where = ["-e", f"unix:{address}:backlog={LISTEN_BACKLOG}"]
                    ready = services.accepts_unix(address)
                else:
                    ready = None
                workers.append(stack.enter_context(services.running(
                    f"daphne {n}",
                    [sys.executable, "-m", "daphne", *where, "--proxy-headers",
                     "bench.channels_peer.asgi:application"],
                    address if isinstance(address, int) else 0, work / f"daphne-{n}.log",
                    server_setup, env=env, ready=ready, cwd=ROOT)))
                upstreams.append(address)
            lb = stack.enter_context(services.nginx(work / "nginx", upstreams,
                                                    server_setup))
            counters = stack.enter_context(Counters(pg, rd))
            groups = {"servers": [w.pid for w in workers], "postgres": [pg.pid],
                      "redis": [rd.pid], "nginx": [lb.pid]}
            yield f"ws://127.0.0.1:{lb.port}/", groups, counters


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
