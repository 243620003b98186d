"""Read markers and the room list's seqs in the store, on SQLite and PostgreSQL, and a
database made before version 4 opening with them."""

from __future__ import annotations

import pytest

from multichat.protocol import MsgType
from multichat.server.store import Store
from multichat.server.store import migrations as schema
from multichat.server.store.database import open_database
from multichat.server.store.errors import SeqOutOfRange, UnknownRoom
from multichat.server.store.records import NewMessage, Read, User
from tests.server.store.old_databases import make_old_database


def say(store: Store, user: User, room: int, count: int = 1) -> None:
    for _ in range(count):
        store.append_messages([NewMessage(room, user.id, user.username, MsgType.MESSAGE, "hi",
                                          None, 1_000)])


def seqs(store: Store, user: User) -> dict[str, tuple[int, int]]:
    return {entry.room.title: (entry.last_seq, entry.read_seq)
            for entry in store.room_list(user.id)}


def test_the_room_list_gives_each_rooms_newest_seq_and_this_users_read_seq(
    store: Store,
) -> None:
    alice = store.create_user("alice", "h")
    bob = store.create_user("bob", "h")
    lobby = store.create_room("Lobby").id
    store.create_room("Attic", staff_only=True)
    say(store, alice, lobby, 3)
    assert seqs(store, alice) == seqs(store, bob) == {"Attic": (0, 0), "Lobby": (3, 0)}
    assert [entry.room.title for entry in store.room_list(alice.id)] == ["Attic", "Lobby"]
    assert store.mark_read(alice.id, lobby, 2) == Read(2, 1)
    assert seqs(store, alice) == {"Attic": (0, 0), "Lobby": (3, 2)}
    assert seqs(store, bob) == {"Attic": (0, 0), "Lobby": (3, 0)}  # each user's own


def test_a_marker_only_moves_forward_and_never_past_the_newest_seq(store: Store) -> None:
    alice = store.create_user("alice", "h")
    lobby = store.create_room("Lobby").id
    say(store, alice, lobby, 5)
    assert store.mark_read(alice.id, lobby, 0) is None  # 0 is where everyone starts
    assert store.mark_read(alice.id, lobby, 4) == Read(4, 1)
    assert store.mark_read(alice.id, lobby, 2) is None  # behind: kept at 4, nothing moved
    assert store.mark_read(alice.id, lobby, 4) is None
    assert store.mark_read(alice.id, lobby, 5) == Read(5, 0)
    with pytest.raises(SeqOutOfRange):
        store.mark_read(alice.id, lobby, 6)
    with pytest.raises(UnknownRoom):
        store.mark_read(alice.id, 999, 0)
    assert seqs(store, alice) == {"Lobby": (5, 5)}
    lists = store.room_lists([alice.id, 12345])
    assert lists.counts == {lobby: (5, 5)} and lists.markers == {alice.id: {lobby: (5, 5)}}


def test_markers_go_with_their_room_and_their_user(store: Store) -> None:
    admin = store.create_user("root", "h", is_superuser=True)
    alice = store.create_user("alice", "h")
    lobby = store.create_room("Lobby").id
    yard = store.create_room("Yard").id
    say(store, alice, lobby)
    say(store, alice, yard)
    store.mark_read(alice.id, lobby, 1)
    store.mark_read(alice.id, yard, 1)
    store.mark_read(admin.id, yard, 1)
    store.delete_room(yard)
    assert store.room_lists([alice.id, admin.id]).markers == {alice.id: {lobby: (1, 1)}}
    store.delete_user("alice")
    assert store.room_lists([alice.id, admin.id]).markers == {}


def test_a_version_3_database_keeps_its_messages_and_takes_read_markers(store_url: str) -> None:
    make_old_database(store_url, 3)
    store = Store.open(store_url)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION
        veteran = store.user("veteran")
        assert veteran is not None
        (entry,) = store.room_list(veteran.id)
        assert (entry.room.title, entry.last_seq, entry.read_seq) == ("Archive", 3, 0)
        assert [m.text for m in store.messages_before(entry.room.id, None, 10)] == [
            "message 1", "message 2", "message 3"]
        assert store.mark_read(veteran.id, entry.room.id, 3) == Read(3, 0)
        assert store.room_list(veteran.id)[0].read_seq == 3
    finally:
        store.close()


def test_unread_counts_messages_not_edits_deletions_or_reactions(store: Store) -> None:
    """last_seq - read_seq counted every change as unread: read to 1, five reactions and a
    message from bob showed 6 where one message waited."""
    alice = store.create_user("alice", "h")
    bob = store.create_user("bob", "h")
    lobby = store.create_room("Lobby").id
    say(store, alice, lobby)
    assert store.mark_read(bob.id, lobby, 1) == Read(1, 0)
    for emoji in "👍🎉😀🚀👀":
        store.append_messages([NewMessage(lobby, alice.id, "alice", MsgType.REACTION, None,
                                          None, 2, target=1, emoji=emoji, on=True)])
    say(store, alice, lobby)
    (entry,) = store.room_list(bob.id)
    assert (entry.last_seq, entry.read_seq, entry.unread) == (7, 1, 1)
    assert store.room_lists([bob.id]).entry(entry.room, bob.id).unread == 1
    # Read up to a reaction: the message before it counts as read, the one after not.
    assert store.mark_read(bob.id, lobby, 4) == Read(4, 1)
    assert store.mark_read(bob.id, lobby, 7) == Read(7, 0)
    (entry,) = store.room_list(alice.id)
    assert entry.unread == 2  # alice never marked her own two messages read


def test_a_version_4_database_counts_unread_from_its_markers(store_url: str) -> None:
    make_old_database(store_url, 4)
    db = open_database(store_url)
    try:  # a reaction, a message and a marker at seq 2, as version 4 stored them
        db.execute_sql('INSERT INTO "message" ("room_id", "seq", "account_id", "username", '
                       '"msg_type", "text", "ts_ms", "target", "emoji", "reaction_on") VALUES '
                       "(1, 4, 1, 'veteran', 8, NULL, 4, 3, 'x', 1)")
        db.execute_sql('INSERT INTO "message" ("room_id", "seq", "account_id", "username", '
                       '"msg_type", "text", "ts_ms") VALUES (1, 5, 1, \'veteran\', 0, \'five\', 5)')
        db.execute_sql('UPDATE "room" SET "last_seq" = 5')
        db.execute_sql('INSERT INTO "read_marker" ("account_id", "room_id", "seq") '
                       'VALUES (1, 1, 2)')
    finally:
        db.close()
    store = Store.open(store_url)
    try:
        veteran = store.user("veteran")
        assert veteran is not None
        (entry,) = store.room_list(veteran.id)
        assert (entry.last_seq, entry.read_seq, entry.unread) == (5, 2, 2)  # messages 3 and 5
    finally:
        store.close()
