"""Names unique by key, enforced by the database; schema 2's upgrade of old databases.

A v1 database full of look-alikes (``data/v1_lookalikes.sql``) upgrades with
every row, id, token and link intact; the names that now clash are reported,
set aside under distinct keys, and stay reachable. Ids of accounts and tokens
are never handed out again after a delete, on SQLite too.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path

import peewee as pw
import pytest

from multichat.protocol import names
from multichat.server.chat.tokens import token_hash
from multichat.server.store import Store, name_keys
from multichat.server.store.database import DATABASE_FILENAME, open_database
from multichat.server.store.errors import TitleTaken, UsernameTaken
from multichat.server.store.migrations import SCHEMA_VERSION, STEPS
from multichat.server.store.models import CLASH_MARK
from tests.server.store.test_migrations import load_dump

DATA = Path(__file__).parent / "data"
CYRILLIC_ADMIN = "\u0430dmin"
WIDE_ALICE = "\uff41\uff4c\uff49\uff43\uff45"
LOBBY_ZWSP = "Lobby\u200b"
EVIL_TITLE = "Evil\x1b[2J\n   9  Forged  yes"
TOKENS = {"alice-laptop": 2, "Alice-phone": 3, "admin-lookalike": 5, "bob-desk": 7,
          "bob-phone": 7}
HASH = "$argon2id$v=19$m=8,t=1,p=1$C+PNF52QhTc$sk/hug"


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as con:
        return con.execute(sql).fetchall()


def test_look_alikes_are_one_name_to_the_store(store: Store) -> None:
    store.create_user("alice", HASH)
    store.create_user("admin", HASH)
    for name in ("Alice", "ALICE", WIDE_ALICE, "\u0430lice"):
        with pytest.raises(UsernameTaken, match="'alice' already exists"):
            store.create_user(name, HASH)
    with pytest.raises(UsernameTaken, match="'admin'"):
        store.create_user(CYRILLIC_ADMIN, HASH)
    alice = store.user("alice")
    assert store.user("Alice") == store.user(WIDE_ALICE) == alice
    credentials = store.credentials("ALICE")
    assert credentials is not None and credentials.user == alice
    store.create_room("Lobby")
    for title in ("lobby", "LOBBY", "L\u043ebby", "L0bby"):
        with pytest.raises(TitleTaken, match="'Lobby'"):
            store.create_room(title)
    garden = store.create_room("Garden")
    with pytest.raises(TitleTaken, match="'Lobby'"):
        store.update_room(garden.id, title="lobby")
    assert store.update_room(garden.id, title="GARDEN").title == "GARDEN"  # its own key
    assert store.room_by_title("garden") == store.room(garden.id)


def test_the_database_refuses_a_second_row_with_a_taken_key(store: Store) -> None:
    """Two processes that both pass the check still cannot both insert: a unique index."""
    store.create_user("alice", HASH)
    store.create_room("Lobby")
    p = store.db.param
    with pytest.raises(pw.IntegrityError), store.db.atomic():
        store.db.execute_sql(
            'INSERT INTO "account" ("username", "username_key", "password_hash", "is_staff", '
            f'"is_superuser", "created_ms") VALUES ({p}, {p}, {p}, {p}, {p}, 0)',
            ("Alice", names.username_key("Alice"), HASH, False, False))
    with pytest.raises(pw.IntegrityError), store.db.atomic():
        store.db.execute_sql(
            'INSERT INTO "room" ("title", "title_key", "staff_only", "last_seq", "created_ms") '
            f"VALUES ({p}, {p}, {p}, 0, 0)", ("lobby", names.title_key("lobby"), False))


def test_an_account_id_is_never_handed_out_again(store: Store) -> None:
    """SQLite's INTEGER PRIMARY KEY gave the newest deleted id to the next account."""
    store.create_user("admin", HASH, is_superuser=True)
    first = store.create_user("alice", HASH)
    store.add_token(first.id, token_hash("first"), expires_ms=2**62)
    first_token = token_row_id(store, token_hash("first"))
    store.delete_user("alice")
    second = store.create_user("bob", HASH)
    store.add_token(second.id, token_hash("second"), expires_ms=2**62)
    assert second.id > first.id
    assert token_row_id(store, token_hash("second")) > first_token


