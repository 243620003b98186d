"""Schema versions: old databases open, newer ones are refused, foreign ones too."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from multichat.server.store import Store
from multichat.server.store.database import DATABASE_FILENAME
from multichat.server.store.errors import SchemaError
from multichat.server.store.migrations import SCHEMA_VERSION

DATA = Path(__file__).parent / "data"


def schema_of(path: Path) -> set[str]:
    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
    return {row[0] for row in rows}


def load_dump(dump: Path, data_dir: Path) -> Path:
    data_dir.mkdir()
    db_path = data_dir / DATABASE_FILENAME
    with sqlite3.connect(db_path) as con:
        con.executescript(dump.read_text())
    return db_path


@pytest.mark.parametrize("dump", sorted(DATA.glob("schema_v*.sql")), ids=lambda p: p.stem)
def test_a_database_made_by_every_released_version_opens(dump: Path, tmp_path: Path) -> None:
    db_path = load_dump(dump, tmp_path / "old")
    store = Store.open_data_dir(tmp_path / "old")
    try:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.user("veteran") is not None
        (room,) = store.rooms()
        assert [m.text for m in store.messages_before(room.id, None, 10)] == [
            "message 1", "message 2", "message 3"
        ]
        assert store.last_seq(room.id) == 3
    finally:
        store.close()
    fresh = Store.open_data_dir(tmp_path / "fresh")
    fresh.close()
    assert schema_of(db_path) == schema_of(tmp_path / "fresh" / DATABASE_FILENAME)


def test_a_new_database_gets_the_current_version(store: Store) -> None:
    assert store.schema_version() == SCHEMA_VERSION


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    Store.open_data_dir(tmp_path).close()
    with sqlite3.connect(tmp_path / DATABASE_FILENAME) as con:
        con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(SchemaError, match="newer"):
        Store.open_data_dir(tmp_path)
    Store.open_data_dir(tmp_path / "again").close()  # the failed open released the process slot


def test_a_database_of_another_program_is_refused(tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    with sqlite3.connect(tmp_path / DATABASE_FILENAME) as con:
        con.execute("CREATE TABLE notes (body TEXT)")
    with pytest.raises(SchemaError, match="not Multichat"):
        Store.open_data_dir(tmp_path)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_store: Store) -> None:
    store = sqlite_store
    assert store.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.db.execute_sql("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_postgresql_opens_again_at_the_same_version_with_its_data(postgres_url: str) -> None:
    first = Store.open(postgres_url)
    try:
        room = first.create_room("Lobby")
    finally:
        first.close()
    again = Store.open(postgres_url)
    try:
        assert again.schema_version() == SCHEMA_VERSION
        assert again.rooms() == [room]
    finally:
        again.close()
