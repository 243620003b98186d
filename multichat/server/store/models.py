"""peewee models of the current schema, bound to the store's database at open.

Only ``store`` imports this module. A change here needs a new step in
``migrations.py`` (and a new frozen schema test fixture): databases made by
any earlier version must keep opening.
"""

from __future__ import annotations

from typing import Any

import peewee as pw

from multichat.protocol.events import ROOM_KIND

database = pw.DatabaseProxy()


class NeverReusedIdField(pw.AutoField):
    """An auto id that is never handed out again after its row is deleted.

    A room's id, so that a client's remembered seq never meets a new room; an
    account's and a token's, so that nothing that remembers one (a session, a
    log line) can ever name another. PostgreSQL sequences never reuse ids;
    SQLite's ``INTEGER PRIMARY KEY`` hands the largest id out again after a
    delete unless the column is ``AUTOINCREMENT``.
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
    id = NeverReusedIdField()
    username = pw.CharField(max_length=32, unique=True)
    # protocol.names.username_key(username): case and look-alikes folded away, unique.
    # A name that clashed with an older one when keys were computed (an upgrade, a
    # new Unicode) keeps a distinct key marked with CLASH_MARK until it is renamed.
    username_key = pw.TextField(unique=True)
    password_hash = pw.TextField()
    is_staff = pw.BooleanField(default=False)
    is_superuser = pw.BooleanField(default=False)
    created_ms = pw.BigIntegerField()


class Room(BaseModel):
    id = NeverReusedIdField()
    title = pw.CharField(max_length=100, unique=True)
    title_key = pw.TextField(unique=True)  # protocol.names.title_key(title), as username_key
    staff_only = pw.BooleanField(default=False)
    # The seq of the room's newest message; bumped in the transaction that stores one.
    last_seq = pw.BigIntegerField(default=0)
    # How many messages and announcements (not changes) the room holds: the newest's
    # ordinal. Unread = this minus the ordinal a user read up to.
    listed_count = pw.BigIntegerField(default=0)
    created_ms = pw.BigIntegerField()
    # "room" (made by an admin) or "direct" (a direct conversation, made by dm.open).
    # A direct one's title and title_key are a private mark no name can have
    # (DIRECT_MARK), and direct_key the sorted ids of its members, which find it.
    kind = pw.CharField(max_length=16, default=ROOM_KIND)
    direct_key = pw.TextField(null=True, unique=True)
    # Who started a direct conversation (NULL for rooms): for the limit on starting them.
    created_by = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL",
                                    column_name="created_by")


class Token(BaseModel):
    id = NeverReusedIdField()
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
    # NULL for a DELETE event, and once a message is deleted for it and its EDITs.
    text = pw.TextField(null=True)
    client_id = pw.CharField(max_length=128, null=True)
    ts_ms = pw.BigIntegerField()
    # A message's: the seq of the message (same room) it replies to.
    reply_to = pw.BigIntegerField(null=True)
    # An EDIT's, DELETE's or REACTION's: the seq of the message it changes.
    target = pw.BigIntegerField(null=True)
    # A REACTION's emoji, and 1 if it adds it, 0 if it takes it back (an integer, not
    # a boolean, so that rows copy between engines as they are: store.transfer).
    emoji = pw.CharField(max_length=32, null=True)
    reaction_on = pw.SmallIntegerField(null=True)
    # A message's or announcement's place among them in its room (1, 2, ...); NULL for
    # changes and notices: what unread counts count.
    ordinal = pw.BigIntegerField(null=True)

    class Meta:
        indexes = (
            (("room", "seq"), True),
            # NULLs are distinct in unique indexes (SQLite and PostgreSQL), so only
            # messages that carry a client_id are deduplicated.
            (("account", "client_id"), True),
            # migrations.py makes it partial (WHERE "target" IS NOT NULL): changes only.
            (("room", "target"), False),
        )


class ReadMarker(BaseModel):
    """How far a user has read a room: the highest seq any of their devices marked."""

    account = pw.ForeignKeyField(Account, on_delete="CASCADE", index=False)  # the key covers it
    account_id: int  # peewee's raw values of the foreign keys, declared for mypy
    room = pw.ForeignKeyField(Room, on_delete="CASCADE")
    room_id: int
    seq = pw.BigIntegerField()
    # The ordinal of the newest message at or before ``seq``: unread counts start there.
    ordinal = pw.BigIntegerField(default=0)

    class Meta:
        primary_key = pw.CompositeKey("account", "room")


class RoomMember(BaseModel):
    """A member of a direct conversation (rooms made by admins have none)."""

    room = pw.ForeignKeyField(Room, on_delete="CASCADE", index=False)  # the key covers it
    room_id: int  # peewee's raw values of the foreign keys, declared for mypy
    account = pw.ForeignKeyField(Account, on_delete="CASCADE")
    account_id: int

    class Meta:
        primary_key = pw.CompositeKey("room", "account")


class File(BaseModel):
    """An uploaded file: what it is, who sent it, and whether every byte is stored.

    The id is random (``secrets``), never a counter: ids can't be guessed or counted,
    and none is handed out twice. ``complete`` is 1 once every byte is stored and its
    SHA-256 computed from the stored chunks; until then nothing serves it, nothing
    sends it, and an upload abandoned past its timeout is deleted.
    """

    id = pw.CharField(primary_key=True, max_length=64)
    # The uploader; NULL once the account is deleted (the file stays with its messages).
    account = pw.ForeignKeyField(Account, null=True, on_delete="SET NULL")
    account_id: int | None
    name = pw.TextField()
    size = pw.BigIntegerField()
    mime_type = pw.CharField(max_length=255)
    sha256 = pw.CharField(max_length=64, null=True)
    # An image the server decoded: its size in pixels (as shown, EXIF orientation
    # applied) and the type it is served inline as (image/png, image/jpeg, ...).
    width = pw.IntegerField(null=True)
    height = pw.IntegerField(null=True)
    inline_type = pw.CharField(max_length=32, null=True)
    # Bytes per chunk row (all but the last are full): where a byte range begins.
    chunk_bytes = pw.IntegerField()
    complete = pw.SmallIntegerField(default=0)  # 0/1: copies between engines as is
    created_ms = pw.BigIntegerField()
    touched_ms = pw.BigIntegerField()  # the last chunk's time: abandoned uploads go

    class Meta:
        indexes = ((("complete", "touched_ms"), False),)


class FileChunk(BaseModel):
    """A file's bytes, ``chunk_bytes`` a row, in order."""

    file = pw.ForeignKeyField(File, on_delete="CASCADE", index=False)  # the key covers it
    part = pw.IntegerField()  # 0, 1, 2 ...: the chunk's place in the file
    data = pw.BlobField()

    class Meta:
        primary_key = pw.CompositeKey("file", "part")