def token_row_id(store: Store, hashed: str) -> int:
    row = store.db.execute_sql(f'SELECT "id" FROM "token" WHERE "token_hash" = {store.db.param}',
                               (hashed,)).fetchone()
    return int(row[0])


def test_a_v1_database_of_look_alikes_upgrades_with_nothing_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = load_dump(DATA / "v1_lookalikes.sql", tmp_path / "old")
    before = {table: rows(path, f'SELECT * FROM "{table}" ORDER BY "id"')
              for table in ("account", "token", "message", "room")}
    with caplog.at_level(logging.WARNING, logger="multichat.server.store.name_keys"):
        store = Store.open_data_dir(tmp_path / "old")
    try:
        assert store.schema_version() == SCHEMA_VERSION
        # Every user, with the id it had; the exact name finds each one.
        users = {user.id: user.username for user in store.users()}
        assert users == {row[0]: row[1] for row in before["account"]}
        for user_id, username in users.items():
            found = store.user(username)
            assert found is not None and found.id == user_id
        # Every token still logs its own account in.
        for token, account_id in TOKENS.items():
            owner = store.token_owner(token_hash(token), 0)
            assert owner is not None and owner.user.id == account_id
        # Every message, room and link as it was.
        assert store.messages_before(1, None, 10)[-1].username == "ghost"
        assert {room.id: room.title for room in store.rooms()} == {
            row[0]: row[1] for row in before["room"]}
        assert store.room_by_title(EVIL_TITLE) == store.room(4)
        clashes = [(c.kind, c.id, c.like_id) for c in name_keys.clashes()]
    finally:
        store.close()
    assert sorted(clashes) == [("room", 2, 1), ("room", 5, 1), ("user", 3, 2), ("user", 5, 1),
                               ("user", 6, 2)]
    after = {table: rows(path, f'SELECT {columns} FROM "{table}" ORDER BY "id"')
             for table, columns in (("account", '"id", "username", "password_hash", '
                                     '"is_staff", "is_superuser", "created_ms"'),
                                    ("token", "*"),
                                    ("message", '"id", "room_id", "seq", "account_id", '
                                     '"username", "msg_type", "text", "client_id", "ts_ms"'),
                                    ("room", '"id", "title", "staff_only", "last_seq", '
                                     '"created_ms"'))}
    assert after == before
    assert rows(path, "PRAGMA foreign_key_check") == []
    # The warnings name each clash, escaped: no ESC or U+200B reaches a log.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "'Lobby\\u200b' (id 2) looks like 'Lobby' (id 1)" in logged
    assert f"'{CYRILLIC_ADMIN}' (id 5) looks like 'admin' (id 1)" in logged
    assert "\u200b" not in logged and "\x1b" not in logged
    # Accounts and tokens now have AUTOINCREMENT ids; room ids had them already.
    schema = {str(name): str(sql) for name, sql in
              rows(path, "SELECT name, sql FROM sqlite_master WHERE type = 'table'")}
    assert all("AUTOINCREMENT" in str(schema[t]) for t in ("account", "token", "room"))


def test_an_upgraded_database_goes_on_past_its_old_ids_and_keys(tmp_path: Path) -> None:
    load_dump(DATA / "v1_lookalikes.sql", tmp_path / "old")
    with contextlib.closing(Store.open_data_dir(tmp_path / "old")) as store:
        carol = store.create_user("carol", HASH)
        assert carol.id == 8
        store.delete_user("carol")
        assert store.create_user("dave", HASH).id == 9
        with pytest.raises(UsernameTaken, match="'alice'"):
            store.create_user("ALICE", HASH)
        # Renaming a look-alike clears its mark; the older name keeps its key.
        store.rename_user("Alice", "alice2")
        store.update_room(2, title="Lobby two")
        remaining = {(c.kind, c.id) for c in name_keys.clashes()}
        assert remaining == {("room", 5), ("user", 5), ("user", 6)}
    # Opened again by the same rules: nothing to recompute, nothing reported again.
    with contextlib.closing(Store.open_data_dir(tmp_path / "old")) as store:
        assert {(c.kind, c.id) for c in name_keys.clashes()} == remaining


