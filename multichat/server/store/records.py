"""Plain records the store hands to the rest of the server; no peewee type leaks out."""

from __future__ import annotations

from dataclasses import dataclass

from multichat.protocol.codes import MsgType


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
    id: int
    title: str
    staff_only: bool


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message or announcement to store; the store gives it its seq."""

    room_id: int
    user_id: int | None
    username: str
    msg_type: MsgType
    text: str
    client_id: str | None
    ts_ms: int


@dataclass(frozen=True, slots=True)
class StoredMessage:
    room_id: int
    seq: int
    username: str
    msg_type: MsgType
    text: str
    client_id: str | None
    ts_ms: int


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
class TokenOwner:
    """The account a live token belongs to, and the token's hash (a session's identity)."""

    user: User
    token_hash: str
