"""Direct conversations in the store, on SQLite and PostgreSQL: the same people always
get the same room, only they list it, no admin path reaches it, and a database made
before version 5 opens with them."""

from __future__ import annotations

import pytest

from multichat.protocol import MsgType
from multichat.server.store import Store, name_keys
from multichat.server.store import migrations as schema
from multichat.server.store.errors import NoOneElse, UnknownMember, UnknownRoom
from multichat.server.store.models import Meta
from multichat.server.store.records import NewMessage, User
from tests.server.store.old_databases import make_old_database


def users(store: Store, *names: str) -> list[User]:
    return [store.create_user(name, "h") for name in names]


def listed(store: Store, user: User) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {entry.room.title: (entry.room.kind, entry.room.member_names)
            for entry in store.room_list(user.id)}


def test_the_same_people_always_get_the_same_room(store: Store) -> None:
    alice, bob, carol = users(store, "alice", "bob", "carol")
    entry, made = store.open_direct(alice.id, ["bob"])
    assert made and entry.room.is_direct
    assert (entry.room.title, entry.room.member_names) == ("alice, bob", ("alice", "bob"))
    assert entry.room.member_ids == {alice.id, bob.id}
    # Either of them, any order, repeats, the opener named too, a name's look-alike.
    for opener, named in ((bob, ["alice"]), (alice, ["bob", "bob", "alice"]), (bob, ["ALICE"])):
        again, made = store.open_direct(opener.id, named)
        assert (again.room.id, made) == (entry.room.id, False)
    group, made = store.open_direct(carol.id, ["bob", "alice"])
    assert made and group.room.id != entry.room.id
    assert group.room.title == "alice, bob, carol"


def test_only_members_list_a_direct_room_and_it_has_no_staff_flag(store: Store) -> None:
    alice, bob, carol = users(store, "alice", "bob", "carol")
    store.create_room("Lobby")
    entry, _ = store.open_direct(alice.id, ["bob"])
    assert listed(store, alice) == listed(store, bob) == {
        "Lobby": ("room", ()), "alice, bob": ("direct", ("alice", "bob"))}
    assert listed(store, carol) == {"Lobby": ("room", ())}
    assert not entry.room.staff_only
    assert not entry.room.visible_to(carol) and entry.room.visible_to(bob)
    superuser = store.create_user("root", "h", is_superuser=True)
    assert not entry.room.visible_to(superuser)


def test_unknown_names_and_no_one_else_are_refused(store: Store) -> None:
    (alice,) = users(store, "alice")
    with pytest.raises(UnknownMember):
        store.open_direct(alice.id, ["nobody"])
    with pytest.raises(NoOneElse):
        store.open_direct(alice.id, ["alice", "Alice"])
    assert store.rooms() == []


def test_no_admin_path_reaches_a_direct_room(store: Store) -> None:
    alice, _ = users(store, "alice", "bob")
    entry, _ = store.open_direct(alice.id, ["bob"])
    room_id = entry.room.id
    with pytest.raises(UnknownRoom):
        store.update_room(room_id, title="Mine now")
    with pytest.raises(UnknownRoom):
        store.delete_room(room_id)
    assert store.rooms(direct=False) == []
    assert store.room_by_title(entry.room.title) is None
    # The rules still find it by id, with its members, to judge who may see it.
    found = store.room(room_id)
    assert found is not None and found.member_names == ("alice", "bob")


def test_a_rename_retitles_it_and_a_deleted_member_leaves_it(store: Store) -> None:
    alice, bob, _ = users(store, "alice", "bob", "carol")
    entry, _ = store.open_direct(alice.id, ["bob", "carol"])
    store.rename_user("carol", "caroline")
    assert listed(store, bob)["alice, bob, caroline"] == ("direct", ("alice", "bob", "caroline"))
    store.append_messages([NewMessage(entry.room.id, bob.id, "bob", MsgType.MESSAGE, "hi",
                                      None, 1)])
    store.delete_user("caroline")
    assert listed(store, alice)["alice, bob"] == ("direct", ("alice", "bob"))
    assert [m.text for m in store.messages_before(entry.room.id, None, 5)] == ["hi"]


def test_name_keys_computed_again_leave_direct_rooms_alone(store: Store) -> None:
    alice, _ = users(store, "alice", "bob")
    store.create_room("Lobby")
    entry, _ = store.open_direct(alice.id, ["bob"])
    with store.db.atomic():
        Meta.update(value="older rules").where(Meta.key == name_keys.KEY_VERSION_KEY).execute()
        assert name_keys.refresh(store.db) == []
    assert name_keys.clashes() == []
    again, made = store.open_direct(alice.id, ["bob"])
    assert (again.room.id, made) == (entry.room.id, False)


def test_a_version_4_database_keeps_its_messages_and_takes_direct_rooms(store_url: str) -> None:
    make_old_database(store_url, 4)
    store = Store.open(store_url)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION
        veteran = store.user("veteran")
        assert veteran is not None
        ((archive, (kind, _)),) = listed(store, veteran).items()
        assert (archive, kind) == ("Archive", "room")
        (room,) = store.rooms()
        assert [m.text for m in store.messages_before(room.id, None, 10)] == [
            "message 1", "message 2", "message 3"]
        newcomer = store.create_user("newcomer", "h")
        entry, made = store.open_direct(newcomer.id, ["veteran"])
        assert made and entry.room.id > room.id
        assert set(listed(store, veteran)) == {"Archive", "newcomer, veteran"}
    finally:
        store.close()
