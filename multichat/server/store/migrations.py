"""Schema versions and the steps between them.

The version lives in the ``meta`` table. Opening a database runs every step
above its version, each in its own transaction, so a database made by any
earlier Multichat opens in this one. A database made by a newer Multichat is
refused rather than guessed at.

Each step is frozen once released: it builds the tables as they were at that
version (the ``models`` module describes only the newest schema), and later
changes are new steps, written in each engine's own SQL where a generic
helper would do something unsafe (``playhouse.migrate`` rebuilds SQLite
tables with foreign keys on, and dropping a table then deletes or nulls the
rows that refer to it). ``tests/server/store`` keeps a database made by each
released version and checks it upgrades to the same schema a new database gets.

On SQLite the migration runs with foreign keys off (the pragma only takes
effect outside a transaction) and checks them all (``PRAGMA
foreign_key_check``) before it commits, as SQLite's documented procedure for
rebuilding a table says. After the steps the keys of names are brought in
line with this version's rules (``name_keys.refresh``), in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Callable

import peewee as pw

from multichat.server.store import models, name_keys, search_index
from multichat.server.store.errors import SchemaError

SCHEMA_VERSION = 8
_VERSION_KEY = "schema_version"


def _create_v1(db: pw.Database) -> None:
    """Version 1: accounts, rooms, tokens, messages (frozen as of Multichat 0.1)."""

    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Meta(Base):
        key = pw.CharField(primary_key=True, max_length=64)
        value = pw.TextField()

    class Account(Base):
        username = pw.CharField(max_length=32, unique=True)
        password_hash = pw.TextField()
        is_staff = pw.BooleanField(default=False)
        is_superuser = pw.BooleanField(default=False)
        created_ms = pw.BigIntegerField()

    class Room(Base):
        id = models.NeverReusedIdField()
        title = pw.CharField(max_length=100, unique=True)
        staff_only = pw.BooleanField(default=False)
        last_seq = pw.BigIntegerField(default=0)
        created_ms = pw.BigIntegerField()

    class Token(Base):
        account = pw.ForeignKeyField(Account, on_delete="CASCADE")
        token_hash = pw.CharField(max_length=64, unique=True)
        created_ms = pw.BigIntegerField()
        expires_ms = pw.BigIntegerField()

    class Message(Base):
        room = pw.ForeignKeyField(Room, on_delete="CASCADE", index=False)  # (room, seq) covers it
        seq = pw.BigIntegerField()
        account = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
        username = pw.CharField(max_length=32)
        msg_type = pw.SmallIntegerField()
        text = pw.TextField()
        client_id = pw.CharField(max_length=128, null=True)
        ts_ms = pw.BigIntegerField()

        class Meta:
            indexes = ((("room", "seq"), True), (("account", "client_id"), True))

    db.create_tables([Meta, Account, Room, Token, Message])
    Meta.create(key="changes", value="0")


def _sqlite_v2(db: pw.Database) -> None:
    """Version 2 on SQLite: name keys; accounts and tokens rebuilt with AUTOINCREMENT ids.

    SQLite's "other kinds of table schema changes": create the new table, copy
    the rows (ids kept), drop the old one, rename the new one, make its indexes.
    Foreign keys are off (``migrate``), so the drop deletes no token and nulls no
    message author; the rows that refer to ``account`` refer to the new table
    once it has the name.
    """
    run = db.execute_sql
    run('CREATE TABLE "account_v2" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, '
        '"username" VARCHAR(32) NOT NULL, "username_key" TEXT NOT NULL, '
        '"password_hash" TEXT NOT NULL, "is_staff" INTEGER NOT NULL, '
        '"is_superuser" INTEGER NOT NULL, "created_ms" INTEGER NOT NULL)')
    # A placeholder key of each row's own; name_keys.refresh computes the real ones.
    run('INSERT INTO "account_v2" ("id", "username", "username_key", "password_hash", '
        '"is_staff", "is_superuser", "created_ms") SELECT "id", "username", \'#\' || "id", '
        '"password_hash", "is_staff", "is_superuser", "created_ms" FROM "account"')
    run('DROP TABLE "account"')
    run('ALTER TABLE "account_v2" RENAME TO "account"')
    run('CREATE UNIQUE INDEX "account_username" ON "account" ("username")')
    run('CREATE UNIQUE INDEX "account_username_key" ON "account" ("username_key")')

    run('CREATE TABLE "token_v2" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, '
        '"account_id" INTEGER NOT NULL, "token_hash" VARCHAR(64) NOT NULL, '
        '"created_ms" INTEGER NOT NULL, "expires_ms" INTEGER NOT NULL, '
        'FOREIGN KEY ("account_id") REFERENCES "account" ("id") ON DELETE CASCADE)')
    run('INSERT INTO "token_v2" ("id", "account_id", "token_hash", "created_ms", "expires_ms") '
        'SELECT "id", "account_id", "token_hash", "created_ms", "expires_ms" FROM "token"')
    run('DROP TABLE "token"')
    run('ALTER TABLE "token_v2" RENAME TO "token"')
    run('CREATE INDEX "token_account_id" ON "token" ("account_id")')
    run('CREATE UNIQUE INDEX "token_token_hash" ON "token" ("token_hash")')

    # Rooms already had AUTOINCREMENT ids: a column is enough.
    run('ALTER TABLE "room" ADD COLUMN "title_key" TEXT NOT NULL DEFAULT \'\'')
    run('UPDATE "room" SET "title_key" = \'#\' || "id"')
    run('CREATE UNIQUE INDEX "room_title_key" ON "room" ("title_key")')


def _postgres_v2(db: pw.Database) -> None:
    """Version 2 elsewhere (PostgreSQL): name keys. Sequences never reuse ids already."""
    run = db.execute_sql
    for table, column in (("account", "username_key"), ("room", "title_key")):
        run(f'ALTER TABLE "{table}" ADD COLUMN "{column}" TEXT')
        run(f'UPDATE "{table}" SET "{column}" = \'#\' || "id"')  # name_keys.refresh follows
        run(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET NOT NULL')
        run(f'CREATE UNIQUE INDEX "{table}_{column}" ON "{table}" ("{column}")')


def _add_name_keys_v2(db: pw.Database) -> None:
    """Version 2: names unique by key (case and look-alikes), ids never reused on SQLite,
    and a counter of revoked logins beside the change counter."""
    if isinstance(db, pw.SqliteDatabase):
        _sqlite_v2(db)
    else:
        _postgres_v2(db)
    db.execute_sql("INSERT INTO \"meta\" (\"key\", \"value\") VALUES ('revocations', '0')")


# Version 3's index of changes by the message they change: changes only, so that
# messages (most rows) cost it nothing.
_CHANGES_INDEX = ('CREATE INDEX "message_room_id_target" ON "message" ("room_id", "target") '
                  'WHERE "target" IS NOT NULL')


def _sqlite_v3(db: pw.Database) -> None:
    """Version 3 on SQLite: the message table rebuilt with ``text`` nullable (a deleted
    message's text is removed), and the columns of replies and changes.

    Rebuilt as in ``_sqlite_v2`` (SQLite cannot drop a NOT NULL); ids are kept, so
    every message keeps its place and seq.
    """
    run = db.execute_sql
    run('CREATE TABLE "message_v3" ("id" INTEGER NOT NULL PRIMARY KEY, '
        '"room_id" INTEGER NOT NULL, "seq" INTEGER NOT NULL, "account_id" INTEGER, '
        '"username" VARCHAR(32) NOT NULL, "msg_type" INTEGER NOT NULL, "text" TEXT, '
        '"client_id" VARCHAR(128), "ts_ms" INTEGER NOT NULL, "reply_to" INTEGER, '
        '"target" INTEGER, "emoji" VARCHAR(32), "reaction_on" INTEGER, '
        'FOREIGN KEY ("room_id") REFERENCES "room" ("id") ON DELETE CASCADE, '
        'FOREIGN KEY ("account_id") REFERENCES "account" ("id") ON DELETE SET NULL)')
    run('INSERT INTO "message_v3" ("id", "room_id", "seq", "account_id", "username", '
        '"msg_type", "text", "client_id", "ts_ms") SELECT "id", "room_id", "seq", '
        '"account_id", "username", "msg_type", "text", "client_id", "ts_ms" FROM "message"')
    run('DROP TABLE "message"')
    run('ALTER TABLE "message_v3" RENAME TO "message"')
    run('CREATE INDEX "message_account_id" ON "message" ("account_id")')
    run('CREATE UNIQUE INDEX "message_room_id_seq" ON "message" ("room_id", "seq")')
    run('CREATE UNIQUE INDEX "message_account_id_client_id" ON "message" '
        '("account_id", "client_id")')
    run(_CHANGES_INDEX)


def _postgres_v3(db: pw.Database) -> None:
    """Version 3 elsewhere (PostgreSQL): the same columns, in place."""
    run = db.execute_sql
    run('ALTER TABLE "message" ALTER COLUMN "text" DROP NOT NULL')
    run('ALTER TABLE "message" ADD COLUMN "reply_to" BIGINT, ADD COLUMN "target" BIGINT, '
        'ADD COLUMN "emoji" VARCHAR(32), ADD COLUMN "reaction_on" SMALLINT')
    run(_CHANGES_INDEX)


def _add_conversations_v3(db: pw.Database) -> None:
    """Version 3: replies, edits, deletions and reactions (msg_types 6 to 8)."""
    if isinstance(db, pw.SqliteDatabase):
        _sqlite_v3(db)
    else:
        _postgres_v3(db)


def _add_read_markers_v4(db: pw.Database) -> None:
    """Version 4: read markers, one row per (account, room) a user has marked read.

    A new table only: peewee writes its DDL for either engine, from a model frozen here.
    """

    class ReadMarker(pw.Model):
        account = pw.ForeignKeyField(models.Account, on_delete="CASCADE", index=False)
        room = pw.ForeignKeyField(models.Room, on_delete="CASCADE")
        seq = pw.BigIntegerField()

        class Meta:
            database = db
            legacy_table_names = False
            primary_key = pw.CompositeKey("account", "room")

    db.create_tables([ReadMarker])


def _add_direct_rooms_v5(db: pw.Database) -> None:
    """Version 5: direct conversations. A room has a kind ("room" or "direct"); a direct
    one is found by the sorted ids of its members (``direct_key``, unique; NULL for rooms,
    and NULLs are distinct), lists them in ``room_member`` and names who started it
    (``created_by``). Unread counts: ``message.ordinal``, ``room.listed_count`` and
    ``read_marker.ordinal``, filled for what is stored already. Both engines take the
    same SQL: columns added in place, so every room keeps its id and messages."""
    run = db.execute_sql
    run('ALTER TABLE "room" ADD COLUMN "kind" VARCHAR(16) NOT NULL DEFAULT \'room\'')
    run('ALTER TABLE "room" ADD COLUMN "direct_key" TEXT')
    run('CREATE UNIQUE INDEX "room_direct_key" ON "room" ("direct_key")')
    # Who started a direct conversation (NULL for rooms, or once they are deleted): how
    # many one user started in the last hour is limited, on every process.
    run('ALTER TABLE "room" ADD COLUMN "created_by" BIGINT '
        'REFERENCES "account" ("id") ON DELETE SET NULL')
    run('CREATE INDEX "room_created_by" ON "room" ("created_by")')
    # Unread counts that leave out edits, deletions and reactions (which have seqs of
    # their own): each message and announcement gets its ordinal in its room (NULL for
    # changes), a room its count of them, a read marker the ordinal it was read up to.
    listed = '"msg_type" IN (0, 1, 2, 3)'
    run('ALTER TABLE "room" ADD COLUMN "listed_count" BIGINT NOT NULL DEFAULT 0')
    run('ALTER TABLE "message" ADD COLUMN "ordinal" BIGINT')
    run('ALTER TABLE "read_marker" ADD COLUMN "ordinal" BIGINT NOT NULL DEFAULT 0')
    run(f'UPDATE "message" SET "ordinal" = o."n" FROM (SELECT "id", ROW_NUMBER() OVER '
        f'(PARTITION BY "room_id" ORDER BY "seq") AS "n" FROM "message" WHERE {listed}) AS o '
        f'WHERE o."id" = "message"."id"')
    run(f'UPDATE "room" SET "listed_count" = (SELECT COUNT(*) FROM "message" '
        f'WHERE "message"."room_id" = "room"."id" AND {listed})')
    run('UPDATE "read_marker" SET "ordinal" = COALESCE((SELECT MAX("ordinal") FROM "message" '
        'WHERE "message"."room_id" = "read_marker"."room_id" '
        'AND "message"."seq" <= "read_marker"."seq"), 0)')

    class RoomMember(pw.Model):
        room = pw.ForeignKeyField(models.Room, on_delete="CASCADE", index=False)
        account = pw.ForeignKeyField(models.Account, on_delete="CASCADE")

        class Meta:
            database = db
            legacy_table_names = False
            primary_key = pw.CompositeKey("room", "account")

    db.create_tables([RoomMember])


def _add_search_v6(db: pw.Database) -> None:
    """Version 6: the search index (``search_index``), built for every message stored.

    ``message_search`` holds each live message's words as it reads now, keyed by the
    message's id (its row goes when the message does). SQLite indexes it with an FTS5
    table of external content kept by triggers; PostgreSQL holds the words as a
    ``tsvector`` under a GIN index. The words of the messages already stored are
    computed by this Multichat's rules (``protocol.words``): should they change, a
    later step rebuilds the index.
    """
    run = db.execute_sql
    if isinstance(db, pw.SqliteDatabase):
        run('CREATE TABLE "message_search" ("id" INTEGER NOT NULL PRIMARY KEY, '
            '"room_id" INTEGER NOT NULL, "words" TEXT NOT NULL, '
            'FOREIGN KEY ("id") REFERENCES "message" ("id") ON DELETE CASCADE)')
        run('CREATE VIRTUAL TABLE "message_fts" USING fts5("words", '
            f"content='message_search', content_rowid='id', {search_index.FTS5_OPTIONS})")
        run('CREATE TRIGGER "message_search_added" AFTER INSERT ON "message_search" BEGIN '
            'INSERT INTO "message_fts" ("rowid", "words") VALUES (new."id", new."words"); END')
        run('CREATE TRIGGER "message_search_removed" AFTER DELETE ON "message_search" BEGIN '
            'INSERT INTO "message_fts" ("message_fts", "rowid", "words") '
            "VALUES ('delete', old.\"id\", old.\"words\"); END")
        run('CREATE TRIGGER "message_search_changed" AFTER UPDATE ON "message_search" BEGIN '
            'INSERT INTO "message_fts" ("message_fts", "rowid", "words") '
            "VALUES ('delete', old.\"id\", old.\"words\"); "
            'INSERT INTO "message_fts" ("rowid", "words") VALUES (new."id", new."words"); END')
    else:
        run('CREATE TABLE "message_search" ("id" BIGINT NOT NULL PRIMARY KEY '
            'REFERENCES "message" ("id") ON DELETE CASCADE, "room_id" BIGINT NOT NULL, '
            '"words" TSVECTOR NOT NULL)')
        run('CREATE INDEX "message_search_words" ON "message_search" USING GIN ("words")')
    # Deletions whose words may still be in FTS5's older segments (SQLite before 3.42).
    run('INSERT INTO "meta" ("key", "value") VALUES (%s, \'0\')'.replace("%s", db.param),
        (search_index.PURGE_KEY,))
    search_index.fill(db)


def _add_files_v7(db: pw.Database) -> None:
    """Version 7: files. New tables only, from models frozen here (peewee writes each
    engine's DDL: BLOB on SQLite, BYTEA on PostgreSQL). A file's bytes live in the
    database, in chunk rows, so every process of a cluster serves them and backups and
    ``migrate-data`` carry them (docs/architecture.md)."""

    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class File(Base):
        id = pw.CharField(primary_key=True, max_length=64)
        account = pw.ForeignKeyField(models.Account, null=True, on_delete="SET NULL")
        name = pw.TextField()
        size = pw.BigIntegerField()
        mime_type = pw.CharField(max_length=255)
        sha256 = pw.CharField(max_length=64, null=True)
        width = pw.IntegerField(null=True)
        height = pw.IntegerField(null=True)
        inline_type = pw.CharField(max_length=32, null=True)
        chunk_bytes = pw.IntegerField()
        complete = pw.SmallIntegerField(default=0)
        created_ms = pw.BigIntegerField()
        touched_ms = pw.BigIntegerField()

        class Meta:
            indexes = ((("complete", "touched_ms"), False),)

    class FileChunk(Base):
        file = pw.ForeignKeyField(File, on_delete="CASCADE", index=False)
        part = pw.IntegerField()  # 0, 1, 2 ...: the chunk's place in the file
        data = pw.BlobField()

        class Meta:
            primary_key = pw.CompositeKey("file", "part")

    class FileThumbnail(Base):
        file = pw.ForeignKeyField(File, primary_key=True, on_delete="CASCADE")
        mime_type = pw.CharField(max_length=32)
        width = pw.IntegerField()
        height = pw.IntegerField()
        data = pw.BlobField()

    class MessageFile(Base):
        room = pw.ForeignKeyField(models.Room, on_delete="CASCADE", index=False)
        seq = pw.BigIntegerField()
        position = pw.SmallIntegerField()
        file = pw.ForeignKeyField(File, on_delete="CASCADE")

        class Meta:
            primary_key = pw.CompositeKey("room", "seq", "position")

    class UploadRecord(Base):
        account = pw.ForeignKeyField(models.Account, on_delete="CASCADE", index=False)
        file_id = pw.CharField(max_length=64)
        size = pw.BigIntegerField()
        created_ms = pw.BigIntegerField()

        class Meta:
            indexes = ((("account", "created_ms"), False),)

    db.create_tables([File, FileChunk, FileThumbnail, MessageFile, UploadRecord])


def _add_web_tickets_v8(db: pw.Database) -> None:
    """Version 8: the browser's one-time login tickets (``store/web_tickets.py``), in the
    database so that any process of a cluster redeems a ticket another issued. A row is
    keyed by the ticket's SHA-256 and holds the token sealed under a key derived from the
    ticket; expired rows are purged by ``expires_ms``, a user's oldest by its index."""

    class WebTicket(pw.Model):
        digest = pw.CharField(primary_key=True, max_length=64)
        sealed = pw.BlobField()
        account = pw.ForeignKeyField(models.Account, on_delete="CASCADE", index=False)
        expires_ms = pw.BigIntegerField(index=True)

        class Meta:
            database = db
            legacy_table_names = False
            indexes = ((("account", "expires_ms"), False),)

    db.create_tables([WebTicket])


STEPS: dict[int, Callable[[pw.Database], None]] = {
    1: _create_v1, 2: _add_name_keys_v2, 3: _add_conversations_v3, 4: _add_read_markers_v4,
    5: _add_direct_rooms_v5, 6: _add_search_v6, 7: _add_files_v7, 8: _add_web_tickets_v8,
}


def current_version(db: pw.Database) -> int:
    """The schema version of an open database; 0 for an empty one."""
    if not db.table_exists("meta"):
        if db.get_tables():
            raise SchemaError("this database holds tables that are not Multichat's")
        return 0
    row = models.Meta.get_or_none(models.Meta.key == _VERSION_KEY)
    if row is None:
        raise SchemaError("the database has no schema version: not a Multichat database")
    return int(row.value)


def _schema_lock(db: pw.Database) -> pw._atomic:
    """One transaction that keeps two processes from migrating the same database at once."""
    if isinstance(db, pw.SqliteDatabase):
        return db.atomic(lock_type="IMMEDIATE")
    return db.atomic()


def migrate(db: pw.Database) -> int:
    """Bring the database up to SCHEMA_VERSION; return the version it had before."""
    sqlite = isinstance(db, pw.SqliteDatabase)
    if sqlite:
        db.execute_sql("PRAGMA foreign_keys = OFF")  # outside the transaction, or it is ignored
    try:
        with _schema_lock(db):
            if isinstance(db, pw.PostgresqlDatabase):
                db.execute_sql("SELECT pg_advisory_xact_lock(7262827)")  # "mc" schema lock
            found = current_version(db)
            if found > SCHEMA_VERSION:
                raise SchemaError(
                    f"the database has schema version {found}, newer than this Multichat "
                    f"understands ({SCHEMA_VERSION}); upgrade Multichat"
                )
            for version in range(found + 1, SCHEMA_VERSION + 1):
                STEPS[version](db)
                models.Meta.insert(key=_VERSION_KEY, value=str(version)).on_conflict(
                    conflict_target=[models.Meta.key], update={models.Meta.value: str(version)}
                ).execute()
            name_keys.refresh(db)
            if sqlite and found < SCHEMA_VERSION:
                broken = db.execute_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise SchemaError(f"the upgrade would break {len(broken)} reference(s) "
                                      f"between rows, e.g. {broken[0]}; nothing was changed")
    finally:
        if sqlite:
            db.execute_sql("PRAGMA foreign_keys = ON")
    return found
