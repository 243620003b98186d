"""The Store on a real SQLite database in a temp dir, and on a real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from multichat.protocol import MsgType
from multichat.server.store import Store
from multichat.server.store.errors import (
    LastSuperuser,
    StoreError,
    StoreUnavailable,
    TitleTaken,
    UnknownRoom,
    UnknownUser,
    UsernameTaken,
)
from multichat.server.store.records import Appended, NewMessage, Room


def message(room_id: int, user_id: int | None = 1, text: str = "hi", client_id: str | None = None,
            username: str = "alice") -> NewMessage:
    return NewMessage(room_id=room_id, user_id=user_id, username=username,
                      msg_type=MsgType.MESSAGE, text=text, client_id=client_id, ts_ms=1_000)


def superusers(store: Store) -> int:
    return sum(user.is_superuser for user in store.users())


def appended(result: object) -> Appended:
    assert isinstance(result, Appended), result
    return result


def test_users_are_created_listed_updated_and_deleted(store: Store) -> None:
    alice = store.create_user("alice", "hash-a")
    store.create_user("bob", "hash-b", is_staff=True)
    assert [u.username for u in store.users()] == ["alice", "bob"]
    assert store.credentials("alice") is not None
    assert store.credentials("alice").password_hash == "hash-a"  # type: ignore[union-attr]
    with pytest.raises(UsernameTaken):
        store.create_user("alice", "again")
    updated = store.update_user("alice", is_superuser=True)
    assert updated.is_superuser and updated.id == alice.id
    assert superusers(store) == 1
    with pytest.raises(LastSuperuser):
        store.delete_user("alice")
    with pytest.raises(LastSuperuser):
        store.update_user("alice", is_superuser=False)
    store.update_user("bob", is_superuser=True)
    store.delete_user("alice")
    assert store.user("alice") is None
    with pytest.raises(UnknownUser):
        store.delete_user("alice")
    with pytest.raises(UnknownUser):
        store.update_user("nobody", is_staff=True)


def test_rooms_have_unique_titles(store: Store) -> None:
    lobby = store.create_room("Lobby")
    store.create_room("Staff", staff_only=True)
    with pytest.raises(TitleTaken):
        store.create_room("Lobby")
    with pytest.raises(TitleTaken):
        store.update_room(lobby.id, title="Staff")
    renamed = store.update_room(lobby.id, title="Hall", staff_only=True)
    assert (renamed.title, renamed.staff_only) == ("Hall", True)
    assert store.room_by_title("Hall") == renamed
    with pytest.raises(UnknownRoom):
        store.update_room(999, title="x")


def test_room_ids_are_never_reused(store: Store) -> None:
    first = store.create_room("One")
    second = store.create_room("Two")
    store.delete_room(second.id)
    third = store.create_room("Three")
    assert third.id > second.id > first.id


def test_seq_is_gapless_per_room_and_independent_between_rooms(store: Store) -> None:
    user = store.create_user("alice", "h")
    a, b = store.create_room("A"), store.create_room("B")
    results = store.append_messages([message(a.id, user.id), message(b.id, user.id),
                                     message(a.id, user.id), message(a.id, user.id)])
    assert [(appended(r).message.room_id, appended(r).message.seq) for r in results] == [
        (a.id, 1), (b.id, 1), (a.id, 2), (a.id, 3)
    ]
    (later,) = store.append_messages([message(a.id, user.id)])
    assert appended(later).message.seq == 4
    assert (store.last_seq(a.id), store.last_seq(b.id)) == (4, 1)


def test_a_client_id_is_stored_once_per_user(store: Store) -> None:
    alice = store.create_user("alice", "h")
    bob = store.create_user("bob", "h")
    room = store.create_room("A")
    first, again, other_user = store.append_messages([
        message(room.id, alice.id, "one", "c1"),
        message(room.id, alice.id, "one", "c1"),
        message(room.id, bob.id, "two", "c1", username="bob"),
    ])
    assert not appended(first).duplicate
    assert appended(again).duplicate and appended(again).message == appended(first).message
    assert appended(other_user).message.seq == 2
    # The resend after a reconnect, in a later transaction, is recognised too.
    later = appended(store.append_messages([message(room.id, alice.id, "one", "c1")])[0])
    assert later.duplicate and later.message.seq == 1
    assert store.last_seq(room.id) == 2


def test_one_batch_mixing_messages_changes_resends_and_refusals_reads_as_if_sent_apart(
    store: Store,
) -> None:
    """Plain messages and ones that need checks first, in one transaction (on PostgreSQL
    one round trip: store/postgres_append.py): each sees the ones before it."""
    alice = store.create_user("alice", "h")
    room = store.create_room("A")
    change = partial(NewMessage, room_id=room.id, user_id=alice.id, username="alice",
                     text=None, client_id=None, ts_ms=1_000)
    outcomes = store.append_messages([
        message(room.id, alice.id, "hello world", "c1"),
        change(msg_type=MsgType.EDIT, text="hello there", target=1),
        NewMessage(room_id=room.id, user_id=None, username="alice", msg_type=MsgType.WARNING,
                   text="mind the gap", client_id=None, ts_ms=1_000),
        message(room.id, alice.id, "hello world", "c1"),  # the resend of the first
        NewMessage(room_id=room.id, user_id=alice.id, username="alice",
                   msg_type=MsgType.MESSAGE, text="a reply", client_id="c2", ts_ms=1_000,
                   reply_to=1),
        change(msg_type=MsgType.REACTION, target=1, emoji="👍", on=True),
        message(room.id + 1000, alice.id, "nowhere"),
        message(room.id, alice.id, "last words"),
    ])
    first, edit, warning, resend, reply, reaction, nowhere, last = outcomes
    assert [appended(o).message.seq for o in (first, edit, warning, reply, reaction, last)] == [
        1, 2, 3, 4, 5, 6]
    assert appended(resend).duplicate and appended(resend).message.seq == 1
    assert isinstance(nowhere, UnknownRoom)
    assert len({appended(o).version for o in outcomes if isinstance(o, Appended)}) == 1
    listed = store.messages_before(room.id, None, 10)
    assert [(m.seq, m.text, m.edited) for m in listed] == [
        (1, "hello there", True), (3, "mind the gap", False), (4, "a reply", False),
        (6, "last words", False)]
    assert listed[0].reactions == (("👍", ("alice",)),)
    (entry,) = store.room_list(alice.id)
    assert (entry.last_seq, entry.unread) == (6, 4)  # the ordinals count the listed four
    found = store.search(["there"], [room.id], None, 10, budget=1.0)
    assert [m.seq for m in found.messages] == [1]
    assert store.search(["world"], [room.id], None, 10, budget=1.0).messages == []
    assert [m.seq for m in store.search(["words"], [room.id], None, 10,
                                        budget=1.0).messages] == [6]


def test_a_bad_message_does_not_spoil_its_batch(store: Store) -> None:
    user = store.create_user("alice", "h")
    room = store.create_room("A")
    ok1, bad, ok2 = store.append_messages(
        [message(room.id, user.id), message(999, user.id), message(room.id, user.id)]
    )
    assert isinstance(bad, UnknownRoom)
    assert [appended(ok1).message.seq, appended(ok2).message.seq] == [1, 2]


def test_history_pages_oldest_first(store: Store) -> None:
    user = store.create_user("alice", "h")
    room = store.create_room("A")
    store.append_messages([message(room.id, user.id, f"m{i}") for i in range(1, 11)])
    assert [m.seq for m in store.messages_before(room.id, None, 3)] == [8, 9, 10]
    assert [m.seq for m in store.messages_before(room.id, 8, 3)] == [5, 6, 7]
    assert [m.seq for m in store.messages_before(room.id, 2, 50)] == [1]
    assert store.messages_before(room.id, 1, 50) == []
    assert [m.seq for m in store.messages_after(room.id, 7, 50)] == [8, 9, 10]
    assert [m.seq for m in store.messages_after(room.id, 0, 2)] == [1, 2]
    assert store.messages_after(room.id, 10, 50) == []
    assert store.messages_after(room.id, 3, 1)[0].text == "m4"


def test_deleting_a_user_keeps_their_messages_under_their_name(store: Store) -> None:
    user = store.create_user("alice", "h")
    room = store.create_room("A")
    store.append_messages([message(room.id, user.id, "still here", "c1")])
    store.delete_user("alice")
    (kept,) = store.messages_before(room.id, None, 10)
    assert (kept.username, kept.text) == ("alice", "still here")


def test_deleting_a_room_deletes_its_messages(store: Store) -> None:
    user = store.create_user("alice", "h")
    room = store.create_room("A")
    store.append_messages([message(room.id, user.id)])
    store.delete_room(room.id)
    assert store.room(room.id) is None
    assert store.messages_before(room.id, None, 10) == []


def test_tokens_expire_and_are_revoked(store: Store) -> None:
    alice = store.create_user("alice", "h")
    bob = store.create_user("bob", "h")
    store.add_token(alice.id, "hash-kept", expires_ms=10_000)
    store.add_token(alice.id, "hash-other", expires_ms=10_000)
    store.add_token(bob.id, "hash-bob", expires_ms=10_000)
    owner = store.token_owner("hash-kept", at_ms=5_000)
    assert owner is not None and owner.user == alice and owner.token_hash == "hash-kept"
    assert store.token_owner("hash-kept", at_ms=10_000) is None  # expired, and removed
    hashes = ["hash-kept", "hash-other", "hash-bob", "never-issued"]
    assert store.token_owners(hashes, at_ms=5_000) == {"hash-other": alice, "hash-bob": bob}
    store.add_token(alice.id, "hash-third", expires_ms=10_000)
    store.update_user("alice", password_hash="new", keep_token_hash="hash-third")
    assert store.token_owners([*hashes, "hash-third"], at_ms=5_000) == {
        "hash-third": alice, "hash-bob": bob}
    store.revoke_token("hash-third")
    assert store.token_owner("hash-third", at_ms=5_000) is None
    assert store.token_owner("hash-bob", at_ms=5_000) is not None


def test_every_admin_change_moves_the_change_counter(store: Store) -> None:
    seen = [store.changes()]
    store.create_user("alice", "h")
    seen.append(store.changes())
    room = store.create_room("A")
    seen.append(store.changes())
    store.update_room(room.id, staff_only=True)
    seen.append(store.changes())
    store.delete_user("alice")
    seen.append(store.changes())
    assert seen == sorted(set(seen))


def test_a_revoked_login_moves_its_own_counter_not_the_change_counter(store: Store) -> None:
    """Events need not wait for a logout (VersionGate); its sessions close by poll."""
    alice = store.create_user("alice", "h")
    before = store.counters()
    store.add_token(alice.id, "t1", expires_ms=10**15)
    store.add_token(alice.id, "t2", expires_ms=10**15)
    assert store.revoke_token("t1") and not store.revoke_token("t1")
    after_logout = store.counters()
    assert after_logout[0] == before[0] and after_logout[1] > before[1]
    assert store.revoke_user_tokens("alice") == 1
    assert store.counters()[1] > after_logout[1]


def test_concurrent_writers_still_number_without_gaps(store: Store) -> None:
    """Threads (connections of their own, as processes would have) append to shared rooms.

    Each batch spans both rooms, in opposite orders on the two threads: on
    PostgreSQL that would deadlock without the batch's rooms locked in id order.
    """
    user = store.create_user("alice", "h")
    a, b = store.create_room("A"), store.create_room("B")
    seqs: dict[int, list[int]] = {a.id: [], b.id: []}
    lock = threading.Lock()

    def writer(first: int, second: int) -> None:
        for _ in range(25):
            results = store.append_messages([message(first, user.id), message(second, user.id)])
            with lock:
                for result in results:
                    stored = appended(result).message
                    seqs[stored.room_id].append(stored.seq)
        store.close_thread_connection()

    threads = [threading.Thread(target=writer, args=order) for order in ((a.id, b.id),
                                                                         (b.id, a.id))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seqs[a.id]) == list(range(1, 51))
    assert sorted(seqs[b.id]) == list(range(1, 51))


def test_only_one_store_is_open_per_process(sqlite_store: Store, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="already open"):
        Store.open_data_dir(tmp_path / "other")


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="no such directory"):
        Store.open("sqlite:///" + str(tmp_path / "missing" / "db.sqlite3"))
    with pytest.raises(StoreUnavailable, match="three slashes"):
        Store.open("sqlite://host/db")


def test_a_refused_insert_is_isolated_and_leaves_no_gap(store: Store) -> None:
    """The database refuses one message (here a planted clash); the rest of the batch goes in."""
    user = store.create_user("alice", "h")
    a, b = store.create_room("A"), store.create_room("B")
    p = store.db.param
    store.db.execute_sql(  # a row the room's counter does not know about: seq 1 is taken
        'INSERT INTO "message" ("room_id", "seq", "account_id", "username", "msg_type", '
        f'"text", "client_id", "ts_ms") VALUES ({p}, 1, NULL, {p}, 0, {p}, NULL, 0)',
        (a.id, "x", "planted"),
    )
    refused, fine = store.append_messages([message(a.id, user.id), message(b.id, user.id)])
    assert isinstance(refused, StoreError) and "refused" in str(refused)
    assert appended(fine).message.seq == 1
    assert store.last_seq(a.id) == 0  # the failed bump was rolled back with its savepoint


def refused_at_once(store: Store, *changes: Callable[[], object]) -> list[int]:
    """Run the changes on threads of their own (connections, as processes would have),
    released together; return the indexes of those refused as LastSuperuser."""
    barrier = threading.Barrier(len(changes))
    refused: list[int] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            changes[index]()
        except LastSuperuser:
            refused.append(index)
        finally:
            store.close_thread_connection()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(changes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return refused


def test_two_superusers_demoting_each_other_at_once_leave_one(store: Store) -> None:
    """The last-superuser rule holds under concurrency: it is decided in the change's
    transaction (SQLite's write lock, PostgreSQL's row locks), not read before it."""
    store.create_user("ann", "h", is_superuser=True)
    store.create_user("ben", "h", is_superuser=True)
    for round_ in range(20):
        refused = refused_at_once(store, lambda: store.update_user("ann", is_superuser=False),
                                  lambda: store.update_user("ben", is_superuser=False))
        assert len(refused) == 1, f"round {round_}: refused {refused}"
        assert superusers(store) == 1
        for name in ("ann", "ben"):  # both superusers again for the next round
            store.update_user(name, is_superuser=True)


def test_deleting_and_demoting_the_last_superuser_at_once_leaves_one(store: Store) -> None:
    store.create_user("ann", "h", is_superuser=True)
    for round_ in range(10):
        store.create_user("ben", "h", is_superuser=True)
        refused = refused_at_once(store, lambda: store.delete_user("ben"),
                                  lambda: store.update_user("ann", is_superuser=False))
        assert len(refused) == 1 and superusers(store) == 1, f"round {round_}"
        store.update_user("ann", is_superuser=True)  # back to ann alone for the next round
        if store.user("ben") is not None:
            store.delete_user("ben")


def test_two_changes_of_one_account_at_once_keep_both(store: Store) -> None:
    """A password reset and a flag change at once: neither undoes the other (a change
    that wrote back every column it had read brought the old password back)."""
    store.create_user("alice", "hash-0")
    for round_ in range(20):
        new_hash, staff = f"hash-{round_ + 1}", round_ % 2 == 0
        refused_at_once(store, partial(store.update_user, "alice", password_hash=new_hash),
                        partial(store.update_user, "alice", is_staff=staff))
        credentials = store.credentials("alice")
        assert credentials is not None, f"round {round_}"
        assert (credentials.password_hash, credentials.user.is_staff) == (new_hash, staff)


def test_a_rename_and_a_staff_only_switch_at_once_keep_both(store: Store) -> None:
    room = store.create_room("Lobby")
    for round_ in range(20):
        title, staff_only = f"Lobby {round_}", round_ % 2 == 0
        refused_at_once(store, partial(store.update_room, room.id, title=title),
                        partial(store.update_room, room.id, staff_only=staff_only))
        assert store.room(room.id) == Room(room.id, title, staff_only), f"round {round_}"
