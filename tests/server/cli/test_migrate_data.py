"""``multichat admin migrate-data``: a SQLite server's data moved to PostgreSQL, whole."""

from __future__ import annotations

from pathlib import Path

from multichat.protocol import MsgType
from multichat.server.chat.passwords import Passwords
from multichat.server.store import Store
from multichat.server.store.files import CHUNK_BYTES
from multichat.server.store.records import NewMessage, StoredMessage
from tests.helpers.process import run_cli


def fill_sqlite(data_dir: Path, passwords: Passwords) -> dict[str, object]:
    """A server's life: users, rooms (one deleted), messages, a login token."""
    store = Store.open_data_dir(data_dir)
    try:
        alice = store.create_user("alice", passwords.hash("alice-pw"), is_superuser=True)
        bob = store.create_user("bob", passwords.hash("bob-pw"), is_staff=True)
        gone = store.create_user("gone", passwords.hash("x"))
        lobby = store.create_room("Lobby")
        staff = store.create_room("Staff", staff_only=True)
        deleted = store.create_room("Deleted")
        store.append_messages([
            NewMessage(lobby.id, user.id, user.username, MsgType.MESSAGE, f"hello {n}",
                       f"c{n}", 1_000 + n)
            for n, user in enumerate([alice, bob, gone] * 100)
        ] + [NewMessage(staff.id, None, "admin", MsgType.WARNING, "careful", None, 5)])
        store.delete_user("gone")  # its messages stay, with no account
        store.delete_room(deleted.id)  # its id must never come back
        store.add_token(bob.id, "token-hash", expires_ms=10**15)
        store.mark_read(bob.id, lobby.id, 250)
        store.mark_read(alice.id, staff.id, 1)
        direct, _ = store.open_direct(alice.id, ["bob"])
        store.append_messages([NewMessage(direct.room.id, bob.id, "bob", MsgType.MESSAGE,
                                          "between us", "d1", 7)])
        # A file of two chunk rows, with a thumbnail, carried by a message.
        store.files.begin_upload("f1", bob.id, "a.bin", CHUNK_BYTES + 3, "x/y", now_ms=1,
                                 quota_bytes=10**9)
        store.files.write_chunk("f1", 0, b"a" * CHUNK_BYTES, now_ms=1)
        store.files.write_chunk("f1", 1, b"bcd", now_ms=1)
        store.files.complete("f1", "digest", width=1, height=2, inline_type="image/png",
                             thumbnail=("image/png", 1, 2, b"\x89PNG"))
        store.append_messages([NewMessage(direct.room.id, bob.id, "bob", MsgType.MESSAGE,
                                          "", "d2", 8, files=("f1",))])
        return {
            "users": store.users(),
            "rooms": store.rooms(),
            "read": {user.id: store.room_list(user.id) for user in (alice, bob)},
            "lobby": store.messages_after(lobby.id, 0, 1000),
            "staff": store.messages_after(staff.id, 0, 10),
            "hashes": {u: store.credentials(u) for u in ("alice", "bob")},
            "deleted": deleted.id,
            "direct": store.messages_after(direct.room.id, 0, 10),
        }
    finally:
        store.close()


def check_files(store: Store) -> None:
    """The file of ``fill_sqlite``, with its bytes and thumbnail."""
    stored = store.files.stored_file("f1")
    assert stored is not None and stored.inline_type == "image/png"
    assert store.files.read_range(stored, 0, CHUNK_BYTES + 2) == b"a" * CHUNK_BYTES + b"bcd"
    thumbnail = store.files.thumbnail("f1")
    assert thumbnail is not None and thumbnail.data == b"\x89PNG"


def test_sqlite_data_moves_to_postgresql_whole(
    tmp_path: Path, home: Path, postgres_url: str, passwords: Passwords,
) -> None:
    before = fill_sqlite(tmp_path / "data", passwords)
    source = "sqlite:///" + str(tmp_path / "data" / "multichat.sqlite3")
    moved = run_cli(["admin", "migrate-data", "--from", source, "--to", postgres_url], home)
    assert moved.returncode == 0, moved.stderr
    assert "copied 2 user(s), 3 room(s), 303 message(s) and 1 login token(s)" in moved.stdout
    assert "copied 2 row(s) of file_chunk" in moved.stdout

    store = Store.open(postgres_url)
    try:
        assert store.users() == before["users"]
        assert store.rooms() == before["rooms"]
        read = before["read"]
        assert isinstance(read, dict)
        for user_id, entries in read.items():  # read markers and seqs, as they were
            assert store.room_list(user_id) == entries
        lobby, staff = sorted(store.rooms(direct=False), key=lambda r: r.id)
        # The direct conversation, its members and message: the same people find it again.
        alice = store.user("alice")
        assert alice is not None
        direct, made = store.open_direct(alice.id, ["bob"])
        assert not made and direct.last_seq == 2
        assert store.messages_after(direct.room.id, 0, 10) == before["direct"]
        check_files(store)
        # The search index is built on the target for every copied message.
        found = store.search(["betw"], [direct.room.id], None, 10, budget=30)
        assert found.messages[0].files == ()
        assert [m.text for m in found.messages] == ["between us"]
        hello = store.search(["hello", "29"], [lobby.id], None, 10, budget=30)
        assert [m.text for m in hello.messages] == ["hello 299", "hello 298", "hello 297",
                                                    "hello 296", "hello 295", "hello 294",
                                                    "hello 293", "hello 292", "hello 291",
                                                    "hello 290"]
        assert hello.more
        assert store.messages_after(lobby.id, 0, 1000) == before["lobby"]
        assert store.messages_after(staff.id, 0, 10) == before["staff"]
        hashes = before["hashes"]
        assert isinstance(hashes, dict)
        for name in ("alice", "bob"):  # the same password hashes: nobody needs a new password
            assert store.credentials(name) == hashes[name]
        owner = store.token_owner("token-hash", at_ms=0)
        assert owner is not None and owner.user.username == "bob"
        assert owner.token_hash == "token-hash"
        # The counters carry on: seq after the last message, ids after every id handed out.
        assert store.last_seq(lobby.id) == 300
        (appended,) = store.append_messages(
            [NewMessage(lobby.id, owner.user.id, "bob", MsgType.MESSAGE, "on PostgreSQL", "n", 9)]
        )
        assert isinstance(getattr(appended, "message", None), StoredMessage)
        assert appended.message.seq == 301  # type: ignore[union-attr]
        deleted = before["deleted"]
        assert isinstance(deleted, int)
        assert store.create_room("New").id > deleted
        assert store.create_user("carol", "h").id > max(u.id for u in store.users()
                                                         if u.username != "carol")
        store.add_token(owner.user.id, "another-token", expires_ms=10**15)
    finally:
        store.close()

    again = run_cli(["admin", "migrate-data", "--from", source, "--to", postgres_url], home)
    assert again.returncode == 1
    assert again.stderr.strip() == (
        "multichat: error: the target database already holds users, rooms or messages; "
        "copy into an empty one"
    )
