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

    @property
    def is_stored(self) -> bool:
        """Messages and announcements are stored and numbered; presence is not."""
        return self <= MsgType.MUTED


ANNOUNCEMENT_TYPES = frozenset({MsgType.WARNING, MsgType.ALERT, MsgType.MUTED})


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


class CloseCode(enum.IntEnum):
    """WebSocket close codes the server uses beyond RFC 6455's own."""

    GOING_AWAY = 1001  # server shutting down
    TRY_AGAIN_LATER = 1013  # too many connections from the client's address
    MESSAGE_TOO_BIG = 1009  # a frame over the size limit
    SESSION_REVOKED = 4001  # token revoked, password reset or account deleted
