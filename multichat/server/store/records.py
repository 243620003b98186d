"""Plain records the store hands to the rest of the server; no peewee type leaks out."""

from __future__ import annotations

from dataclasses import dataclass

from multichat.protocol.codes import MsgType
from multichat.protocol.events import DIRECT_KIND, ROOM_KIND, Reactions


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    is_staff: bool
    is_superuser: bool

    @property
    def sees_staff_rooms(self) -> bool:
        """Superusers manage every room, so they count as staff for access."""
        return self.is_staff or self.is_superuser


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user with the password hash, for login only."""

    user: User
    password_hash: str


@dataclass(frozen=True, slots=True)
class Room:
    """A room an admin made, or a direct conversation (``kind`` "direct") whose
    ``title`` is its members' names, sorted and joined by ", "."""

    id: int
    title: str
    staff_only: bool
    kind: str = ROOM_KIND
    member_ids: frozenset[int] = frozenset()
    member_names: tuple[str, ...] = ()  # sorted

    @property
    def is_direct(self) -> bool:
        return self.kind == DIRECT_KIND

    def visible_to(self, user: User) -> bool:
        """Whether ``user`` may see (list, join, read) the room: a direct conversation
        its members only, a staff-only room staff and superusers only."""
        if self.is_direct:
            return user.id in self.member_ids
        return user.sees_staff_rooms or not self.staff_only


@dataclass(frozen=True, slots=True)
class RoomEntry:
    """A room as one user's room list shows it: its newest seq, how far they read, and
    how many messages and announcements (not changes) they have not read."""

    room: Room
    last_seq: int
    read_seq: int
    unread: int = 0


@dataclass(frozen=True, slots=True)
class Read:
    """A user's read marker in a room: the seq, and the messages left unread after it."""

    seq: int
    unread: int


@dataclass(frozen=True, slots=True)
class RoomLists:
    """What pushing room lists reads: per room (newest seq, count of messages), and per
    user and room the read marker (seq, ordinal of the newest message read)."""

    counts: dict[int, tuple[int, int]]
    markers: dict[int, dict[int, tuple[int, int]]]

    def entry(self, room: Room, user_id: int) -> RoomEntry:
        last_seq, listed = self.counts.get(room.id, (0, 0))
        read_seq, ordinal = self.markers.get(user_id, {}).get(room.id, (0, 0))
        return RoomEntry(room, last_seq, read_seq, listed - ordinal)


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A complete file as a message carries it (FILE_OBJ): ``width``/``height`` for an
    image the server decoded."""

    id: str
    name: str
    size: int
    mime_type: str
    sha256: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message, announcement or change to store; the store gives it its seq.

    A change (EDIT, DELETE, REACTION) names the message it changes in
    ``target``; the store checks in the same transaction that the target is a
    live message of the room and that this user may change it
    (``InvalidMessage``, ``NotAllowed``), and stores nothing for a REACTION
    that changes nothing (``Unchanged``). ``superuser_may_delete``: a DELETE of
    another's message is allowed if its user is a superuser when it is
    stored (the rules say no in rooms where only authors delete).
    """

    room_id: int
    user_id: int | None
    username: str
    msg_type: MsgType
    text: str | None
    client_id: str | None
    ts_ms: int
    reply_to: int | None = None
    target: int | None = None
    emoji: str | None = None
    on: bool | None = None
    superuser_may_delete: bool = False
    # A message's files: ids of complete uploads of this user's, checked and linked in
    # the message's transaction (``UnknownFile`` otherwise).
    files: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A stored event. ``text`` is None for a DELETE and for a deleted message's text.

    ``edited``, ``deleted`` and ``reactions`` are the message as it is now,
    folded from its later changes by ``history`` (a deleted message is marked
    ``deleted`` wherever it is read).
    """

    room_id: int
    seq: int
    username: str
    msg_type: MsgType
    text: str | None
    client_id: str | None
    ts_ms: int
    reply_to: int | None = None
    target: int | None = None
    emoji: str | None = None
    on: bool | None = None
    edited: bool = False
    deleted: bool = False
    reactions: Reactions = ()
    files: tuple[FileRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchPage:
    """A page of search results, newest first, each message as it is now.

    ``ids``: each message's id (the order of results, rising with every
    message stored). ``more``: whether older results may follow; then
    ``next_before`` is the cursor to ask for them with (the id of the last
    message the index gave, which may be one left out as changed meanwhile).
    """

    messages: list[StoredMessage]
    ids: list[int]
    more: bool
    next_before: int | None


@dataclass(frozen=True, slots=True)
class Appended:
    """The outcome of one append: the stored message, and whether it was stored before.

    ``version``: the store's change counter as the message's transaction saw it
    (``Store.changes``). A process delivers the message only once its sessions
    reflect at least that version, so a change committed before the message
    (a room made staff-only, a user demoted) takes effect before anyone
    receives it.
    """

    message: StoredMessage
    duplicate: bool
    version: int


@dataclass(frozen=True, slots=True)
class Unchanged:
    """The outcome of a REACTION that changed nothing: nothing was stored, nothing is said."""


@dataclass(frozen=True, slots=True)
class TokenOwner:
    """The account a live token belongs to, and the token's hash (a session's identity)."""

    user: User
    token_hash: str
