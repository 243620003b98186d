"""Schema versions and the steps between them.

The version lives in the ``meta`` table. Opening a database runs every step
above its version, each in its own transaction, so a database made by any
earlier Multichat opens in this one. A database made by a newer Multichat is
refused rather than guessed at.

Each step is frozen once released: it builds the tables as they were at that
version (the ``models`` module describes only the newest schema), and later
changes are new steps using ``playhouse.migrate``. ``tests/server/store``
keeps a database made by each released version and checks it upgrades to the
same schema a new database gets.
"""

from __future__ import annotations

from collections.abc import Callable

import peewee as pw

from multichat.server.store import models
from multichat.server.store.errors import SchemaError

SCHEMA_VERSION = 1
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
        id = models.RoomIdField()
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


STEPS: dict[int, Callable[[pw.Database], None]] = {1: _create_v1}


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
    return found
