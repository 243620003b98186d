"""Message types and error codes of the wire protocol (see docs/protocol.md)."""

from __future__ import annotations

import enum


class MsgType(enum.IntEnum):
    """The ``msg_type`` of a room event. Numbers are frozen by the seed protocol."""

    MESSAGE = 0
    WARNING = 1
    ALERT = 2
    MUTED = 3
    ENTER = 4
    LEAVE = 5
    # A change to an earlier message (its ``target``): stored and numbered like one.
    EDIT = 6
    DELETE = 7
    REACTION = 8

    @property
    def is_stored(self) -> bool:
        """Messages, announcements and changes are stored and numbered; presence is not."""
        return self not in (MsgType.ENTER, MsgType.LEAVE)

    @property
    def is_change(self) -> bool:
        """An edit, deletion or reaction: an event about the message it targets."""
        return self >= MsgType.EDIT


ANNOUNCEMENT_TYPES = frozenset({MsgType.WARNING, MsgType.ALERT, MsgType.MUTED})
# What ``history`` lists: messages and announcements, each folded with its changes.
LISTED_TYPES = frozenset({MsgType.MESSAGE, *ANNOUNCEMENT_TYPES})
CHANGE_TYPES = frozenset({MsgType.EDIT, MsgType.DELETE, MsgType.REACTION})


class ErrorCode(enum.StrEnum):
    """The ``error`` value of an error frame."""

    # The seed's codes, meaning kept.
    USER_HAS_TO_LOGIN = "USER_HAS_TO_LOGIN"
    ROOM_INVALID = "ROOM_INVALID"
    ROOM_ACCESS_DENIED = "ROOM_ACCESS_DENIED"
    # PROTOCOL.md's codes.
    BAD_REQUEST = "BAD_REQUEST"
    LOGIN_FAILED = "LOGIN_FAILED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    RATE_LIMITED = "RATE_LIMITED"
    MESSAGE_TOO_LONG = "MESSAGE_TOO_LONG"
    # Multichat's extensions.
    ROOM_TITLE_TAKEN = "ROOM_TITLE_TAKEN"
    USER_EXISTS = "USER_EXISTS"
    USER_UNKNOWN = "USER_UNKNOWN"
    SERVER_ERROR = "SERVER_ERROR"
    LIMIT_REACHED = "LIMIT_REACHED"
    # PROTOCOL.md Part 2: a seq that names no message of the room, or a deleted one.
    MESSAGE_INVALID = "MESSAGE_INVALID"
    # PROTOCOL.md Part 2: dm.open named a username no account has.
    USER_INVALID = "USER_INVALID"
    # PROTOCOL.md Part 2: an upload over the size limit (or an image with more pixels
    # than the server decodes); nothing is stored.
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    # Multichat's: a send names a file that is not a complete upload of the sender's (the
    # same answer for one that does not exist); an upload whose bytes are not what was
    # announced (more than ``size``, a frame over ``chunk``).
    FILE_INVALID = "FILE_INVALID"
    # Multichat's: this user's uploads of the last day would pass the daily quota.
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"


class CloseCode(enum.IntEnum):
    """WebSocket close codes the server uses beyond RFC 6455's own."""

    GOING_AWAY = 1001  # server shutting down
    TRY_AGAIN_LATER = 1013  # too many connections from the client's address
    MESSAGE_TOO_BIG = 1009  # a frame over the size limit
    SESSION_REVOKED = 4001  # token revoked, password reset or account deleted
