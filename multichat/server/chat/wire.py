"""The store's records as the protocol's frames: one conversion each, shared by the rules."""

from __future__ import annotations

from multichat.protocol import events
from multichat.protocol.events import Frame
from multichat.server.store.records import FileRecord, Room, RoomEntry, StoredMessage, User


def event_frame(message: StoredMessage) -> Frame:
    return events.room_event(
        room_id=message.room_id,
        message=message.text,
        username=message.username,
        msg_type=message.msg_type,
        seq=message.seq,
        ts_ms=message.ts_ms,
        client_id=message.client_id,
        reply_to=message.reply_to,
        target=message.target,
        emoji=message.emoji,
        on=message.on,
        edited=message.edited,
        deleted=message.deleted,
        reactions=message.reactions,
        files=[file_frame(file) for file in message.files],
    )


def file_frame(file: FileRecord) -> Frame:
    """A file as FILE_OBJ."""
    return events.file_object(file.id, file.name, file.size, file.mime_type, file.sha256,
                              width=file.width, height=file.height)


def room_frame(room: Room) -> Frame:
    return events.room_object(room.id, room.title, room.staff_only)


def room_entry_frame(entry: RoomEntry) -> Frame:
    """A room as the room list gives it (``rooms``): kind, newest seq, this user's read seq
    and unread messages; a direct conversation's with its members."""
    room = entry.room
    return events.room_entry(room.id, room.title, room.staff_only, kind=room.kind,
                             last_seq=entry.last_seq, read_seq=entry.read_seq,
                             members=room.member_names if room.is_direct else None,
                             unread=entry.unread)


def room_list_frame(entries: list[RoomEntry], user: User) -> list[Frame]:
    """The entries one user may see (``Room.visible_to``)."""
    return [room_entry_frame(entry) for entry in entries if entry.room.visible_to(user)]


def user_frame(user: User) -> Frame:
    return events.user_object(user.username, user.is_staff, user.is_superuser)
