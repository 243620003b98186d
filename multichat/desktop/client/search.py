"""A page of search results as the client hands it on, and search errors in words.

The client answers ``ChatClient.search`` with a ``SearchPage``: the request
it answers (its ``ref``, the query, where and from which cursor) and the
messages found, each a ``RoomEvent`` as ``history`` gives it, naming its room.
"""

from __future__ import annotations

from dataclasses import dataclass

from multichat.protocol import ErrorCode
from multichat.protocol.frames import RoomEvent


@dataclass(frozen=True, slots=True)
class SearchPage:
    """Results for one ``search`` command, newest first.

    ``room``: the room searched ("" for every room and conversation); ``before``:
    the cursor it was asked with (None for the first page); ``next``: the cursor for
    the page after, when ``more``."""

    ref: str
    query: str
    room: str
    before: int | None
    results: tuple[RoomEvent, ...]
    more: bool
    next: int | None

    @property
    def first(self) -> bool:
        return self.before is None


_SEARCH_WORDS: dict[str, str] = {
    ErrorCode.LIMIT_REACHED: "This search took too long. Add letters or words, or search "
                             "in one room (Ctrl+F).",
    ErrorCode.RATE_LIMITED: "Too many searches in a row. Wait a moment, then press Enter "
                            "to search again.",
    ErrorCode.ROOM_INVALID: "That room is gone, or you are no longer in it.",
    ErrorCode.ROOM_ACCESS_DENIED: "That room is for staff only.",
    ErrorCode.BAD_REQUEST: "The server cannot search for that. Use one to eight words.",
    ErrorCode.SERVER_ERROR: "The server ran into a problem searching. Try again.",
}


def describe_search_error(code: str, detail: str | None) -> str:
    """Why a search failed, in words that say what to do; the server's detail for codes
    this version does not know."""
    words = _SEARCH_WORDS.get(code)
    if words is not None:
        return words
    return f"The search failed ({code}{': ' + detail if detail else ''})."
