"""Errors of the store layer.

StoreError
 ├── NotFound
 │    ├── UnknownUser
 │    └── UnknownRoom
 ├── Conflict
 │    ├── UsernameTaken
 │    └── TitleTaken
 ├── SchemaError          the database's schema is newer than this program, or broken
 └── StoreUnavailable     the database cannot be opened, reached or written
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class NotFound(StoreError):
    pass


class UnknownUser(NotFound):
    def __init__(self, username: str) -> None:
        super().__init__(f"no user named {username!r}")


class UnknownRoom(NotFound):
    def __init__(self, room: int | str) -> None:
        super().__init__(f"no room {room}")


class Conflict(StoreError):
    pass


class UsernameTaken(Conflict):
    def __init__(self, username: str) -> None:
        super().__init__(f"a user named {username!r} already exists")


class TitleTaken(Conflict):
    def __init__(self, title: str) -> None:
        super().__init__(f"a room titled {title!r} already exists")


class SchemaError(StoreError):
    pass


class StoreUnavailable(StoreError):
    pass
