"""Files in the store, on SQLite and PostgreSQL: chunks, ranges, completion, quota,
links to messages, and the upgrade of a version-6 database."""

from __future__ import annotations

import hashlib

import pytest

from multichat.protocol import MsgType
from multichat.server.store import Store
from multichat.server.store.errors import QuotaExceeded, UnknownFile
from multichat.server.store.files import CHUNK_BYTES, DAY_MS, UNSENT_KEPT_MS
from multichat.server.store.migrations import SCHEMA_VERSION
from multichat.server.store.records import Appended, NewMessage
from tests.server.store.old_databases import make_old_database


def upload(store: Store, file_id: str, user_id: int, data: bytes, *, now_ms: int = 1) -> None:
    store.files.begin_upload(file_id, user_id, f"{file_id}.bin", len(data), "x/y",
                             now_ms=now_ms, quota_bytes=10**9)
    for part, start in enumerate(range(0, len(data), CHUNK_BYTES)):
        store.files.write_chunk(file_id, part, data[start : start + CHUNK_BYTES], now_ms=now_ms)
    size, digest = store.files.stored_digest(file_id)
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    store.files.complete(file_id, digest)


def test_ranges_read_the_stored_bytes(store: Store) -> None:
    user = store.create_user("alice", "h")
    data = bytes(range(256)) * (CHUNK_BYTES // 256 * 2 + 3)
    upload(store, "f", user.id, data)
    found = store.files.stored_file("f")
    assert found is not None and found.record.size == len(data)
    for first, last in ((0, len(data) - 1), (CHUNK_BYTES - 1, CHUNK_BYTES),
                        (2 * CHUNK_BYTES, len(data) - 1), (5, 5)):
        assert store.files.read_range(found, first, last) == data[first : last + 1]


def test_an_incomplete_upload_is_nothing_to_a_reader_and_goes_whole(store: Store) -> None:
    user = store.create_user("alice", "h")
    store.files.begin_upload("p", user.id, "p", 10, "x/y", now_ms=1, quota_bytes=100)
    store.files.write_chunk("p", 0, b"12345", now_ms=1)
    assert store.files.stored_file("p") is None
    room = store.create_room("Lobby")
    (refused,) = store.append_messages([NewMessage(room.id, user.id, "alice", MsgType.MESSAGE,
                                                   "", None, 1, files=("p",))])
    assert isinstance(refused, UnknownFile)  # nobody may send it
    assert store.files.sweep(idle_before_ms=2, now_ms=3) == 1
    assert list(store.files.chunks("p")) == []
    with pytest.raises(UnknownFile):  # a process still receiving it learns it is gone
        store.files.write_chunk("p", 1, b"67890", now_ms=4)


def test_the_quota_counts_a_day_of_uploads_and_an_abandoned_one_gives_it_back(
    store: Store,
) -> None:
    user = store.create_user("alice", "h")
    files = store.files
    files.begin_upload("a", user.id, "a", 60, "x/y", now_ms=DAY_MS, quota_bytes=100)
    with pytest.raises(QuotaExceeded):
        files.begin_upload("b", user.id, "b", 41, "x/y", now_ms=DAY_MS, quota_bytes=100)
    files.discard("a")  # nothing stored: nothing counted
    files.begin_upload("c", user.id, "c", 100, "x/y", now_ms=DAY_MS, quota_bytes=100)
    # a day later the bytes count no more
    files.begin_upload("d", user.id, "d", 100, "x/y", now_ms=2 * DAY_MS + 1, quota_bytes=100)


def test_a_message_links_its_files_and_its_deletion_drops_the_unshared(store: Store) -> None:
    alice, bob = store.create_user("alice", "h"), store.create_user("bob", "h")
    room = store.create_room("Lobby")
    upload(store, "one", alice.id, b"1")
    upload(store, "two", alice.id, b"2")
    upload(store, "bobs", bob.id, b"b")
    refused = store.append_messages([NewMessage(room.id, alice.id, "alice", MsgType.MESSAGE,
                                                "", None, 1, files=("one", "bobs"))])
    assert isinstance(refused[0], UnknownFile)
    assert store.last_seq(room.id) == 0  # nothing was stored of it
    first, second = store.append_messages([
        NewMessage(room.id, alice.id, "alice", MsgType.MESSAGE, "", None, 1,
                   files=("two", "one")),
        NewMessage(room.id, alice.id, "alice", MsgType.MESSAGE, "again", None, 2,
                   files=("one",)),
    ])
    assert isinstance(first, Appended) and isinstance(second, Appended)
    assert [f.id for f in first.message.files] == ["two", "one"]
    assert [[f.id for f in m.files] for m in store.messages_before(room.id, None, 10)] == [
        ["two", "one"], ["one"]]
    store.append_messages([NewMessage(room.id, alice.id, "alice", MsgType.DELETE, None, None,
                                      3, target=first.message.seq)])
    assert store.files.stored_file("two") is None  # only the deleted message carried it
    assert store.files.stored_file("one") is not None
    assert store.files.rooms_of("one") == [room.id]


def test_a_version_6_database_upgrades_with_the_tables_of_files(store_url: str) -> None:
    make_old_database(store_url, 6)  # "message 1" to "message 3" in room 1
    store = Store.open(store_url)
    try:
        assert store.schema_version() == SCHEMA_VERSION
        veteran = store.user("veteran")
        assert veteran is not None
        upload(store, "new", veteran.id, b"after the upgrade")
        (appended,) = store.append_messages([NewMessage(1, veteran.id, "veteran",
                                                        MsgType.MESSAGE, "", None, 9,
                                                        files=("new",))])
        assert isinstance(appended, Appended) and appended.message.seq == 4
        assert [m.text for m in store.messages_before(1, None, 10)] == [
            "message 1", "message 2", "message 3", ""]
    finally:
        store.close()


def test_a_file_never_sent_goes_after_a_week_a_sent_one_stays(store: Store) -> None:
    alice = store.create_user("alice", "h")
    room = store.create_room("Lobby")
    upload(store, "sent", alice.id, b"s", now_ms=1)
    upload(store, "unsent", alice.id, b"u", now_ms=1)
    store.append_messages([NewMessage(room.id, alice.id, "alice", MsgType.MESSAGE, "", None,
                                      1, files=("sent",))])
    assert store.files.sweep(idle_before_ms=0, now_ms=UNSENT_KEPT_MS) == 0  # not a week yet
    assert store.files.sweep(idle_before_ms=0, now_ms=UNSENT_KEPT_MS + 2) == 1
    assert store.files.stored_file("unsent") is None
    assert store.files.stored_file("sent") is not None
