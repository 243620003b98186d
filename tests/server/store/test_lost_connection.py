"""A database thread whose PostgreSQL session ends under a call: the call fails in words,
and the thread's next call runs on a new connection.

The session is ended for real (``pg_terminate_backend``) while the call waits in
the database (``pg_sleep``); nothing is mocked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator

import psycopg
import pytest

from multichat.server.store import Store
from multichat.server.store.errors import ConnectionLost
from multichat.server.store.executor import StoreExecutor
from tests.helpers.waiting import eventually

STORE_LOG = "multichat.server.store"


@pytest.fixture
def store(postgres_url: str) -> Iterator[Store]:
    opened = Store.open(postgres_url)
    yield opened
    opened.close()


@pytest.fixture
def executor(store: Store) -> Iterator[StoreExecutor]:
    pool = StoreExecutor(store, threads=1)  # one thread: the second call is on the same one
    yield pool
    pool.close()


def sleeping_sessions(url: str) -> int:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(b"SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           b"current_database() AND query LIKE 'SELECT pg_sleep%'").fetchone()
    assert row is not None
    return int(row[0])


def terminate_sleeping(url: str) -> None:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(b"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                     b"current_database() AND query LIKE 'SELECT pg_sleep%'")


def a_long_statement(store: Store) -> None:
    store.db.execute_sql("SELECT pg_sleep(60)").fetchall()


def a_long_transaction(store: Store) -> None:
    """Its ROLLBACK must go to the lost connection: on a new one it would pass, and the
    loss (and, for a COMMIT, the transaction) would go unseen."""
    with store.db.atomic():
        store.db.execute_sql("SELECT pg_sleep(60)").fetchall()


@pytest.mark.parametrize("work", [a_long_statement, a_long_transaction])
async def test_a_call_whose_session_ends_fails_in_words_and_the_next_reconnects(
        store: Store, executor: StoreExecutor, postgres_url: str,
        caplog: pytest.LogCaptureFixture, work: Callable[[Store], None]) -> None:
    caplog.set_level(logging.INFO, logger=STORE_LOG)
    store.create_room("Lobby")
    call = asyncio.ensure_future(executor.run(work, store))
    await eventually(lambda: sleeping_sessions(postgres_url) == 1)
    terminate_sleeping(postgres_url)
    with pytest.raises(ConnectionLost, match="try again"):
        await call
    assert [room.title for room in await executor.run(store.rooms)] == ["Lobby"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "connection to PostgreSQL was lost" in warnings[0], warnings
