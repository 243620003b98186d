"""Server error codes and connection failures in words for a person."""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from multichat.protocol import ErrorCode

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
    ErrorCode.LIMIT_REACHED: "Too many rooms open at once: leave one first.",
    ErrorCode.MESSAGE_INVALID: "That message is gone: it was deleted, or never was.",
    ErrorCode.USER_INVALID: "There is nobody by that name here: check the spelling.",
    ErrorCode.FILE_TOO_LARGE: "That file is larger than the server allows.",
    ErrorCode.FILE_INVALID: "A file of that message is not on the server (any more): attach "
                            "it again.",
    ErrorCode.QUOTA_EXCEEDED: "You have uploaded as much as the server allows in a day; try "
                              "again later.",
}
# PERMISSION_DENIED by what was refused: the generic words name administrators.
_DENIED = {
    "edit": "You can edit only your own messages.",
    "delete": "You can delete only your own messages (administrators any, outside direct "
              "conversations).",
    "react": "You cannot react to that message.",
}
# Codes whose detail from the server says more than our words (a wait, a cause).
_DETAIL_WINS = frozenset({ErrorCode.RATE_LIMITED, ErrorCode.LOGIN_FAILED,
                          ErrorCode.LIMIT_REACHED, ErrorCode.SERVER_ERROR})


def describe(code: str, detail: str | None = None, *, command: str | None = None) -> str:
    """One sentence for a person. The server's own detail wins where it is specific."""
    if code == ErrorCode.ROOM_ACCESS_DENIED and command in ("send", "edit", "delete", "react"):
        return "You are not in this room any more; join it again to send."
    if code == ErrorCode.PERMISSION_DENIED and command in _DENIED:
        return _DENIED[command]
    if code == ErrorCode.MESSAGE_TOO_LONG and detail and command in ("send", "edit"):
        # The server says the limit ("messages are limited to 10000 characters").
        return f"That message is too long: {detail.rstrip('.')}."
    if code in _DETAIL_WINS and detail:
        return detail[0].upper() + detail[1:] + ("" if detail.endswith(".") else ".")
    words = _WORDS.get(code)
    if words is None:
        return f"The server answered {code}" + (f": {detail}" if detail else ".")
    return words


def describe_connection_error(exc: BaseException, url: str = "",
                              timeout: float | None = None) -> str:
    """Why a connection could not be made or was lost, in one sentence naming the server."""
    where = _host_port(url)
    if isinstance(exc, ConnectionClosed):
        return "The connection was lost."
    if isinstance(exc, TimeoutError):
        within = f" within {timeout:g} s" if timeout is not None else ""
        return (f"No answer from {where}{within}: is the server running, and is "
                "the address right?" if where else "The server did not answer.")
    if isinstance(exc, InvalidStatus) and exc.response.status_code in (403, 429):
        # A Multichat server refusing the handshake says why, in one line.
        reason = exc.response.body.decode("utf-8", "replace").strip().rstrip(".")
        return f"The server refused the connection: {reason or exc.response.reason_phrase}."
    if isinstance(exc, InvalidHandshake):
        return "That address is not a Multichat server."
    if isinstance(exc, ConnectionRefusedError):
        return f"No server is listening at {where}." if where else "No server is listening there."
    if isinstance(exc, socket.gaierror):
        host = urlsplit(url).hostname or where
        return f"Cannot find the computer “{host}”: check the address."
    if isinstance(exc, ssl.SSLError):
        why = getattr(exc, "reason", None) or exc  # OpenSSL's short name, where it gave one
        return (f"The secure connection to {where or 'the server'} failed ({why}): "
                "is it a wss:// server?")
    return f"Cannot reach {where or 'the server'} ({exc})."


def _host_port(url: str) -> str:
    """``host:port`` of a ws:// or wss:// address, for the words ("" when unparsable)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "wss" else 80)
    except ValueError:
        return ""
    if not parts.hostname:
        return ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port}"
