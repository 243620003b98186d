"""Copying a whole Multichat database to another one: SQLite to PostgreSQL, say.

Everything moves with its ids: users with their password hashes (nobody
needs a new password), rooms with their seq counters, every message with its
seq, login tokens (nobody is signed out), read markers, and files with their
bytes, thumbnails, the messages that carry them and the day's upload quota. The search index is
built anew on the target from the copied messages (``search_index.fill``): its
form differs by engine. Afterwards the target's id
counters are moved past the copied rows, and past ids the source had handed
out and deleted, so a room id is never reused and no insert collides.

The source is read with plain SQL (peewee binds the models to one database,
the target); it must be at this Multichat's schema version. The target must
hold no users, rooms, tokens or messages yet, and is written in one
transaction: a failed copy leaves it empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import peewee as pw

from multichat.server.redact import redact
from multichat.server.store import migrations, search_index
from multichat.server.store.database import open_database
from multichat.server.store.errors import StoreError, StoreUnavailable
from multichat.server.store.models import (
    Account,
    File,
    FileChunk,
    FileThumbnail,
    Message,
    MessageFile,
    ReadMarker,
    Room,
    RoomMember,
    Token,
    UploadRecord,
)
from multichat.server.store.repository import Store

# Rows read per query, and rows per INSERT (well under SQLite's bound parameters).
READ_PAGE = 2000
INSERT_ROWS = 100

# In dependency order: a token, message or read marker names its account and room; a
# chunk, thumbnail or link its file.
TABLES: tuple[type[pw.Model], ...] = (Account, Room, Token, Message, ReadMarker, RoomMember,
                                      File, FileChunk, FileThumbnail, MessageFile,
                                      UploadRecord)
# The tables with an id column and its counter (read markers are keyed by account, room).
COUNTED: tuple[type[pw.Model], ...] = (Account, Room, Token, Message, UploadRecord)
# The order the tables keyed otherwise are read in (a page at a time, by offset).
KEY_ORDER: dict[type[pw.Model], str] = {
    ReadMarker: '"account_id", "room_id"', RoomMember: '"account_id", "room_id"',
    File: '"id"', FileChunk: '"file_id", "part"', FileThumbnail: '"file_id"',
    MessageFile: '"room_id", "seq", "position"',
}
# Rows of up to 256 KiB each (a file's chunks, thumbnails): a few per query and insert,
# so a copy never holds more than a few MiB of them.
BLOB_ROWS = 8
BLOB_TABLES = (FileChunk, FileThumbnail)


@dataclass(frozen=True, slots=True)
class Copied:
    users: int
    rooms: int
    tokens: int
    messages: int


def _columns(model: type[pw.Model]) -> list[pw.Field]:
    return list(model._meta.sorted_fields)


def _rows(source: pw.Database, model: type[pw.Model]) -> Iterator[tuple[object, ...]]:
    table = model._meta.table_name
    names = ", ".join(f'"{field.column_name}"' for field in _columns(model))
    p = source.param
    if model not in COUNTED:  # keyed otherwise: pages in key order
        size = BLOB_ROWS if model in BLOB_TABLES else READ_PAGE
        offset = 0
        while True:
            page = source.execute_sql(
                f'SELECT {names} FROM "{table}" ORDER BY {KEY_ORDER[model]} '
                f'LIMIT {size} OFFSET {p}', (offset,),
            ).fetchall()
            yield from page
            if len(page) < size:
                return
            offset += len(page)
    last = -1
    while True:
        page = source.execute_sql(
            f'SELECT {names} FROM "{table}" WHERE "id" > {p} ORDER BY "id" LIMIT {READ_PAGE}',
            (last,),
        ).fetchall()
        yield from page
        if len(page) < READ_PAGE:
            return
        last = page[-1][0]


def _source_version(source: pw.Database) -> int:
    try:
        row = source.execute_sql(
            "SELECT \"value\" FROM \"meta\" WHERE \"key\" = 'schema_version'"
        ).fetchone()
    except pw.DatabaseError as exc:
        raise StoreError("the source is not a Multichat database") from exc
    if row is None:
        raise StoreError("the source has no schema version: not a Multichat database")
    return int(row[0])


def _high_water(db: pw.Database, table: str) -> int:
    """The largest id the database ever handed out for a table (deleted rows included)."""
    if isinstance(db, pw.SqliteDatabase):
        row = db.execute_sql(
            "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)
        ).fetchone() if db.table_exists("sqlite_sequence") else None
    elif isinstance(db, pw.PostgresqlDatabase):
        sequence = db.execute_sql("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()
        row = None
        if sequence and sequence[0]:
            value = db.execute_sql(f"SELECT last_value, is_called FROM {sequence[0]}").fetchone()
            row = (value[0] if value[1] else 0,)
    else:
        row = None
    top = db.execute_sql(f'SELECT MAX("id") FROM "{table}"').fetchone()
    return max(int(row[0]) if row and row[0] else 0, int(top[0]) if top and top[0] else 0)


def _move_counter(db: pw.Database, table: str, value: int) -> None:
    """Make the target's next id for ``table`` come after ``value``."""
    if value <= 0:
        return
    if isinstance(db, pw.PostgresqlDatabase):
        db.execute_sql("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, true)",
                       (table, value))
    elif isinstance(db, pw.SqliteDatabase):
        # The AUTOINCREMENT tables (room, account, token) have a row here; the others
        # (message) none, and reuse no id of a live row anyway.
        db.execute_sql("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?",
                       (value, table))


def copy_database(
    source_url: str, target_url: str, *, say: Callable[[str], None] = lambda _: None
) -> Copied:
    """Copy every user, room, token and message from one database into an empty one."""
    if source_url == target_url:
        raise StoreError("the source and the target are the same database")
    source = open_database(source_url)
    try:
        version = _source_version(source)
        if version != migrations.SCHEMA_VERSION:
            raise StoreError(
                f"the source has schema version {version}, this Multichat writes "
                f"{migrations.SCHEMA_VERSION}: open the source once with this Multichat "
                "(e.g. multichat admin --database SOURCE user list) to upgrade it first"
            )
        target = Store.open(target_url)
        try:
            return _copy(source, target, say)
        finally:
            target.close()
    except pw.PeeweeException as exc:
        raise StoreUnavailable(f"copying to {redact(target_url)} failed: {exc}") from exc
    finally:
        source.close()


def _copy(source: pw.Database, target: Store, say: Callable[[str], None]) -> Copied:
    if any(model.select().exists() for model in TABLES):
        raise StoreError("the target database already holds users, rooms or messages; "
                         "copy into an empty one")
    counts: dict[type[pw.Model], int] = {}
    with target.db.atomic():
        for model in TABLES:
            fields = _columns(model)
            batch: list[tuple[object, ...]] = []
            count = 0
            per_insert = BLOB_ROWS if model in BLOB_TABLES else INSERT_ROWS
            for row in _rows(source, model):
                batch.append(row)
                if len(batch) >= per_insert:
                    model.insert_many(batch, fields=fields).execute()
                    count += len(batch)
                    batch = []
            if batch:
                model.insert_many(batch, fields=fields).execute()
                count += len(batch)
            counts[model] = count
            say(f"copied {count} row(s) of {model._meta.table_name}")
        indexed = search_index.fill(target.db)
        say(f"indexed {indexed} message(s) for search")
        for model in COUNTED:
            table = model._meta.table_name
            _move_counter(target.db, table, _high_water(source, table))
        target._bump_changes()  # a server already running on the target reloads its view
    return Copied(users=counts[Account], rooms=counts[Room], tokens=counts[Token],
                  messages=counts[Message])
