"""The writer and a database it cannot write: a lock held elsewhere is waited out, within bounds.

The lock is real: another SQLite connection holding ``BEGIN IMMEDIATE``. The
writer's bounds are shrunk (50 ms attempts, gone after 0.3 s) so the give-up
is reached quickly; the rule is the one ``multichat serve`` runs with.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from multichat.protocol.codes import MsgType
from multichat.server.store import Store
from multichat.server.store.database import DATABASE_FILENAME
from multichat.server.store.errors import StillLocked
from multichat.server.store.records import Appended, NewMessage
from multichat.server.store.writer import MessageWriter, Outcome
from tests.helpers.waiting import eventually

ATTEMPT = 0.05  # the writer's busy timeout per attempt, in these tests
GIVE_UP = 0.3  # how long it keeps trying, in these tests
WRITER_LOG = "multichat.server.store.writer"


def message(room_id: int, n: int) -> NewMessage:
    return NewMessage(room_id=room_id, user_id=None, username="bot", msg_type=MsgType.MESSAGE,
                      text=f"m{n}", client_id=None, ts_ms=n)


@pytest.fixture
def room(sqlite_store: Store) -> int:
    return sqlite_store.create_room("Lobby").id


@pytest.fixture
def lock(tmp_path: Path, sqlite_store: Store, room: int) -> Iterator[sqlite3.Connection]:
    """Another connection to the store's database (with a room), holding its write lock."""
    holder = sqlite3.connect(tmp_path / "data" / DATABASE_FILENAME, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The writer's log records, from INFO up."""
    caplog.set_level(logging.INFO, logger=WRITER_LOG)
    return caplog


def writer_messages(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records
            if r.name == WRITER_LOG]


async def test_a_lock_held_elsewhere_is_waited_out_and_logged_once(
        sqlite_store: Store, room: int, lock: sqlite3.Connection,
        log: pytest.LogCaptureFixture) -> None:
    outcomes: list[Outcome] = []
    writer: MessageWriter[int] = MessageWriter(
        sqlite_store, lambda _, outcome: outcomes.append(outcome), lock_attempt=ATTEMPT,
        lock_give_up=3600)
    writer.start()
    try:
        writer.submit(message(room, 1), 1)
        writer.submit(message(room, 2), 2)
        await eventually(lambda: writer.locked_attempts >= 3)  # tried, and again, and again
        assert outcomes == []
        lock.execute("ROLLBACK")
        await eventually(lambda: len(outcomes) == 2)
    finally:
        await writer.close()
    assert [o.message.seq for o in outcomes if isinstance(o, Appended)] == [1, 2]
    logged = writer_messages(log)
    assert logged[0] == (logging.WARNING,
                         "database is locked by another program; retrying for up to 3600 s")
    assert logged[1][0] == logging.INFO and logged[1][1].startswith("the database lock went")
    assert len(logged) == 2  # once per episode, however many attempts


async def test_a_lock_that_stays_fails_the_batch_in_words_and_the_next_ones_fast(
        sqlite_store: Store, room: int, lock: sqlite3.Connection,
        log: pytest.LogCaptureFixture) -> None:
    outcomes: list[Outcome] = []
    writer: MessageWriter[int] = MessageWriter(
        sqlite_store, lambda _, outcome: outcomes.append(outcome), lock_attempt=ATTEMPT,
        lock_give_up=GIVE_UP)
    writer.start()
    try:
        writer.submit(message(room, 1), 1)
        await eventually(lambda: len(outcomes) == 1)
        assert isinstance(outcomes[0], StillLocked)
        assert str(outcomes[0]) == ("the message was not stored: the database stayed locked by "
                                    "another program; try again later")
        # The lock has outlived the bound: a later batch gets one attempt, not another 0.3 s.
        attempts = writer.locked_attempts
        writer.submit(message(room, 2), 2)
        await eventually(lambda: len(outcomes) == 2)
        assert isinstance(outcomes[1], StillLocked)
        assert writer.locked_attempts == attempts + 1
        lock.execute("ROLLBACK")
        writer.submit(message(room, 3), 3)
        await eventually(lambda: len(outcomes) == 3)
    finally:
        await writer.close()
    stored = outcomes[2]
    assert isinstance(stored, Appended) and stored.message.seq == 1  # the failures took no seq
    logged = [text for _, text in writer_messages(log)]
    assert logged[0].startswith("database is locked by another program; retrying")
    assert logged[1].startswith("storing 1 message(s) failed: the database stayed locked by "
                                "another program [database is locked, SQLITE_BUSY]")
    assert logged[2].startswith("the database lock went after")
    assert logged[3] == "messages are stored again; 2 failed meanwhile"
    assert len(logged) == 4
