"""PostgreSQL: a batch of plain messages goes to the server in one packet
(store/postgres_append.py, ``Packet``); what happens when the server refuses it
part way, when its session ends under it, and when it is larger than a socket
takes at once. Real PostgreSQL; the other sessions are plain psycopg ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import peewee as pw
import psycopg
import pytest

from multichat.protocol import MsgType
from multichat.server.store import Store
from multichat.server.store.records import Appended, NewMessage
from tests.helpers.waiting import eventually


@pytest.fixture
def store(postgres_url: str) -> Iterator[Store]:
    opened = Store.open(postgres_url)
    yield opened
    opened.close()


@pytest.fixture
def writer(store: Store) -> Iterator[ThreadPoolExecutor]:
    """The writer's one thread: a batch can wait in the database while the test acts."""
    with ThreadPoolExecutor(1) as pool:
        yield pool
        pool.submit(store.close_thread_connection).result()  # as store/writer.py does


def message(room_id: int, user_id: int, text: str, client_id: str | None = None) -> NewMessage:
    return NewMessage(room_id=room_id, user_id=user_id, username="alice",
                      msg_type=MsgType.MESSAGE, text=text, client_id=client_id, ts_ms=1_000)


def appended(result: object) -> Appended:
    assert isinstance(result, Appended), result
    return result


def waiting_on_a_lock(url: str) -> bool:
    """Whether a session of this database is waiting for a lock (the batch, blocked)."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(b"SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           b"current_database() AND wait_event_type = 'Lock'").fetchone()
    assert row is not None
    return int(row[0]) > 0


async def test_a_resend_racing_another_process_is_refused_rolled_back_and_redone(
        store: Store, postgres_url: str, writer: ThreadPoolExecutor) -> None:
    """Another process stores (alice, c1) while the packet's statement waits on the room:
    the packet's insert breaks the unique key, the transaction is rolled back, and the
    batch is redone message by message: c1 comes back as the other's, c2 is stored."""
    alice = store.create_user("alice", "h")
    room = store.create_room("A")
    store.append_messages([message(room.id, alice.id, "warm")])  # statements prepared
    other = psycopg.connect(postgres_url, connect_timeout=5)
    try:
        other.execute('UPDATE "room" SET "last_seq" = "last_seq" + 1 WHERE "id" = %s',
                      (room.id,))
        other.execute(
            'INSERT INTO "message" ("room_id", "seq", "account_id", "username", "msg_type", '
            '"text", "client_id", "ts_ms") VALUES (%s, 2, %s, %s, 0, %s, %s, 1000)',
            (room.id, alice.id, "alice", "from elsewhere", "c1"))
        batch = [message(room.id, alice.id, "mine", "c1"), message(room.id, alice.id, "next", "c2")]
        pending = asyncio.get_running_loop().run_in_executor(
            writer, store.append_messages, batch)
        await eventually(lambda: waiting_on_a_lock(postgres_url))
        other.commit()
        resend, stored = await pending
    finally:
        other.close()
    assert appended(resend).duplicate
    assert (appended(resend).message.seq, appended(resend).message.text) == (2, "from elsewhere")
    assert not appended(stored).duplicate and appended(stored).message.seq == 3
    # The connection came out of it whole: the next batch goes on it as before.
    (later,) = await asyncio.get_running_loop().run_in_executor(
        writer, store.append_messages, [message(room.id, alice.id, "later")])
    assert appended(later).message.seq == 4
    assert [m.text for m in store.messages_before(room.id, None, 10)] == [
        "warm", "from elsewhere", "next", "later"]


async def test_a_batch_whose_session_ends_under_it_fails_as_lost_and_the_next_reconnects(
        store: Store, postgres_url: str, writer: ThreadPoolExecutor) -> None:
    alice = store.create_user("alice", "h")
    room = store.create_room("A")
    loop = asyncio.get_running_loop()
    other = psycopg.connect(postgres_url, connect_timeout=5)
    try:
        other.execute('SELECT 1 FROM "room" WHERE "id" = %s FOR UPDATE', (room.id,))
        pending = loop.run_in_executor(
            writer, store.append_messages, [message(room.id, alice.id, "lost")])
        await eventually(lambda: waiting_on_a_lock(postgres_url))
        with psycopg.connect(postgres_url, autocommit=True, connect_timeout=5) as killer:
            killer.execute(b"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                           b"datname = current_database() AND wait_event_type = 'Lock'")
        with pytest.raises(pw.OperationalError):
            await pending
        assert await loop.run_in_executor(writer, store.connection_lost)
        other.rollback()
    finally:
        other.close()
    (stored,) = await loop.run_in_executor(
        writer, store.append_messages, [message(room.id, alice.id, "after")])
    assert appended(stored).message.seq == 1  # the lost one was never committed
    assert not await loop.run_in_executor(writer, store.connection_lost)


def test_a_batch_larger_than_the_socket_takes_at_once_goes_whole(store: Store) -> None:
    """256 messages of 32 KiB: 8 MiB written while the answers may already come back."""
    alice = store.create_user("alice", "h")
    rooms = [store.create_room(title).id for title in ("A", "B", "C")]
    text = "word " * (32 * 1024 // 5)
    batch = [message(rooms[i % 3], alice.id, f"{i} {text}", f"c{i}") for i in range(256)]
    outcomes = store.append_messages(batch)
    assert [appended(o).message.seq for o in outcomes[:6]] == [1, 1, 1, 2, 2, 2]
    assert len({appended(o).version for o in outcomes}) == 1
    assert [store.last_seq(room) for room in rooms] == [86, 85, 85]
    again = store.append_messages(batch[:2])  # resends: found, not stored twice
    assert [appended(o).duplicate for o in again] == [True, True]
    assert [store.last_seq(room) for room in rooms] == [86, 85, 85]


def test_statements_dropped_behind_its_back_are_prepared_again(store: Store) -> None:
    """psycopg sends DEALLOCATE ALL after a rollback once it has prepared statements of
    its own (a reply's batch run five times, then any refused transaction): the
    packet's statements go with them. Before, every later plain batch failed, for
    every user, until the server restarted; now the packet prepares them again."""
    alice = store.create_user("alice", "h")
    room = store.create_room("A")
    first = appended(store.append_messages([message(room.id, alice.id, "one")])[0])
    store.db.execute_sql("DEALLOCATE ALL")  # what psycopg's rollback does, on this connection
    second = appended(store.append_messages([message(room.id, alice.id, "two")])[0])
    third = appended(store.append_messages([message(room.id, alice.id, "three")])[0])
    assert [first.message.seq, second.message.seq, third.message.seq] == [1, 2, 3]
