"""Errors of the store layer.

StoreError
 ├── UnknownUser
 ├── UnknownRoom
 ├── UsernameTaken
 ├── TitleTaken
 ├── LastSuperuser        the change would leave nobody to administer the server
 ├── InvalidMessage       a change or reply names no live message (msg_type 0) of the room
 ├── NotAllowed           a change of a message its user may not make (not the author)
 ├── SeqOutOfRange        a read marker past the room's newest seq
 ├── SearchTooLong        a search stopped at its time budget (too broad a query)
 ├── SchemaError          the database's schema is newer than this program, or broken
 └── StoreUnavailable     the database cannot be opened, reached or written
      └── WriteRefused     the database is up but takes no writes for now (reads go on)
           ├── DiskError        the disk refuses writes: over a quota or size limit, failing
           │    └── DiskFull    no space is left on the database's disk
           ├── ReadOnly         the database is read-only (a standby after a failover)
           └── StillLocked      another program held a lock too long (SQLite's write lock)

A WriteRefused says what happened in one sentence a user can read, since
the server sends it as the error's detail: "the message was not stored: the
server's disk is full; try again later". ``database.write_refusal`` tells
which one an engine's error is.
"""

from __future__ import annotations

from typing import ClassVar


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class UnknownUser(StoreError):
    def __init__(self, username: str) -> None:
        super().__init__(f"no user named {username!r}")


class UnknownMember(StoreError):
    """A direct conversation named someone no account is."""

    def __init__(self, username: str) -> None:
        super().__init__(f"no user named {username!r}")


class NoOneElse(StoreError):
    """A direct conversation named no one but the one opening it."""

    def __init__(self) -> None:
        super().__init__("name at least one other person")


class TooManyMembers(StoreError):
    """A direct conversation named more people than one may hold."""

    def __init__(self, most: int) -> None:
        super().__init__(f"a conversation has at most {most} other people")


class TooManyStarted(StoreError):
    """A user started as many direct conversations as an hour allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"you started {limit} conversations in the last hour; "
                         "wait a while before starting another")


class UnknownRoom(StoreError):
    def __init__(self, room: int | str) -> None:
        super().__init__(f"no room {room}")


class UsernameTaken(StoreError):
    def __init__(self, username: str) -> None:
        super().__init__(f"a user named {username!r} already exists")


class TitleTaken(StoreError):
    def __init__(self, title: str) -> None:
        super().__init__(f"a room titled {title!r} already exists")


class LastSuperuser(StoreError):
    def __init__(self, username: str) -> None:
        super().__init__(f"{username} is the last superuser; make another one first")


class InvalidMessage(StoreError):
    def __init__(self, room: int, seq: int, why: str = "no message") -> None:
        super().__init__(f"{why} {seq} in room {room}")


class NotAllowed(StoreError):
    pass


class SeqOutOfRange(StoreError):
    def __init__(self, room: int, seq: int, last_seq: int) -> None:
        super().__init__(f"room {room} has no seq {seq}: its newest is {last_seq}")


class SearchTooLong(StoreError):
    """A search ran past its time budget and was stopped (a query too broad for it)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the search took longer than {seconds:g} s; add letters or words")


class SchemaError(StoreError):
    pass


class StoreUnavailable(StoreError):
    pass


class ConnectionLost(StoreUnavailable):
    """The connection to the database server broke while a request was under way, so
    whether it was carried out is unknown (a new connection serves the next one)."""

    def __init__(self, doing: str) -> None:
        """``doing``: what was under way and what to do now, e.g. "storing the message: ..."."""
        super().__init__(f"the connection to the database was lost while {doing}")


class WriteRefused(StoreUnavailable):
    """The database refused a write (its disk, a read-only switch, a lock); reads still work."""

    reason: ClassVar[str] = "the database takes no writes for now"

    def __init__(self, doing: str | None = None) -> None:
        """``doing``: what did not happen, e.g. "the message was not stored"."""
        sentence = f"{self.reason}; try again later"
        super().__init__(f"{doing}: {sentence}" if doing else sentence)


class DiskError(WriteRefused):
    reason = "the server cannot write to its disk (over a size limit or quota, or failing)"


class DiskFull(DiskError):
    reason = "the server's disk is full"


class ReadOnly(WriteRefused):
    reason = "the database is read-only"


class StillLocked(WriteRefused):
    reason = "the database stayed locked by another program"


class UnknownFile(StoreError):
    """A file id that names no complete upload this user may send (the same words for
    one that does not exist, one still uploading and another's)."""

    def __init__(self, file_id: str) -> None:
        super().__init__(f"no file {file_id} of yours")


class QuotaExceeded(StoreError):
    """An upload would take a user past the bytes a day allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"uploads are limited to {limit} bytes a day per user; "
                         "try again later")
