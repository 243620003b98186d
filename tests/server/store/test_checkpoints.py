"""SQLite's WAL is checkpointed by a thread of its own, never inside the writer's commits."""

from __future__ import annotations

import asyncio

from multichat.protocol.codes import MsgType
from multichat.server.store import Store
from multichat.server.store.records import Appended, NewMessage
from multichat.server.store.writer import MessageWriter, Outcome
from tests.helpers.waiting import eventually

# SQLite's default wal_autocheckpoint: a commit past this many WAL pages checkpoints.
AUTOCHECKPOINT_PAGES = 1000


def message(room_id: int, n: int) -> NewMessage:
    return NewMessage(room_id=room_id, user_id=None, username="bot", msg_type=MsgType.MESSAGE,
                      text=f"{n:06d} " + "x" * 1000, client_id=None, ts_ms=n)


async def test_commits_leave_the_wal_to_the_checkpointer(sqlite_store: Store) -> None:
    room = sqlite_store.create_room("Busy")
    outcomes: list[Outcome] = []
    # The checkpointer runs once after the first commit, then not for an hour.
    writer: MessageWriter[int] = MessageWriter(
        sqlite_store, lambda _, outcome: outcomes.append(outcome), checkpoint_interval=3600)
    assert writer.checkpointer is not None
    writer.start()
    try:
        writer.submit(message(room.id, 0), 0)
        await eventually(lambda: len(outcomes) == 1)
        await eventually(lambda: writer.checkpointer is not None
                         and writer.checkpointer.checkpoints == 1)
        # About 1.3 pages per message: well past the point where a commit with
        # SQLite's default would have checkpointed (and restarted the WAL).
        total = 6000
        for n in range(1, total + 1):
            writer.submit(message(room.id, n), n)
        await eventually(lambda: len(outcomes) == total + 1)
        assert all(isinstance(o, Appended) for o in outcomes)
        _, wal_pages, _ = await asyncio.to_thread(sqlite_store.checkpoint)
        assert wal_pages > AUTOCHECKPOINT_PAGES  # no commit checkpointed on its own
    finally:
        await writer.close()


async def test_the_checkpointer_keeps_the_wal_copied_back(sqlite_store: Store) -> None:
    room = sqlite_store.create_room("Steady")
    outcomes: list[Outcome] = []
    writer: MessageWriter[int] = MessageWriter(
        sqlite_store, lambda _, outcome: outcomes.append(outcome), checkpoint_interval=0)
    checkpointer = writer.checkpointer
    assert checkpointer is not None
    writer.start()
    try:
        for n in range(300):
            writer.submit(message(room.id, n), n)
        await eventually(lambda: len(outcomes) == 300)
        done = checkpointer.checkpoints
        writer.submit(message(room.id, 300), 300)  # a commit after the last checkpoint
        await eventually(lambda: checkpointer.checkpoints > done)
        # Everything committed so far is back in the database file: the WAL holds
        # nothing a checkpoint would still have to copy.
        _, wal_pages, copied = await asyncio.to_thread(sqlite_store.checkpoint)
        assert copied == wal_pages
    finally:
        await writer.close()
    assert sqlite_store.messages_after(room.id, 0, 1000)[-1].seq == 301
