"""Server-to-client frames as types: the client's decoder, and their encoders.

Every frame the server sends has a frozen dataclass here. ``encode()`` gives
the bytes the server sends (through the builders of ``events``, so the two
can never disagree); ``decode_frame(text)`` gives the client one of these
types, or ``Unknown`` for anything it does not recognise (a newer server's
frame, a malformed one): it never raises. Room ids are strings on the wire
and ints here.

The server's hot path still builds a room event's dict once and encodes it
once (``events``); these types are for everything that reads frames.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from multichat.protocol import events
from multichat.protocol.codes import ErrorCode, MsgType


class _Malformed(Exception):
    """A frame of a known kind with a field of the wrong shape."""


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """A room: in the room list with its kind, newest seq and this user's read seq; in
    admin replies without them (they decode to the defaults, as an older server's do)."""

    id: int
    title: str
    staff_only: bool
    kind: str = events.ROOM_KIND
    last_seq: int = 0
    read_seq: int = 0
    # A direct conversation's members (this user included), sorted; None for a room.
    members: tuple[str, ...] | None = None
    # Messages and announcements after read_seq (not changes); None from an older server.
    unread: int | None = None

    @property
    def is_direct(self) -> bool:
        return self.kind == events.DIRECT_KIND

    def wire(self) -> events.Frame:
        return events.room_entry(self.id, self.title, self.staff_only, kind=self.kind,
                                 last_seq=self.last_seq, read_seq=self.read_seq,
                                 members=self.members, unread=self.unread)


@dataclass(frozen=True, slots=True)
class UserInfo:
    username: str
    is_staff: bool
    is_superuser: bool

    def wire(self) -> events.Frame:
        return events.user_object(self.username, self.is_staff, self.is_superuser)


@dataclass(frozen=True, slots=True)
class FileObj:
    """A stored file (FILE_OBJ). ``width``/``height``: an image the server decoded, which
    has a thumbnail at ``/files/ID/thumbnail``; the bytes are at ``/files/ID``."""

    id: str
    name: str
    size: int
    type: str
    sha256: str  # hex
    width: int | None = None
    height: int | None = None

    @property
    def is_image(self) -> bool:
        return self.width is not None and self.height is not None

    def wire(self) -> events.Frame:
        return events.file_object(self.id, self.name, self.size, self.type, self.sha256,
                                  width=self.width, height=self.height)


class ServerFrame:
    """Base of every decoded frame; ``encode()`` is the frame as the server sends it."""

    __slots__ = ()

    def wire(self) -> events.Frame:
        raise NotImplementedError

    def encode(self) -> bytes:
        return events.encode(self.wire())


@dataclass(frozen=True, slots=True)
class RoomEvent(ServerFrame):
    """A message, an announcement (both with seq and ts) or an ENTER/LEAVE notice."""

    room: int
    message: str | None
    username: str
    msg_type: MsgType
    seq: int | None = None
    ts: str | None = None  # ISO 8601 in UTC, as the server formats it
    client_id: str | None = None
    reply_to: int | None = None  # a message: the seq of the message it answers
    # EDIT, DELETE, REACTION: the seq of the message changed; a REACTION's emoji and on.
    target: int | None = None
    emoji: str | None = None
    on: bool | None = None
    # In history: the message as it is now.
    edited: bool = False
    deleted: bool = False
    reactions: events.Reactions = ()
    files: tuple[FileObj, ...] = ()  # a message's files, in the order sent

    def wire(self) -> events.Frame:
        frame = events.room_event(room_id=self.room, message=self.message,
                                  username=self.username, msg_type=self.msg_type,
                                  seq=self.seq, client_id=self.client_id,
                                  reply_to=self.reply_to, target=self.target,
                                  emoji=self.emoji, on=self.on, edited=self.edited,
                                  deleted=self.deleted, reactions=self.reactions,
                                  files=[file.wire() for file in self.files])
        if self.ts is not None:
            frame["ts"] = self.ts
        return frame


@dataclass(frozen=True, slots=True)
class UploadReady(ServerFrame):
    """The answer to ``upload``: the file's id, and the most bytes a binary frame may
    carry; the upload's ``ref``."""

    id: str
    chunk: int
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.upload_ready(self.id, self.chunk, self.ref)


@dataclass(frozen=True, slots=True)
class FileStored(ServerFrame):
    """Every byte of an upload arrived and is stored: the file, for a ``send``'s
    ``files``; the upload's ``ref``."""

    file: FileObj
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.file_stored(self.file.wire(), self.ref)


@dataclass(frozen=True, slots=True)
class Typing(ServerFrame):
    """Another member is typing in the room (not stored, no seq)."""

    room: int
    username: str

    def wire(self) -> events.Frame:
        return events.typing(self.room, self.username)


@dataclass(frozen=True, slots=True)
class ReadMarker(ServerFrame):
    """This user read the room up to ``seq`` on another connection."""

    room: int
    seq: int
    unread: int | None = None  # messages left unread after seq; None from an older server

    def wire(self) -> events.Frame:
        return events.read_marker(self.room, self.seq, self.unread)


@dataclass(frozen=True, slots=True)
class Activity(ServerFrame):
    """A room this connection may see but has not joined has a new stored event
    (the newest, when the server coalesced several); ``mention``: it names this user."""

    room: int
    seq: int
    username: str
    mention: bool
    count: int = 1  # messages and announcements folded into this frame

    def wire(self) -> events.Frame:
        return events.activity(self.room, self.seq, self.username, self.mention, self.count)


@dataclass(frozen=True, slots=True)
class DmOpened(ServerFrame):
    """The answer to ``dm.open``: the direct conversation, as the room list gives it."""

    room: RoomInfo
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.dm(self.room.wire(), self.ref)


@dataclass(frozen=True, slots=True)
class Error(ServerFrame):
    code: str  # an ErrorCode's value, or a code a newer server knows (see ``known``)
    detail: str | None = None
    ref: str | None = None

    @property
    def known(self) -> ErrorCode | None:
        try:
            return ErrorCode(self.code)
        except ValueError:
            return None

    def wire(self) -> events.Frame:
        frame: events.Frame = {"error": self.code}
        if self.detail:
            frame["detail"] = self.detail
        if self.ref is not None:
            frame["ref"] = self.ref
        return frame


@dataclass(frozen=True, slots=True)
class Pong(ServerFrame):
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.pong(self.ref)


@dataclass(frozen=True, slots=True)
class LoggedIn(ServerFrame):
    user: UserInfo
    token: str | None  # None when the browser's session cookie logged the handshake in
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.login_ok(self.user.wire(), self.token, self.ref)


@dataclass(frozen=True, slots=True)
class SessionTicket(ServerFrame):
    ticket: str
    expires_in: int
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.session_ticket(self.ticket, self.expires_in, self.ref)


@dataclass(frozen=True, slots=True)
class LoggedOut(ServerFrame):
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.logout_ok(self.ref)


@dataclass(frozen=True, slots=True)
class Account(ServerFrame):
    """The logged-in user's own account, pushed when an admin changes it."""

    user: UserInfo

    def wire(self) -> events.Frame:
        return events.account(self.user.wire())


@dataclass(frozen=True, slots=True)
class Rooms(ServerFrame):
    rooms: tuple[RoomInfo, ...]
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.rooms((room.wire() for room in self.rooms), self.ref)


@dataclass(frozen=True, slots=True)
class Joined(ServerFrame):
    room: int
    title: str
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.joined(self.room, self.title, self.ref)


@dataclass(frozen=True, slots=True)
class Members(ServerFrame):
    room: int
    users: tuple[str, ...]  # sorted

    def wire(self) -> events.Frame:
        return events.members(self.room, self.users)


@dataclass(frozen=True, slots=True)
class Left(ServerFrame):
    room: int
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.left(self.room, self.ref)


@dataclass(frozen=True, slots=True)
class History(ServerFrame):
    room: int
    messages: tuple[RoomEvent, ...]
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.history(self.room, [m.wire() for m in self.messages], self.ref)


@dataclass(frozen=True, slots=True)
class SearchResults(ServerFrame):
    """A page of search results, newest first, each message as ``history`` gives it (with
    its room). ``next``: the cursor for older results (the next search's ``before``)
    when ``more``."""

    query: str
    results: tuple[RoomEvent, ...]
    more: bool
    next: int | None = None
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.search_results(self.query, [m.wire() for m in self.results], self.more,
                                     self.next, self.ref)


@dataclass(frozen=True, slots=True)
class RoomChanged(ServerFrame):
    """The reply to room.create, room.update or room.delete (``key`` says which)."""

    KEYS: ClassVar[tuple[str, ...]] = ("room.created", "room.updated", "room.deleted")
    key: str
    room: RoomInfo
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.admin_reply(self.key, self.room.wire(), self.ref)


@dataclass(frozen=True, slots=True)
class UserChanged(ServerFrame):
    """The reply to user.create, user.update or user.delete (``key`` says which)."""

    KEYS: ClassVar[tuple[str, ...]] = ("user.created", "user.updated", "user.deleted")
    key: str
    user: UserInfo
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.admin_reply(self.key, self.user.wire(), self.ref)


@dataclass(frozen=True, slots=True)
class Users(ServerFrame):
    """The reply to user.list."""

    users: tuple[UserInfo, ...]
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.admin_reply("users", [user.wire() for user in self.users], self.ref)


@dataclass(frozen=True, slots=True)
class Announced(ServerFrame):
    """The reply to announce: the stored event."""

    event: RoomEvent
    ref: str | None = None

    def wire(self) -> events.Frame:
        return events.admin_reply("announced", self.event.wire(), self.ref)


@dataclass(frozen=True, slots=True)
class Unknown(ServerFrame):
    """A frame this client does not know (a newer server's), or a malformed one.

    ``ref`` is the frame's ref when one could be read, so that a client can
    settle the request it answers.
    """

    text: str
    ref: str | None = None

    def wire(self) -> events.Frame:
        return {"unknown": self.text}  # never sent: a client's decoder makes these

    def encode(self) -> bytes:
        return self.text.encode()


# -- decoding -----------------------------------------------------------------------


def decode_frame(text: str | bytes) -> ServerFrame:
    """The typed frame of one text frame from the server; ``Unknown`` rather than raise."""
    raw = text.decode(errors="replace") if isinstance(text, bytes) else text
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return Unknown(raw)
    if not isinstance(data, dict):
        return Unknown(raw)
    ref = data.get("ref") if isinstance(data.get("ref"), str) else None
    for key, decoder in _DECODERS:
        if key in data:
            try:
                return decoder(data)
            except _Malformed:
                return Unknown(raw, ref)
    return Unknown(raw, ref)


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise _Malformed(key)
    return value


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _Malformed(key)
    return value


def _bool(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise _Malformed(key)
    return value


def _room_id(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _Malformed(key)


def _mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed("object")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _Malformed("list")
    return value


def _ref(data: Mapping[str, Any]) -> str | None:
    return _opt_str(data, "ref")


def _room_info(value: Any) -> RoomInfo:
    data = _mapping(value)
    kind = _opt_str(data, "kind")
    members = data.get("members")
    return RoomInfo(_room_id(data, "id"), _str(data, "title"), _bool(data, "staff_only"),
                    events.ROOM_KIND if kind is None else kind,
                    _opt_int(data, "last_seq") or 0, _opt_int(data, "read_seq") or 0,
                    None if members is None else _usernames(members), _opt_int(data, "unread"))


def _room_infos(value: Any) -> tuple[RoomInfo, ...]:
    """A room list's entries this client can read: one of a newer shape is left out, not
    the list (as a history page leaves out an event it can't read)."""
    infos = []
    for item in _list(value):
        try:
            infos.append(_room_info(item))
        except _Malformed:
            continue
    return tuple(infos)


def _usernames(value: Any) -> tuple[str, ...]:
    names = _list(value)
    if not all(isinstance(name, str) for name in names):
        raise _Malformed("members")
    return tuple(names)


def _int(data: Mapping[str, Any], key: str) -> int:
    value = _opt_int(data, key)
    if value is None:
        raise _Malformed(key)
    return value


def _user_info(value: Any) -> UserInfo:
    data = _mapping(value)
    return UserInfo(_str(data, "username"), _bool(data, "is_staff"),
                    _bool(data, "is_superuser"))


def _room_event(value: Any) -> RoomEvent:
    data = _mapping(value)
    msg_type = data.get("msg_type")
    if not isinstance(msg_type, int) or isinstance(msg_type, bool):
        raise _Malformed("msg_type")
    try:
        kind = MsgType(msg_type)
    except ValueError:
        raise _Malformed("msg_type") from None
    return RoomEvent(room=_room_id(data, "room"), message=_opt_str(data, "message"),
                     username=_str(data, "username"), msg_type=kind, seq=_opt_int(data, "seq"),
                     ts=_opt_str(data, "ts"), client_id=_opt_str(data, "client_id"),
                     reply_to=_opt_int(data, "reply_to"), target=_opt_int(data, "target"),
                     emoji=_opt_str(data, "emoji"), on=_opt_bool(data, "on"),
                     edited=data.get("edited") is True, deleted=data.get("deleted") is True,
                     reactions=_reactions(data.get("reactions")),
                     files=_file_objs(data.get("files")))


def _file_obj(value: Any) -> FileObj:
    data = _mapping(value)
    size = _int(data, "size")
    width, height = _opt_int(data, "width"), _opt_int(data, "height")
    if size < 0 or (width is None) != (height is None):
        raise _Malformed("file")
    return FileObj(_str(data, "id"), _str(data, "name"), size, _str(data, "type"),
                   _str(data, "sha256"), width, height)


def _file_objs(value: Any) -> tuple[FileObj, ...]:
    if value is None:
        return ()
    return tuple(_file_obj(item) for item in _list(value))


def _upload_ready(data: Mapping[str, Any]) -> UploadReady:
    upload = _mapping(data["upload"])
    chunk = _int(upload, "chunk")
    if chunk < 1:
        raise _Malformed("chunk")
    return UploadReady(_str(upload, "id"), chunk, _ref(data))


def _opt_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise _Malformed(key)
    return value


def _opt_bool(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise _Malformed(key)
    return value


def _reactions(value: Any) -> events.Reactions:
    if value is None:
        return ()
    reactions = []
    for emoji, users in _mapping(value).items():
        names = _list(users)
        if not all(isinstance(name, str) for name in names):
            raise _Malformed("reactions")
        reactions.append((emoji, tuple(names)))
    return tuple(reactions)


def _error(data: Mapping[str, Any]) -> Error:
    return Error(_str(data, "error"), _opt_str(data, "detail") or None, _ref(data))


def _login(data: Mapping[str, Any]) -> LoggedIn:
    login = _mapping(data["login"])
    return LoggedIn(_user_info(login), _opt_str(login, "token"), _ref(data))


def _flag(data: Mapping[str, Any], key: str) -> None:
    if data.get(key) is not True:
        raise _Malformed(key)


def _pong(data: Mapping[str, Any]) -> Pong:
    _flag(data, "pong")
    return Pong(_ref(data))


def _logout(data: Mapping[str, Any]) -> LoggedOut:
    _flag(data, "logout")
    return LoggedOut(_ref(data))


def _history(data: Mapping[str, Any]) -> History:
    """A page of events; one this client cannot read (a newer kind) is left out, not the page."""
    messages = []
    for raw in _list(data.get("messages")):
        try:
            messages.append(_room_event(raw))
        except _Malformed:
            continue
    return History(_room_id(data, "history"), tuple(messages), _ref(data))


def _search_results(data: Mapping[str, Any]) -> SearchResults:
    """A page of results; one this client cannot read (a newer kind) is left out."""
    results = []
    for raw in _list(data.get("results")):
        try:
            results.append(_room_event(raw))
        except _Malformed:
            continue
    cursor = data.get("next")
    if cursor is not None and not (isinstance(cursor, str) and cursor.isascii()
                                   and cursor.isdigit() and len(cursor) <= 19):
        raise _Malformed("next")
    return SearchResults(_str(data, "search"), tuple(results), _bool(data, "more"),
                         int(cursor) if cursor is not None else None, _ref(data))


def _members(data: Mapping[str, Any]) -> Members:
    users = _list(data.get("users"))
    if not all(isinstance(user, str) for user in users):
        raise _Malformed("users")
    return Members(_room_id(data, "members"), tuple(users))


def _admin_reply(key: str) -> Callable[[Mapping[str, Any]], ServerFrame]:
    def decode(data: Mapping[str, Any]) -> ServerFrame:
        if key in RoomChanged.KEYS:
            return RoomChanged(key, _room_info(data[key]), _ref(data))
        if key in UserChanged.KEYS:
            return UserChanged(key, _user_info(data[key]), _ref(data))
        if key == "users":
            return Users(tuple(_user_info(u) for u in _list(data[key])), _ref(data))
        return Announced(_room_event(data[key]), _ref(data))
    return decode


# Which key names a frame's kind, tried in this order (a room event has "room" and
# "msg_type"; the seed's join reply has "join" and "title"; ...).
_DECODERS: tuple[tuple[str, Callable[[Mapping[str, Any]], ServerFrame]], ...] = (
    ("error", _error),
    ("msg_type", _room_event),
    ("history", _history),
    ("search", _search_results),
    ("upload", _upload_ready),
    ("file", lambda d: FileStored(_file_obj(d["file"]), _ref(d))),
    ("join", lambda d: Joined(_room_id(d, "join"), _str(d, "title"), _ref(d))),
    ("members", _members),
    ("typing", lambda d: Typing(_room_id(d, "typing"), _str(d, "username"))),
    ("read", lambda d: ReadMarker(_room_id(d, "read"), _int(d, "seq"), _opt_int(d, "unread"))),
    ("activity", lambda d: Activity(_room_id(d, "activity"), _int(d, "seq"),
                                    _str(d, "username"), _bool(d, "mention"),
                                    _opt_int(d, "count") or 1)),
    ("dm", lambda d: DmOpened(_room_info(d["dm"]), _ref(d))),
    ("leave", lambda d: Left(_room_id(d, "leave"), _ref(d))),
    ("rooms", lambda d: Rooms(_room_infos(d["rooms"]), _ref(d))),
    ("account", lambda d: Account(_user_info(d["account"]))),
    ("login", _login),
    ("logout", _logout),
    ("session.ticket", lambda d: SessionTicket(_str(d, "session.ticket"),
                                               _int(d, "expires_in"), _ref(d))),
    ("pong", _pong),
    *((key, _admin_reply(key)) for key in (*RoomChanged.KEYS, *UserChanged.KEYS, "users",
                                            "announced")),
)