def test_keys_are_recomputed_when_the_rules_that_made_them_change(tmp_path: Path) -> None:
    """A new Unicode or skeleton makes new keys; a name whose key went stale is found again."""
    with contextlib.closing(Store.open_data_dir(tmp_path)) as store:
        store.create_user("alice", HASH)
    db_path = tmp_path / DATABASE_FILENAME
    with contextlib.closing(sqlite3.connect(db_path)) as con, con:
        con.execute("UPDATE account SET username_key = 'stale' WHERE username = 'alice'")
        con.execute("UPDATE meta SET value = 'older rules' WHERE key = ?",
                    (name_keys.KEY_VERSION_KEY,))
    with contextlib.closing(Store.open_data_dir(tmp_path)) as store:
        assert store.user("ALICE") is not None
    assert rows(db_path, "SELECT username_key FROM account") == [(names.username_key("alice"),)]


def test_no_key_of_a_name_holds_the_clash_mark() -> None:
    for text in ("a\x1fb", "\x1f#1", "Lobby\x1f#2", "#1"):
        assert CLASH_MARK not in names.title_key(text)
        assert CLASH_MARK not in names.username_key(text)


def test_postgresql_upgrades_a_v1_database_of_look_alikes(postgres_url: str) -> None:
    db = open_database(postgres_url)
    with db.atomic():
        STEPS[1](db)
        db.execute_sql("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
        for account_id, username in ((1, "admin"), (2, "alice"), (3, "Alice"),
                                     (5, CYRILLIC_ADMIN)):
            db.execute_sql("INSERT INTO account (id, username, password_hash, is_staff, "
                           "is_superuser, created_ms) VALUES (%s, %s, %s, false, %s, 0)",
                           (account_id, username, HASH, account_id == 1))
        db.execute_sql("SELECT setval(pg_get_serial_sequence('account', 'id'), 6)")
        db.execute_sql("INSERT INTO room (id, title, staff_only, last_seq, created_ms) "
                       "VALUES (1, 'Lobby', false, 1, 0), (2, %s, false, 0, 0)", (LOBBY_ZWSP,))
        db.execute_sql("SELECT setval(pg_get_serial_sequence('room', 'id'), 2)")
        db.execute_sql("INSERT INTO token (account_id, token_hash, created_ms, expires_ms) "
                       "VALUES (3, %s, 0, %s)", (token_hash("Alice-phone"), 2**62))
        db.execute_sql("INSERT INTO message (room_id, seq, account_id, username, msg_type, "
                       "text, ts_ms) VALUES (1, 1, 5, %s, 0, 'obey', 0)", (CYRILLIC_ADMIN,))
    db.close()
    store = Store.open(postgres_url)
    try:
        assert store.schema_version() == SCHEMA_VERSION
        assert {u.id: u.username for u in store.users()} == {
            1: "admin", 2: "alice", 3: "Alice", 5: CYRILLIC_ADMIN}
        owner = store.token_owner(token_hash("Alice-phone"), 0)
        assert owner is not None and owner.user.username == "Alice"
        assert store.messages_before(1, None, 1)[0].username == CYRILLIC_ADMIN
        assert sorted((c.kind, c.id, c.like_id) for c in name_keys.clashes()) == [
            ("room", 2, 1), ("user", 3, 2), ("user", 5, 1)]
        with pytest.raises(UsernameTaken):
            store.create_user("ADMIN", HASH)
        assert store.create_user("carol", HASH).id == 7
    finally:
        store.close()
