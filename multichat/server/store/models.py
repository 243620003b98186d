"""peewee models of the current schema, bound to the store's database at open.

Only ``store`` imports this module. A change here needs a new step in
``migrations.py`` (and a new frozen schema test fixture): databases made by
any earlier version must keep opening.
"""

from __future__ import annotations

from typing import Any

import peewee as pw

database = pw.DatabaseProxy()


class RoomIdField(pw.AutoField):
    """An auto id that is never reused, so a client's remembered seq never meets a new room.

    PostgreSQL sequences never reuse ids; SQLite needs AUTOINCREMENT for that.
    """

    def ddl(self, ctx: Any) -> Any:
        node = super().ddl(ctx)
        if ctx.state.field_types.get("AUTO") == "INTEGER":  # SQLite
            node = pw.NodeList((node, pw.SQL("AUTOINCREMENT")))
        return node


class BaseModel(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Meta(BaseModel):
    """Key/value facts about the database: schema version, change counter."""

    key = pw.CharField(primary_key=True, max_length=64)
    value = pw.TextField()


class Account(BaseModel):
    id = pw.AutoField()
    username = pw.CharField(max_length=32, unique=True)
    password_hash = pw.TextField()
    is_staff = pw.BooleanField(default=False)
    is_superuser = pw.BooleanField(default=False)
    created_ms = pw.BigIntegerField()


class Room(BaseModel):
    id = RoomIdField()
    title = pw.CharField(max_length=100, unique=True)
    staff_only = pw.BooleanField(default=False)
    # The seq of the room's newest message; bumped in the transaction that stores one.
    last_seq = pw.BigIntegerField(default=0)
    created_ms = pw.BigIntegerField()


class Token(BaseModel):
    id = pw.AutoField()
    account = pw.ForeignKeyField(Account, on_delete="CASCADE", backref="tokens")
    token_hash = pw.CharField(max_length=64, unique=True)
    created_ms = pw.BigIntegerField()
    expires_ms = pw.BigIntegerField()


class Message(BaseModel):
    id = pw.AutoField()
    room = pw.ForeignKeyField(Room, on_delete="CASCADE", index=False)  # (room, seq) covers it
    room_id: int  # peewee's raw value of the foreign key, declared for mypy
    seq = pw.BigIntegerField()
    # The author's account; NULL once the account is deleted (the name stays).
    account = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    username = pw.CharField(max_length=32)
    msg_type = pw.SmallIntegerField()
    text = pw.TextField()
    client_id = pw.CharField(max_length=128, null=True)
    ts_ms = pw.BigIntegerField()

    class Meta:
        indexes = (
            (("room", "seq"), True),
            # NULLs are distinct in unique indexes (SQLite and PostgreSQL), so only
            # messages that carry a client_id are deduplicated.
            (("account", "client_id"), True),
        )


ALL_MODELS: list[type[pw.Model]] = [Meta, Account, Room, Token, Message]
