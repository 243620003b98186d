"""Server error codes in words for a person, where they happened."""

from __future__ import annotations

from multichat.server.protocol import ErrorCode

_WORDS: dict[str, str] = {
    ErrorCode.USER_HAS_TO_LOGIN: "You are not logged in.",
    ErrorCode.ROOM_INVALID: "This room does not exist (any more).",
    ErrorCode.ROOM_ACCESS_DENIED: "This room is for staff only.",
    ErrorCode.BAD_REQUEST: "The server did not understand a request from this app.",
    ErrorCode.LOGIN_FAILED: "Wrong username or password.",
    ErrorCode.PERMISSION_DENIED: "Only administrators may do that.",
    ErrorCode.RATE_LIMITED: "Too fast: wait a moment and try again.",
    ErrorCode.MESSAGE_TOO_LONG: "That message is too long.",
    ErrorCode.ROOM_TITLE_TAKEN: "A room with that title exists already.",
    ErrorCode.USER_EXISTS: "A user with that name exists already.",
    ErrorCode.USER_UNKNOWN: "There is no user with that name.",
    ErrorCode.SERVER_ERROR: "The server ran into a problem; try again.",
}


def describe(code: str, detail: str | None = None, *, command: str | None = None) -> str:
    """One sentence for a person. The server's own detail wins where it is specific."""
    if code == ErrorCode.ROOM_ACCESS_DENIED and command == "send":
        return "You are not in this room any more; join it again to send."
    if code in (ErrorCode.RATE_LIMITED, ErrorCode.LOGIN_FAILED) and detail:
        return detail[0].upper() + detail[1:] + ("" if detail.endswith(".") else ".")
    words = _WORDS.get(code)
    if words is None:
        return f"The server answered {code}" + (f": {detail}" if detail else ".")
    return words
