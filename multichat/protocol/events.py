"""Server-to-client frames: builders of each frame's JSON object, and the one encoder.

Builders take plain values and return dicts; ``encode`` turns a dict into the
UTF-8 bytes of a text frame. A room event is encoded once and the same bytes
go to every member. Room ids are strings in every server frame, as the seed's
web client expects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from multichat.protocol.codes import ErrorCode, MsgType

Frame = dict[str, Any]
# A message's reactions: each emoji with the usernames that gave it, in the order given.
Reactions = tuple[tuple[str, tuple[str, ...]], ...]

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode(frame: Frame) -> bytes:
    """The UTF-8 JSON text of one frame."""
    return _encoder.encode(frame).encode()


def format_ts(ts_ms: int) -> str:
    """Milliseconds since the epoch as ISO 8601 in UTC, e.g. 2026-11-24T12:00:00.123Z."""
    moment = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}Z"


def _with_ref(frame: Frame, ref: str | None) -> Frame:
    if ref is not None:
        frame["ref"] = ref
    return frame


def room_event(
    *,
    room_id: int,
    message: str | None,
    username: str,
    msg_type: MsgType,
    seq: int | None = None,
    ts_ms: int | None = None,
    client_id: str | None = None,
    reply_to: int | None = None,
    target: int | None = None,
    emoji: str | None = None,
    on: bool | None = None,
    edited: bool = False,
    deleted: bool = False,
    reactions: Reactions | None = None,
    files: list[Frame] | None = None,
) -> Frame:
    """A room event: a message, an announcement (both with seq and ts) or ENTER/LEAVE;
    or an EDIT, DELETE or REACTION of the message ``target``.

    ``edited``, ``deleted`` and ``reactions`` describe a message as it is now
    (``history``); each key is left out when it says nothing. ``files``: the message's
    files, as ``file_object`` gives them.
    """
    frame: Frame = {
        "room": str(room_id),
        "message": message,
        "username": username,
        "msg_type": int(msg_type),
    }
    if seq is not None:
        frame["seq"] = seq
    if ts_ms is not None:
        frame["ts"] = format_ts(ts_ms)
    if client_id is not None:
        frame["client_id"] = client_id
    if reply_to is not None:
        frame["reply_to"] = reply_to
    if target is not None:
        frame["target"] = target
    if emoji is not None:
        frame["emoji"] = emoji
    if on is not None:
        frame["on"] = on
    if edited:
        frame["edited"] = True
    if deleted:
        frame["deleted"] = True
    if reactions:
        frame["reactions"] = {emoji: list(users) for emoji, users in reactions}
    if files:
        frame["files"] = files
    return frame


def file_object(file_id: str, name: str, size: int, mime_type: str, sha256: str, *,
                width: int | None = None, height: int | None = None) -> Frame:
    """A stored file (FILE_OBJ): ``width`` and ``height`` only for an image the server
    decoded (which then has a thumbnail)."""
    frame: Frame = {"id": file_id, "name": name, "size": size, "type": mime_type,
                    "sha256": sha256}
    if width is not None and height is not None:
        frame["width"] = width
        frame["height"] = height
    return frame


def upload_ready(file_id: str, chunk: int, ref: str | None = None) -> Frame:
    """The answer to ``upload``: send the bytes as binary frames of at most ``chunk``."""
    return _with_ref({"upload": {"id": file_id, "chunk": chunk}}, ref)


def file_stored(file: Frame, ref: str | None = None) -> Frame:
    """Every byte of an upload is stored and checked: the file may go on a ``send``;
    ``ref`` is the upload's."""
    return _with_ref({"file": file}, ref)


def typing(room_id: int, username: str) -> Frame:
    """``username`` is typing in the room: to its other members, not stored, no seq."""
    return {"typing": str(room_id), "username": username}


# A room's kind in the room list: made by an admin ("room"), or a direct conversation.
ROOM_KIND = "room"
DIRECT_KIND = "direct"


def room_object(room_id: int, title: str, staff_only: bool) -> Frame:
    """A room as admin replies name it."""
    return {"id": str(room_id), "title": title, "staff_only": staff_only}


