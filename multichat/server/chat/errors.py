"""Errors of the chat rules: each one is an error code the client is told.

ChatError               carries an ErrorCode and an optional detail for a person

``chat_error_for`` is the one place a store error becomes an error code: the
rules raise store errors as they come (an admin change, a failed message
batch, a read while the database is down) and ``ChatService.execute`` hands
the edge a ``ChatError`` instead.
"""

from __future__ import annotations

from multichat.protocol.codes import ErrorCode
from multichat.server.store.errors import (
    InvalidMessage,
    LastSuperuser,
    NoOneElse,
    NotAllowed,
    QuotaExceeded,
    SearchTooLong,
    SeqOutOfRange,
    StoreError,
    TitleTaken,
    TooManyMembers,
    TooManyStarted,
    UnknownFile,
    UnknownMember,
    UnknownRoom,
    UnknownUser,
    UsernameTaken,
)


class ChatError(Exception):
    """A rule said no. The edge answers ``{"error": code, "detail": ...}``."""

    def __init__(self, code: ErrorCode, detail: str | None = None) -> None:
        super().__init__(f"{code.value}: {detail}" if detail else code.value)
        self.code = code
        self.detail = detail


# A store error's own words are the detail: they name the user or room and never
# quote an engine's message (the store words its refusals for people; errors.py).
_CODES: dict[type[StoreError], ErrorCode] = {
    UsernameTaken: ErrorCode.USER_EXISTS,
    UnknownUser: ErrorCode.USER_UNKNOWN,
    UnknownMember: ErrorCode.USER_INVALID,
    TitleTaken: ErrorCode.ROOM_TITLE_TAKEN,
    UnknownRoom: ErrorCode.ROOM_INVALID,
    InvalidMessage: ErrorCode.MESSAGE_INVALID,
    NotAllowed: ErrorCode.PERMISSION_DENIED,
    SeqOutOfRange: ErrorCode.BAD_REQUEST,
    NoOneElse: ErrorCode.BAD_REQUEST,
    SearchTooLong: ErrorCode.LIMIT_REACHED,
    TooManyStarted: ErrorCode.RATE_LIMITED,
    TooManyMembers: ErrorCode.BAD_REQUEST,
    UnknownFile: ErrorCode.FILE_INVALID,
    QuotaExceeded: ErrorCode.QUOTA_EXCEEDED,
}


def chat_error_for(error: StoreError) -> ChatError:
    """The error a client is told for a store error; SERVER_ERROR for the store failing."""
    if isinstance(error, LastSuperuser):
        return ChatError(ErrorCode.PERMISSION_DENIED, "the last superuser cannot be removed")
    for kind, code in _CODES.items():
        if isinstance(error, kind):
            return ChatError(code, str(error))
    return ChatError(ErrorCode.SERVER_ERROR, str(error))
