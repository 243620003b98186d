"""Edits, deletions, reactions and replies in the store, on SQLite and PostgreSQL.

The rules a change is judged by in its batch's transaction (who may make it,
whether its target is a live message), history folding the changes in, a
deleted message's text gone from the database file, and a database made
before version 3 opening with every message.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from multichat.protocol import MsgType
from multichat.server.store import Store
from multichat.server.store import migrations as schema
from multichat.server.store.database import DATABASE_FILENAME
from multichat.server.store.errors import InvalidMessage, NotAllowed
from multichat.server.store.records import Appended, NewMessage, StoredMessage, Unchanged, User
from tests.server.store.old_databases import make_old_database


def new(user: User, room: int, kind: MsgType = MsgType.MESSAGE, text: str | None = "hi",
        **extra: object) -> NewMessage:
    return NewMessage(room_id=room, user_id=user.id, username=user.username, msg_type=kind,
                      text=text, client_id=None, ts_ms=1_000, **extra)  # type: ignore[arg-type]


def store_one(store: Store, message: NewMessage) -> StoredMessage | Unchanged | Exception:
    (outcome,) = store.append_messages([message])
    if isinstance(outcome, Appended):
        return outcome.message
    return outcome


@pytest.fixture
def people(store: Store) -> tuple[User, User, User, int]:
    alice = store.create_user("alice", "h")
    bob = store.create_user("bob", "h")
    admin = store.create_user("root", "h", is_superuser=True)
    return alice, bob, admin, store.create_room("Lobby").id


def test_who_may_change_a_message(store: Store, people: tuple[User, User, User, int]) -> None:
    alice, bob, admin, room = people
    store_one(store, new(alice, room, text="alice's"))  # seq 1
    edit = new(bob, room, MsgType.EDIT, "bob's now", target=1)
    assert isinstance(store_one(store, edit), NotAllowed)
    assert isinstance(store_one(store, new(admin, room, MsgType.EDIT, "x", target=1)),
                      NotAllowed)
    # A superuser deletes only where the rules let them (not in a direct conversation).
    assert isinstance(store_one(store, new(admin, room, MsgType.DELETE, None, target=1)),
                      NotAllowed)
    assert isinstance(store_one(store, new(bob, room, MsgType.DELETE, None, target=1,
                                           superuser_may_delete=True)), NotAllowed)
    deletion = store_one(store, new(admin, room, MsgType.DELETE, None, target=1,
                                    superuser_may_delete=True))
    assert isinstance(deletion, StoredMessage) and deletion.seq == 2
    assert store.last_seq(room) == 2  # nothing refused took a seq


def test_a_change_needs_a_live_message_of_the_room(
    store: Store, people: tuple[User, User, User, int],
) -> None:
    alice, _, admin, room = people
    other = store.create_room("Other").id
    store_one(store, new(alice, other, text="elsewhere"))
    store_one(store, new(admin, room, MsgType.WARNING, "an announcement"))  # seq 1
    for target in (1, 2, 99):
        for kind, text in ((MsgType.EDIT, "x"), (MsgType.DELETE, None)):
            outcome = store_one(store, new(alice, room, kind, text, target=target))
            assert isinstance(outcome, InvalidMessage), (target, kind)
        assert isinstance(store_one(store, new(alice, room, reply_to=target)), InvalidMessage)
    store_one(store, new(alice, room, text="mine"))  # seq 2
    store_one(store, new(alice, room, MsgType.DELETE, None, target=2))
    for kind, text, extra in ((MsgType.EDIT, "x", {}), (MsgType.DELETE, None, {}),
                              (MsgType.REACTION, None, {"emoji": "👍", "on": True})):
        outcome = store_one(store, new(alice, room, kind, text, target=2, **extra))
        assert isinstance(outcome, InvalidMessage) and "deleted" in str(outcome)


def test_history_folds_edits_deletions_and_reactions(
    store: Store, people: tuple[User, User, User, int],
) -> None:
    alice, bob, _, room = people
    for text in ("one", "two", "three"):
        store_one(store, new(alice, room, text=text))
    store_one(store, new(bob, room, text="re: two", reply_to=2))  # 4
    store_one(store, new(alice, room, MsgType.EDIT, "TWO", target=2))  # 5
    store_one(store, new(alice, room, MsgType.EDIT, "TWO!", target=2))  # 6
    for who, emoji, on in ((bob, "👍", True), (alice, "👍", True), (bob, "🎉", True),
                           (bob, "👍", False)):
        assert isinstance(store_one(store, new(who, room, MsgType.REACTION, None, target=2,
                                               emoji=emoji, on=on)), StoredMessage)
    assert isinstance(store_one(store, new(bob, room, MsgType.REACTION, None, target=2,
                                           emoji="👍", on=False)), Unchanged)
    store_one(store, new(alice, room, MsgType.DELETE, None, target=3))
    page = store.messages_before(room, None, 10)
    assert [(m.seq, m.text, m.edited, m.deleted, m.reply_to) for m in page] == [
        (1, "one", False, False, None),
        (2, "TWO!", True, False, None),
        (3, None, False, True, None),
        (4, "re: two", False, False, 2),
    ]
    assert page[1].reactions == (("👍", ("alice",)), ("🎉", ("bob",)))
    # Paging back counts messages, not changes.
    assert [m.seq for m in store.messages_before(room, 4, 2)] == [2, 3]
    # Catch-up lists every event, in seq order.
    assert [m.msg_type for m in store.messages_after(room, 0, 100)] == [
        MsgType.MESSAGE] * 4 + [MsgType.EDIT] * 2 + [MsgType.REACTION] * 4 + [MsgType.DELETE]


def test_a_deleted_message_and_its_edits_leave_no_text(
    store: Store, people: tuple[User, User, User, int],
) -> None:
    alice, _, _, room = people
    store_one(store, new(alice, room, text="secret-original"))
    store_one(store, new(alice, room, MsgType.EDIT, "secret-edit", target=1))
    store_one(store, new(alice, room, MsgType.DELETE, None, target=1))
    assert [m.text for m in store.messages_after(room, 0, 10)] == [None, None, None]


def test_deleted_text_is_gone_from_the_database_file(tmp_path: Path) -> None:
    """Not only hidden: the bytes of the text are not in the file (secure_delete)."""
    store = Store.open_data_dir(tmp_path)
    try:
        alice = store.create_user("alice", "h")
        room = store.create_room("Lobby").id
        store_one(store, new(alice, room, text="zebra-original-" * 20))
        store_one(store, new(alice, room, MsgType.EDIT, "zebra-edited-" * 20, target=1))
        store_one(store, new(alice, room, text="kept-" * 20))
        store.checkpoint()
        assert b"zebra-original-" in (tmp_path / DATABASE_FILENAME).read_bytes()
        store_one(store, new(alice, room, MsgType.DELETE, None, target=1))
    finally:
        store.close()  # the last connection checkpoints the WAL into the file and removes it
    data = b"".join(path.read_bytes() for path in tmp_path.iterdir()
                    if path.name.startswith(DATABASE_FILENAME))
    assert b"kept-" in data
    assert b"zebra-" not in data


def test_a_version_2_database_keeps_its_messages_and_takes_changes(store_url: str) -> None:
    make_old_database(store_url, 2)
    store = Store.open(store_url)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION
        veteran = store.user("veteran")
        assert veteran is not None
        (room,) = store.rooms()
        assert [(m.seq, m.text, m.client_id) for m in store.messages_before(room.id, None, 10)] == [
            (1, "message 1", "c1"), (2, "message 2", "c2"), (3, "message 3", "c3")]
        # The old messages take changes, and their client_ids still count once.
        store_one(store, new(veteran, room.id, MsgType.EDIT, "edited", target=1))
        store_one(store, new(veteran, room.id, MsgType.DELETE, None, target=2))
        resend = store.append_messages([NewMessage(room.id, veteran.id, "veteran",
                                                   MsgType.MESSAGE, "again", "c3", 5)])[0]
        assert isinstance(resend, Appended) and resend.duplicate and resend.message.seq == 3
        assert [(m.text, m.edited, m.deleted) for m in store.messages_before(room.id, None, 10)
                ] == [("edited", True, False), (None, False, True), ("message 3", False, False)]
    finally:
        store.close()


def test_the_sqlite_upgrade_keeps_message_ids_and_indexes(tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / DATABASE_FILENAME)
    make_old_database(url, 2)
    Store.open(url).close()
    with sqlite3.connect(tmp_path / DATABASE_FILENAME) as con:
        ids = con.execute('SELECT "id", "seq" FROM "message" ORDER BY "id"').fetchall()
        indexes = {row[0] for row in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'message'")}
        broken = con.execute("PRAGMA foreign_key_check").fetchall()
    assert ids == [(1, 1), (2, 2), (3, 3)]
    assert indexes == {"message_account_id", "message_room_id_seq",
                       "message_account_id_client_id", "message_room_id_target"}
    assert broken == []
