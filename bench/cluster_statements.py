"""What one message costs the Multichat cluster in round trips: SQL statements and Redis calls.

    .venv/bin/python -m bench.cluster_statements [RATE] [SECONDS]     (default 20 msg/s, 10 s)

Starts the Multichat cluster of bench/cluster.py with ``pg_stat_statements`` loaded
and runs the fan-out twice on it: silent (rate 0: the clients log in, join
and idle) and at ``RATE``. Each run's statement and command counts less the
silent run's, divided by the messages sent, are what a message costs;
logins, joins and timers cancel out. Meanwhile it samples
``pg_stat_activity`` every 20 ms: how many of the writers' backends are, on
average, waiting for a lock, idle in a transaction (holding its locks while
the process prepares the next statement), or flushing the WAL.
"""

from __future__ import annotations

import collections
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import services
from bench.cluster_measure import measured_load
from bench.cluster_sides import CLIENTS, ROOMS, ROOT, SENDERS, Counters, Groups, multichat_side

PG_SETTINGS = {"shared_preload_libraries": "pg_stat_statements",
               "pg_stat_statements.track": "all"}
STATEMENTS = ("SELECT query, calls FROM pg_stat_statements"
              " WHERE query NOT LIKE '%pg_stat_statements%'")


def counts(counters: Counters) -> tuple[dict[str, int], dict[str, int]]:
    """SQL statements by text and Redis calls by command, so far."""
    rows = counters.conn.execute(STATEMENTS).fetchall()
    sql: dict[str, int] = {}
    for query, calls in rows:
        key = " ".join(str(query).split())[:110]
        sql[key] = sql.get(key, 0) + int(calls)
    return sql, services.redis_commands(counters.redis_port)


def settle(counters: Counters, timeout: float = 30.0) -> None:
    """Wait until Redis has been quiet for a second (the clients' leaving counted out)."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        calls = services.redis_commands(counters.redis_port)
        now = calls["total"] - calls.get("info", 0)
        if now == last:
            return
        last = now
        time.sleep(1.0)


ACTIVITY = ("SELECT state, wait_event_type, wait_event, left(query, 60) FROM pg_stat_activity"
            " WHERE datname = 'multichat' AND backend_type = 'client backend'"
            " AND pid <> pg_backend_pid()")
ACTIVITY_POLL = 0.02


class Activity:
    """The writers' backends by state and wait, sampled on a thread while the block runs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.samples: collections.Counter[tuple[str, ...]] = collections.Counter()
        self.polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> Activity:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                for state, kind, event, query in conn.execute(ACTIVITY).fetchall():
                    if state != "idle":
                        self.samples[(str(state), f"{kind}:{event}", str(query))] += 1
                self.polls += 1
                time.sleep(ACTIVITY_POLL)

    def averages(self) -> list[tuple[float, tuple[str, ...]]]:
        """Backends in each (state, wait, statement), on average over the polls."""
        return [(n / max(1, self.polls), key) for key, n in self.samples.most_common(12)]


def run_once(url: str, groups: Groups, counters: Counters, rate: int,
             seconds: float) -> tuple[dict[str, int], dict[str, int]]:
    counters.conn.execute("SELECT pg_stat_statements_reset()")
    redis_before = services.redis_commands(counters.redis_port)
    params = {"clients": CLIENTS, "rooms": ROOMS, "senders": SENDERS,
              "rate": rate, "duration": seconds, "warmup": 0.5}
    with Activity(counters.pg_url.rsplit("/", 1)[0] + "/multichat") as activity:
        measured_load(url, params, groups, counters)
    if rate:
        print(f"\nThe writers' backends at {rate} msg/s, on average over {activity.polls}"
              " polls (state, wait, statement):")
        for average, (state, wait, query) in activity.averages():
            print(f"  {average:5.2f}  {state:20} {wait:26} {' '.join(query.split())}")
    settle(counters)
    sql, redis = counts(counters)
    return sql, {name: n - redis_before.get(name, 0) for name, n in redis.items()}


def per_message(loaded: dict[str, int], silent: dict[str, int],
                messages: float) -> list[tuple[float, str]]:
    """(count per message, name) for what the loaded run did more than the silent one."""
    extra = [((loaded[name] - silent.get(name, 0)) / messages, name) for name in loaded]
    return sorted((item for item in extra if item[0] >= 0.01), reverse=True)


def main(argv: list[str]) -> None:
    rate = int(argv[0]) if argv else 20
    seconds = float(argv[1]) if len(argv) > 1 else 10.0
    # The whole run: the warm-up too, and the sends before it (LEAD).
    messages = rate * (seconds + 0.5)
    with tempfile.TemporaryDirectory(prefix="multichat-bench-") as directory:
        side = multichat_side(Path(directory), ROOT, PG_SETTINGS)
        with side as (url, groups, counters):
            counters.conn.execute("CREATE EXTENSION pg_stat_statements")
            silent = run_once(url, groups, counters, 0, seconds)
            loaded = run_once(url, groups, counters, rate, seconds)
    report: list[tuple[str, Any]] = [("PostgreSQL statements", 0), ("Redis commands", 1)]
    for title, index in report:
        rows = per_message(loaded[index], silent[index], messages)
        total = sum(n for n, name in rows if name not in ("total", "info"))
        print(f"\n{title} per message at {rate} msg/s (the silent run's subtracted):"
              f" {total:.2f} in all")
        for n, name in rows:
            if name not in ("total", "info"):
                print(f"  {n:6.2f}  {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
