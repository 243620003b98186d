"""Client-to-server commands: one frozen dataclass per command, and their decoder.

``decode_command(text)`` turns one text frame into a typed command or raises
``ProtocolError``, which the edge answers with ``BAD_REQUEST``. Only the shape
of a command is checked here (types, ranges, the rules of new names in
``names``); whether it is allowed is the chat layer's business.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import regex

from multichat.protocol import names, passwords
from multichat.protocol import words as search_words
from multichat.protocol.codes import ANNOUNCEMENT_TYPES, MsgType

# Ids larger than this cannot name a room in any store we support (64-bit keys);
# no integer a command carries to the store may be larger (SQLite overflows).
MAX_ID = 2**63 - 1
MAX_ID_DIGITS = len(str(MAX_ID))
MAX_REF_CHARS = 128
MAX_CLIENT_ID_CHARS = 128
MAX_TITLE_CHARS = names.MAX_TITLE_CHARS  # the rules of names live in names.py
MAX_USERNAME_CHARS = names.MAX_USERNAME_CHARS
MAX_PASSWORD_CHARS = passwords.MAX_PASSWORD_CHARS  # the password rule: passwords.py
MAX_TOKEN_CHARS = 256
HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 200
# PROTOCOL.md: an emoji is one grapheme of at most this many bytes of UTF-8 (the
# longest family and flag sequences take 25 to 28).
MAX_EMOJI_BYTES = 32
# PROTOCOL.md: a direct conversation names 1 to 15 others (16 people with the opener);
# repeats and the opener's own name are ignored, so a list may be longer before they are
# folded away (the chat layer counts the people), but not without bound.
MAX_DM_OTHERS = 15
# PROTOCOL.md Part 2, search: `limit` up to 100, 20 by default. A query is at most this
# long and holds at most this many words (protocol.words): each word is one more list
# the index intersects, and no one types more to find a message.
SEARCH_DEFAULT_LIMIT = 20
SEARCH_MAX_LIMIT = 100
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 8
MAX_DM_NAMES = 4 * (MAX_DM_OTHERS + 1)
# PROTOCOL.md Part 2, files. A file's id is an opaque string the server makes (random, so
# that ids can't be counted or guessed, and never reused); a name is what the uploader
# called it, without control characters (they have no place in a file name, and CR/LF
# would be a header injection waiting for a careless server); a MIME type is RFC 6838's
# type/subtype, lower case, its parameters dropped. A message carries at most
# MAX_FILES_PER_MESSAGE files (a screenful of attachments).
MAX_FILE_ID_CHARS = 64
MAX_FILE_NAME_CHARS = 255
MAX_FILE_TYPE_CHARS = 255
MAX_FILES_PER_MESSAGE = 10
DEFAULT_FILE_TYPE = "application/octet-stream"
FILE_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_FILE_ID_CHARS}}}")
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
# C0/C1 controls, line and paragraph separators, and the bidirectional overrides and
# isolates that make "gpj.exe" read as "exe.jpg".
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


# A lone surrogate: JSON lets "\ud800" through, but such a string has no UTF-8 form,
# so neither SQLite, Argon2 nor the frame encoder can take it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _is_unicode(text: str) -> bool:
    """Whether ``text`` can be encoded as UTF-8 (it holds no lone surrogate)."""
    return text.isascii() or _SURROGATE.search(text) is None


# One extended grapheme cluster (UAX #29), as the ``regex`` module reads the
# Unicode version it ships: a ZWJ family, a flag or a skin tone is one.
_GRAPHEME = regex.compile(r"\X")


def is_one_grapheme(text: str) -> bool:
    """Whether ``text`` is a single user-perceived character that is not blank or control."""
    if not text or len(text.encode("utf-8", "surrogatepass")) > MAX_EMOJI_BYTES:
        return False
    if text[0].isspace() or not text[0].isprintable():
        return False
    return _GRAPHEME.fullmatch(text) is not None


class ProtocolError(ValueError):
    """A frame that is not a well-formed command. Carries the ``ref`` if one was readable."""

    def __init__(self, detail: str, ref: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.ref = ref


@dataclass(frozen=True, slots=True)
class Command:
    """Base of every command; ``ref`` is echoed on the direct reply or error.

    The server decodes commands (``decode_command``); a client encodes them
    (``encode``): one definition for both ends, round-trip tested.
    """

    name: ClassVar[str] = ""
    ref: str | None = field(default=None, kw_only=True)

    def wire(self) -> dict[str, Any]:
        """The command's JSON object: its fields, those that are None left out."""
        frame: dict[str, Any] = {"command": self.name}
        for each in fields(self):
            value = getattr(self, each.name)
            if value is None or each.name == "ref":
                continue
            if isinstance(value, MsgType):
                value = int(value)
            elif isinstance(value, tuple):
                value = list(value)  # a JSON array, as the protocol shows it
            frame[each.name] = value
        if self.ref is not None:
            frame["ref"] = self.ref
        return frame

    def encode(self) -> str:
        """The text frame a client sends."""
        # ASCII escapes: text a client cannot encode (a lone surrogate) still goes out,
        # and the server refuses it in words rather than the send failing here.
        return json.dumps(self.wire(), separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Ping(Command):
    name: ClassVar[str] = "ping"


@dataclass(frozen=True, slots=True)
class PasswordLogin(Command):
    name: ClassVar[str] = "login"
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class TokenLogin(Command):
    name: ClassVar[str] = "login"
    token: str


@dataclass(frozen=True, slots=True)
class Logout(Command):
    name: ClassVar[str] = "logout"


@dataclass(frozen=True, slots=True)
class SessionTicket(Command):
    """Ask for a one-time ticket that turns this login into the browser's session cookie.

    ``token`` is the token this connection logged in with (the login reply's):
    holding it proves the ticket is asked for by whoever logged in, and the
    cookie the ticket buys names exactly that token.
    """

    name: ClassVar[str] = "session.ticket"
    token: str


@dataclass(frozen=True, slots=True)
class ListRooms(Command):
    name: ClassVar[str] = "rooms"


@dataclass(frozen=True, slots=True)
class Join(Command):
    name: ClassVar[str] = "join"
    room: int
    since: int | None = None


@dataclass(frozen=True, slots=True)
class Leave(Command):
    name: ClassVar[str] = "leave"
    room: int


@dataclass(frozen=True, slots=True)
class Send(Command):
    name: ClassVar[str] = "send"
    room: int
    message: str
    client_id: str | None = None
    reply_to: int | None = None  # the seq of a message of the same room
    # Ids of files this user uploaded (``upload``), 1 to MAX_FILES_PER_MESSAGE, none
    # twice; with files, ``message`` may be empty.
    files: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Upload(Command):
    """Start sending a file: ``size`` bytes follow as binary frames (PROTOCOL.md Part 2).

    ``type`` is the MIME type the uploader claims; the server serves it inline only
    when it has checked the bytes are that kind of image.
    """

    name: ClassVar[str] = "upload"
    filename: str
    size: int
    type: str = DEFAULT_FILE_TYPE

    def wire(self) -> dict[str, Any]:
        # ``name`` is the command's own name on this class; the wire's key is "name".
        frame: dict[str, Any] = {"command": self.name, "name": self.filename,
                                 "size": self.size, "type": self.type}
        if self.ref is not None:
            frame["ref"] = self.ref
        return frame


@dataclass(frozen=True, slots=True)
class Edit(Command):
    """The author's new text for a message of theirs."""

    name: ClassVar[str] = "edit"
    room: int
    seq: int
    message: str
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class Delete(Command):
    """Delete a message: its text leaves the store."""

    name: ClassVar[str] = "delete"
    room: int
    seq: int
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class React(Command):
    """Add (``on``) or take back this user's ``emoji`` on a message."""

    name: ClassVar[str] = "react"
    room: int
    seq: int
    emoji: str
    on: bool = True
    client_id: str | None = None


# The commands that store an event about an earlier message; they count as sends.
MESSAGE_CHANGES = (Edit, Delete, React)


@dataclass(frozen=True, slots=True)
class Typing(Command):
    """This user is typing in a room: relayed to its other members, never stored."""

    name: ClassVar[str] = "typing"
    room: int


@dataclass(frozen=True, slots=True)
class Read(Command):
    """This user has read the room up to ``seq``: stored (the highest kept), no reply."""

    name: ClassVar[str] = "read"
    room: int
    seq: int


@dataclass(frozen=True, slots=True)
class DmOpen(Command):
    """Open (or find) the direct conversation of this user and ``users``."""

    name: ClassVar[str] = "dm.open"
    users: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Search(Command):
    """Messages that hold, for each word of ``query``, a word beginning with it; newest
    first, in ``room`` or in every room this user may see; older than the cursor
    ``before`` (the ``next`` of the page before: an opaque string, which the decoder
    reads as the number it holds)."""

    name: ClassVar[str] = "search"
    query: str
    room: int | None = None
    before: int | None = None
    limit: int = SEARCH_DEFAULT_LIMIT

    @property
    def words(self) -> list[str]:
        """The query's words as the index holds words (``protocol.words``)."""
        return search_words.words(self.query)


@dataclass(frozen=True, slots=True)
class History(Command):
    """A page of messages: before a seq (or the newest), or ``around`` one."""

    name: ClassVar[str] = "history"
    room: int
    before: int | None = None
    limit: int = HISTORY_DEFAULT_LIMIT
    around: int | None = None


@dataclass(frozen=True, slots=True)
class CreateRoom(Command):
    name: ClassVar[str] = "room.create"
    title: str
    staff_only: bool = False


@dataclass(frozen=True, slots=True)
class UpdateRoom(Command):
    name: ClassVar[str] = "room.update"
    room: int
    title: str | None = None
    staff_only: bool | None = None


@dataclass(frozen=True, slots=True)
class DeleteRoom(Command):
    name: ClassVar[str] = "room.delete"
    room: int


@dataclass(frozen=True, slots=True)
class ListUsers(Command):
    name: ClassVar[str] = "user.list"


@dataclass(frozen=True, slots=True)
class CreateUser(Command):
    name: ClassVar[str] = "user.create"
    username: str
    password: str
    is_staff: bool = False
    is_superuser: bool = False


@dataclass(frozen=True, slots=True)
class UpdateUser(Command):
    name: ClassVar[str] = "user.update"
    username: str
    password: str | None = None
    is_staff: bool | None = None
    is_superuser: bool | None = None


@dataclass(frozen=True, slots=True)
class DeleteUser(Command):
    name: ClassVar[str] = "user.delete"
    username: str


@dataclass(frozen=True, slots=True)
class Announce(Command):
    name: ClassVar[str] = "announce"
    room: int
    message: str
    msg_type: MsgType


# Commands answered before login; everything else needs a logged-in session.
PRE_LOGIN_COMMANDS = (Ping, PasswordLogin, TokenLogin)
ADMIN_COMMANDS = (
    CreateRoom,
    UpdateRoom,
    DeleteRoom,
    ListUsers,
    CreateUser,
    UpdateUser,
    DeleteUser,
    Announce,
)

class _Fields:
    """Typed access to a command object's fields, raising ProtocolError on misuse."""

    def __init__(self, obj: dict[str, Any], ref: str | None) -> None:
        self._obj = obj
        self.ref = ref

    def _fail(self, detail: str) -> ProtocolError:
        return ProtocolError(detail, self.ref)

    def _get(self, key: str, required: bool) -> Any:
        if key not in self._obj or self._obj[key] is None:
            if required:
                raise self._fail(f"missing field {key!r}")
            return None
        return self._obj[key]

    def text(
        self, key: str, *, max_chars: int | None = None, required: bool = True
    ) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._fail(f"{key!r} must be a string")
        if not _is_unicode(value):
            raise self._fail(f"{key!r} must be Unicode text (it holds a lone surrogate)")
        if max_chars is not None and len(value) > max_chars:
            raise self._fail(f"{key!r} is longer than {max_chars} characters")
        return value

    def required_text(self, key: str, *, max_chars: int | None = None) -> str:
        value = self.text(key, max_chars=max_chars)
        assert value is not None  # required=True never returns None
        return value

    def name(self, key: str) -> str:
        """The name of an existing account, as typed: the store finds it by its key.

        Not normalized, so that an account named under older rules stays
        reachable by its exact stored name.
        """
        value = self.required_text(key, max_chars=MAX_USERNAME_CHARS)
        if not value:
            raise self._fail(f"{key!r} must not be empty")
        return value

    def names(self, key: str, *, most: int) -> tuple[str, ...]:
        """A list of 1 to ``most`` names of existing accounts (as ``name``), as given."""
        value = self._get(key, required=True)
        if not isinstance(value, list) or not 1 <= len(value) <= most:
            raise self._fail(f"{key!r} must be a list of 1 to {most} usernames")
        found: list[str] = []
        for item in value:
            if (not isinstance(item, str) or not item or len(item) > MAX_USERNAME_CHARS
                    or not _is_unicode(item)):
                raise self._fail(f"{key!r} must hold usernames (non-empty strings of at "
                                 f"most {MAX_USERNAME_CHARS} characters)")
            found.append(item)
        return tuple(found)

    def new_name(self, key: str) -> str:
        """A username for a new account in the form it is stored in (NFKC).

        The chat rules refuse it if it breaks the rules of names
        (``server/chat/admin.py``: ``valid_username``), before any password is hashed.
        """
        return names.nfkc(self.name(key))

    def title(self, key: str, *, required: bool = True) -> str | None:
        """A room title as it will be stored (``names.normalize_title``)."""
        value = self.text(key, required=required)
        if value is None:
            return None
        try:
            return names.normalize_title(value)
        except ValueError as exc:
            raise self._fail(str(exc)) from exc

    def flag(self, key: str) -> bool | None:
        value = self._get(key, required=False)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self._fail(f"{key!r} must be true or false")
        return value

    def integer(
        self, key: str, *, minimum: int, maximum: int | None = MAX_ID, required: bool = False
    ) -> int | None:
        """An integer in range; ``maximum=None`` for one the caller clamps itself."""
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(f"{key!r} must be an integer")
        if value < minimum:
            raise self._fail(f"{key!r} must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise self._fail(f"{key!r} must be at most {maximum}")
        return value

    def has(self, key: str) -> bool:
        """Whether the command carries ``key`` (null counts as absent)."""
        return self._get(key, required=False) is not None

    def cursor(self, key: str) -> int | None:
        """A paging cursor the server handed out: a string of ASCII digits (or the
        number itself), at least 1."""
        value = self._get(key, required=False)
        if value is None:
            return None
        if isinstance(value, str) and value.isascii() and value.isdigit() \
                and len(value) <= MAX_ID_DIGITS:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
            raise self._fail(f"{key!r} must be a cursor from an earlier page")
        return value

    def room(self, key: str = "room") -> int:
        """A room id: a JSON integer or a string of ASCII digits, as the seed sends it."""
        value = self._get(key, required=True)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            # int() refuses strings of over 4300 digits; such ids name no room anyway.
            digits = value.lstrip("0")
            value = int(digits or "0") if len(digits) <= MAX_ID_DIGITS else MAX_ID + 1
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(f"{key!r} must be a room id (a number)")
        # Out-of-range ids are well-formed but name no room; 0 stands for "none".
        return value if 0 < value <= MAX_ID else 0


def _ping(f: _Fields) -> Command:
    return Ping(ref=f.ref)


def _login(f: _Fields) -> Command:
    token = f.text("token", max_chars=MAX_TOKEN_CHARS, required=False)
    if token is not None:
        return TokenLogin(token=token, ref=f.ref)
    return PasswordLogin(
        username=f.required_text("username", max_chars=MAX_USERNAME_CHARS),
        password=f.required_text("password", max_chars=MAX_PASSWORD_CHARS),
        ref=f.ref,
    )


def _logout(f: _Fields) -> Command:
    return Logout(ref=f.ref)


def _session_ticket(f: _Fields) -> Command:
    return SessionTicket(token=f.required_text("token", max_chars=MAX_TOKEN_CHARS), ref=f.ref)


def _rooms(f: _Fields) -> Command:
    return ListRooms(ref=f.ref)


def _join(f: _Fields) -> Command:
    return Join(room=f.room(), since=f.integer("since", minimum=0), ref=f.ref)


def _leave(f: _Fields) -> Command:
    return Leave(room=f.room(), ref=f.ref)


def _storable(f: _Fields, key: str, value: str | None) -> str | None:
    """``value``, unless it holds NUL (U+0000): PostgreSQL's text cannot, so it is
    refused on every backend rather than failing a batch with other users' messages."""
    if value is not None and "\x00" in value:
        raise f._fail(f"{key!r} must not hold NUL (U+0000)")
    return value


def _message_text(f: _Fields) -> str:
    message = f.required_text("message")
    if not message:
        raise f._fail("'message' must not be empty")
    _storable(f, "message", message)
    return message


def _client_id(f: _Fields) -> str | None:
    return _storable(f, "client_id",
                     f.text("client_id", max_chars=MAX_CLIENT_ID_CHARS, required=False))


def _seq(f: _Fields) -> int:
    seq = f.integer("seq", minimum=1, required=True)
    assert seq is not None
    return seq


def _send(f: _Fields) -> Command:
    files = _file_ids(f)
    return Send(
        room=f.room(),
        # With files the text may be empty (or absent): the files are the message.
        message=(_message_text(f) if files is None
                 else _storable(f, "message", f.text("message", required=False)) or ""),
        client_id=_client_id(f),
        reply_to=f.integer("reply_to", minimum=1),
        files=files,
        ref=f.ref,
    )


def _file_ids(f: _Fields) -> tuple[str, ...] | None:
    """A send's ``files``: None when absent or empty, else 1 to MAX_FILES_PER_MESSAGE ids."""
    value = f._get("files", required=False)
    if value is None or value == []:
        return None
    if not isinstance(value, list) or len(value) > MAX_FILES_PER_MESSAGE:
        raise f._fail(f"'files' must be a list of at most {MAX_FILES_PER_MESSAGE} file ids")
    if not all(isinstance(item, str) and FILE_ID.fullmatch(item) for item in value):
        raise f._fail("'files' must hold file ids (as the upload reply gave them)")
    if len(set(value)) != len(value):
        raise f._fail("'files' names a file twice")
    return tuple(value)


def file_type(value: str) -> str | None:
    """A MIME type as the server keeps it (lower case, parameters dropped), or None when
    ``value`` is not one; the empty string is the unknown type, octet-stream."""
    bare = value.split(";", 1)[0].strip().lower()
    if not bare:
        return DEFAULT_FILE_TYPE
    return bare if _MIME_TYPE.fullmatch(bare) else None


def is_file_name(value: str) -> bool:
    """Whether ``value`` may name a file: not empty or blank, no control characters."""
    return bool(value.strip()) and _CONTROL.search(value) is None


def _upload(f: _Fields) -> Command:
    filename = f.required_text("name", max_chars=MAX_FILE_NAME_CHARS)
    if not is_file_name(filename):
        raise f._fail("'name' must be a file name: not blank, no control characters")
    size = f.integer("size", minimum=0, required=True)
    assert size is not None
    claimed = f.text("type", max_chars=MAX_FILE_TYPE_CHARS, required=False)
    kind = DEFAULT_FILE_TYPE if claimed is None else file_type(claimed)
    if kind is None:
        raise f._fail("'type' must be a MIME type such as image/png")
    return Upload(filename=filename, size=size, type=kind, ref=f.ref)


def _edit(f: _Fields) -> Command:
    return Edit(room=f.room(), seq=_seq(f), message=_message_text(f), client_id=_client_id(f),
                ref=f.ref)


def _delete(f: _Fields) -> Command:
    return Delete(room=f.room(), seq=_seq(f), client_id=_client_id(f), ref=f.ref)


def _react(f: _Fields) -> Command:
    emoji = f.required_text("emoji")
    if not is_one_grapheme(emoji):
        raise f._fail(f"'emoji' must be one emoji (a single character of at most "
                      f"{MAX_EMOJI_BYTES} bytes)")
    on = f.flag("on")
    return React(room=f.room(), seq=_seq(f), emoji=emoji, on=True if on is None else on,
                 client_id=_client_id(f), ref=f.ref)


def _typing(f: _Fields) -> Command:
    return Typing(room=f.room(), ref=f.ref)


def _read(f: _Fields) -> Command:
    seq = f.integer("seq", minimum=0, required=True)
    assert seq is not None
    return Read(room=f.room(), seq=seq, ref=f.ref)


def _dm_open(f: _Fields) -> Command:
    return DmOpen(users=f.names("users", most=MAX_DM_NAMES), ref=f.ref)


def _history(f: _Fields) -> Command:
    limit = f.integer("limit", minimum=1, maximum=None)
    return History(
        room=f.room(),
        before=f.integer("before", minimum=1),
        limit=min(limit, HISTORY_MAX_LIMIT) if limit is not None else HISTORY_DEFAULT_LIMIT,
        around=f.integer("around", minimum=1),
        ref=f.ref,
    )


def _search(f: _Fields) -> Command:
    query = f.required_text("query", max_chars=MAX_QUERY_CHARS)
    assert query is not None
    found = search_words.words(query)
    if not found:
        raise f._fail("'query' must hold a word (letters or digits)")
    if len(found) > MAX_QUERY_WORDS:
        raise f._fail(f"'query' may hold at most {MAX_QUERY_WORDS} words")
    limit = f.integer("limit", minimum=1, maximum=None)
    return Search(
        query=query,
        room=f.room() if f.has("room") else None,
        before=f.cursor("before"),
        limit=min(limit, SEARCH_MAX_LIMIT) if limit is not None else SEARCH_DEFAULT_LIMIT,
        ref=f.ref,
    )


def _room_create(f: _Fields) -> Command:
    title = f.title("title")
    assert title is not None
    return CreateRoom(title=title, staff_only=bool(f.flag("staff_only")), ref=f.ref)


def _room_update(f: _Fields) -> Command:
    return UpdateRoom(
        room=f.room(),
        title=f.title("title", required=False),
        staff_only=f.flag("staff_only"),
        ref=f.ref,
    )


def _room_delete(f: _Fields) -> Command:
    return DeleteRoom(room=f.room(), ref=f.ref)


def _user_list(f: _Fields) -> Command:
    return ListUsers(ref=f.ref)


def _user_create(f: _Fields) -> Command:
    return CreateUser(
        username=f.new_name("username"),
        password=f.required_text("password", max_chars=MAX_PASSWORD_CHARS),
        is_staff=bool(f.flag("is_staff")),
        is_superuser=bool(f.flag("is_superuser")),
        ref=f.ref,
    )


def _user_update(f: _Fields) -> Command:
    return UpdateUser(
        username=f.name("username"),
        password=f.text("password", max_chars=MAX_PASSWORD_CHARS, required=False),
        is_staff=f.flag("is_staff"),
        is_superuser=f.flag("is_superuser"),
        ref=f.ref,
    )


def _user_delete(f: _Fields) -> Command:
    return DeleteUser(username=f.name("username"), ref=f.ref)


def _announce(f: _Fields) -> Command:
    message = _message_text(f)
    raw_type = f.integer("msg_type", minimum=0, maximum=None, required=True)
    if raw_type not in ANNOUNCEMENT_TYPES:
        raise f._fail("'msg_type' must be 1 (warning), 2 (alert) or 3 (muted)")
    return Announce(room=f.room(), message=message, msg_type=MsgType(raw_type), ref=f.ref)


_DECODERS: dict[str, Callable[[_Fields], Command]] = {
    "ping": _ping,
    "login": _login,
    "logout": _logout,
    "session.ticket": _session_ticket,
    "rooms": _rooms,
    "join": _join,
    "leave": _leave,
    "send": _send,
    "upload": _upload,
    "edit": _edit,
    "delete": _delete,
    "react": _react,
    "typing": _typing,
    "read": _read,
    "dm.open": _dm_open,
    "history": _history,
    "search": _search,
    "room.create": _room_create,
    "room.update": _room_update,
    "room.delete": _room_delete,
    "user.list": _user_list,
    "user.create": _user_create,
    "user.update": _user_update,
    "user.delete": _user_delete,
    "announce": _announce,
}

COMMAND_NAMES = frozenset(_DECODERS)


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python's decoder accepts them by default.
    raise ValueError(f"{name} is not valid JSON")


def decode_command(frame: str | bytes) -> Command:
    """Decode one WebSocket frame into a command, or raise ProtocolError."""
    if not isinstance(frame, str):
        raise ProtocolError("frames must be text (JSON), not binary")
    try:
        obj = json.loads(frame, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("frame is not valid JSON") from exc
    if not isinstance(obj, dict):
        raise ProtocolError("frame must be a JSON object")
    ref = obj.get("ref")
    if ref is not None and (
        not isinstance(ref, str) or len(ref) > MAX_REF_CHARS or not _is_unicode(ref)
    ):
        # Not echoed: a ref that cannot be encoded would break the error frame too.
        raise ProtocolError(
            f"'ref' must be Unicode text of at most {MAX_REF_CHARS} characters"
        )
    name = obj.get("command")
    if not isinstance(name, str):
        raise ProtocolError("missing 'command'", ref)
    decoder = _DECODERS.get(name)
    if decoder is None:
        raise ProtocolError(f"unknown command {name[:40]!r}", ref)
    return decoder(_Fields(obj, ref))