def room_entry(room_id: int, title: str, staff_only: bool, *, kind: str = ROOM_KIND,
               last_seq: int = 0, read_seq: int = 0,
               members: Iterable[str] | None = None, unread: int | None = None) -> Frame:
    """A room as the room list gives it: its kind, newest seq and this user's read seq;
    a direct conversation's with its members' usernames, sorted; and (an added key)
    how many messages and announcements after ``read_seq`` this user has not read,
    which ``last_seq - read_seq`` overcounts by the edits, deletions and reactions."""
    frame: Frame = {"id": str(room_id), "title": title, "staff_only": staff_only,
                    "kind": kind, "last_seq": last_seq, "read_seq": read_seq}
    if members is not None:
        frame["members"] = sorted(members)
    if unread is not None:
        frame["unread"] = unread
    return frame


def dm(entry: Frame, ref: str | None = None) -> Frame:
    """The answer to ``dm.open``: the direct conversation's room entry."""
    return _with_ref({"dm": entry}, ref)


def activity(room_id: int, seq: int, username: str, mention: bool, count: int = 1) -> Frame:
    """A room the connection may see but has not joined has a new stored event;
    ``count``: how many messages and announcements the frame stands for (more than one
    when the server folded several into it)."""
    return {"activity": str(room_id), "seq": seq, "username": username, "mention": mention,
            "count": count}


def read_marker(room_id: int, seq: int, unread: int | None = None) -> Frame:
    """This user has read the room up to ``seq`` (on another connection); ``unread``:
    the messages and announcements left after it then."""
    frame: Frame = {"read": str(room_id), "seq": seq}
    if unread is not None:
        frame["unread"] = unread
    return frame


def user_object(username: str, is_staff: bool, is_superuser: bool) -> Frame:
    return {"username": username, "is_staff": is_staff, "is_superuser": is_superuser}


def error(code: ErrorCode, detail: str | None = None, ref: str | None = None) -> Frame:
    frame: Frame = {"error": code.value}
    if detail:
        frame["detail"] = detail
    return _with_ref(frame, ref)


def pong(ref: str | None = None) -> Frame:
    return _with_ref({"pong": True}, ref)


def login_ok(user: Frame, token: str | None, ref: str | None = None) -> Frame:
    """The login reply; without ``token`` for a handshake logged in by the browser's
    cookie (the page's script must never read the cookie's secret)."""
    login = {**user, "token": token} if token is not None else dict(user)
    return _with_ref({"login": login}, ref)


def session_ticket(ticket: str, expires_in: int, ref: str | None = None) -> Frame:
    """A one-time ticket for ``GET /session?ticket=...``, good for ``expires_in`` seconds."""
    return _with_ref({"session.ticket": ticket, "expires_in": expires_in}, ref)


def logout_ok(ref: str | None = None) -> Frame:
    return _with_ref({"logout": True}, ref)


def account(user: Frame) -> Frame:
    """Pushed when an admin changes the logged-in user's own flags."""
    return {"account": user}


def rooms(room_objects: Iterable[Frame], ref: str | None = None) -> Frame:
    return _with_ref({"rooms": list(room_objects)}, ref)


def joined(room_id: int, title: str, ref: str | None = None) -> Frame:
    return _with_ref({"join": str(room_id), "title": title}, ref)


def members(room_id: int, usernames: Iterable[str]) -> Frame:
    return {"members": str(room_id), "users": sorted(usernames)}


def left(room_id: int, ref: str | None = None) -> Frame:
    return _with_ref({"leave": str(room_id)}, ref)


def history(room_id: int, events: list[Frame], ref: str | None = None) -> Frame:
    return _with_ref({"history": str(room_id), "messages": events}, ref)


def search_results(query: str, events: list[Frame], more: bool, next_before: int | None = None,
                   ref: str | None = None) -> Frame:
    """A page of search results, newest first; ``next`` (the cursor for the page after,
    an opaque string) when ``more``."""
    frame: Frame = {"search": query, "results": events, "more": more}
    if next_before is not None:
        frame["next"] = str(next_before)
    return _with_ref(frame, ref)


def admin_reply(key: str, value: Any, ref: str | None = None) -> Frame:
    """The answer to an admin command, e.g. ``{"room.created": {...}}``."""
    return _with_ref({key: value}, ref)