class FileThumbnail(BaseModel):
    """An image's thumbnail, made once when its upload completes."""

    file = pw.ForeignKeyField(File, primary_key=True, on_delete="CASCADE")
    mime_type = pw.CharField(max_length=32)
    width = pw.IntegerField()
    height = pw.IntegerField()
    data = pw.BlobField()


class MessageFile(BaseModel):
    """A file a message carries, by the message's room and seq, in the order sent."""

    room = pw.ForeignKeyField(Room, on_delete="CASCADE", index=False)  # the key covers it
    room_id: int
    seq = pw.BigIntegerField()
    position = pw.SmallIntegerField()
    file = pw.ForeignKeyField(File, on_delete="CASCADE")

    class Meta:
        primary_key = pw.CompositeKey("room", "seq", "position")


class UploadRecord(BaseModel):
    """Bytes a user started uploading, when: the daily quota, on every process. Kept
    when the file is later deleted (deleting does not refund the day), dropped when
    an upload is abandoned (nothing was stored)."""

    id = pw.AutoField()
    account = pw.ForeignKeyField(Account, on_delete="CASCADE", index=False)
    file_id = pw.CharField(max_length=64)
    size = pw.BigIntegerField()
    created_ms = pw.BigIntegerField()

    class Meta:
        indexes = ((("account", "created_ms"), False),)


ALL_MODELS: list[type[pw.Model]] = [Meta, Account, Room, Token, Message, ReadMarker,
                                    RoomMember, File, FileChunk, FileThumbnail, MessageFile,
                                    UploadRecord]

# Between a name's key and the id of its row in the key of a name that clashed:
# a control character, which no key computed from a name ever holds.
CLASH_MARK = "\x1f#"
# How a direct conversation's stored title and title key begin: no room's title can.
DIRECT_MARK = "\x1fdm:"

