"""Read markers and the room list's seqs in the store, on SQLite and PostgreSQL, and a
database made before version 4 opening with them."""

from __future__ import annotations

import pytest

from multichat.protocol import MsgType
from multichat.server.store import Store
from multichat.server.store import migrations as schema
from multichat.server.store.errors import SeqOutOfRange, UnknownRoom
from multichat.server.store.records import NewMessage, User
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
    assert store.mark_read(alice.id, lobby, 2) == 2
    assert seqs(store, alice) == {"Attic": (0, 0), "Lobby": (3, 2)}
    assert seqs(store, bob) == {"Attic": (0, 0), "Lobby": (3, 0)}  # each user's own


def test_a_marker_only_moves_forward_and_never_past_the_newest_seq(store: Store) -> None:
    alice = store.create_user("alice", "h")
    lobby = store.create_room("Lobby").id
    say(store, alice, lobby, 5)
    assert store.mark_read(alice.id, lobby, 0) is None  # 0 is where everyone starts
    assert store.mark_read(alice.id, lobby, 4) == 4
    assert store.mark_read(alice.id, lobby, 2) is None  # behind: kept at 4, nothing moved
    assert store.mark_read(alice.id, lobby, 4) is None
    assert store.mark_read(alice.id, lobby, 5) == 5
    with pytest.raises(SeqOutOfRange):
        store.mark_read(alice.id, lobby, 6)
    with pytest.raises(UnknownRoom):
        store.mark_read(alice.id, 999, 0)
    assert seqs(store, alice) == {"Lobby": (5, 5)}
    last_seqs, markers = store.room_lists([alice.id, 12345])
    assert last_seqs == {lobby: 5} and markers == {alice.id: {lobby: 5}}


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
    assert store.room_lists([alice.id, admin.id])[1] == {alice.id: {lobby: 1}}
    store.delete_user("alice")
    assert store.room_lists([alice.id, admin.id])[1] == {}


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
        assert store.mark_read(veteran.id, entry.room.id, 3) == 3
        assert store.room_list(veteran.id)[0].read_seq == 3
    finally:
        store.close()
