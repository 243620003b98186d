"""The stored keys of usernames and room titles, kept in step with the rules that make them.

Uniqueness without regard to case or look-alikes is the database's job: a
unique index on ``account.username_key`` and ``room.title_key``. A key depends
on Unicode's data (``protocol.names.KEY_VERSION``), so when a database is
opened by a Multichat whose keys are computed differently, or first gets keys
(schema version 2), every key is computed again, in the migration's
transaction.

Names stored before the rules existed may clash: ``alice`` beside ``Alice``,
``admin`` beside a Cyrillic ``admin``. Nothing is lost or renamed: the oldest
row keeps the key, each younger one gets the key marked with ``CLASH_MARK``
and its id (so the unique index holds), a warning names them, and
``clashes()`` lists them until an admin renames or deletes them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import cast

import peewee as pw

from multichat.protocol import names
from multichat.protocol.events import ROOM_KIND
from multichat.server.store.models import CLASH_MARK, Account, Meta, Room

log = logging.getLogger(__name__)

KEY_VERSION_KEY = "name_keys"


@dataclass(frozen=True, slots=True)
class NameClash:
    """A name that looks like an older one: ``kind`` is "user" or "room"."""

    kind: str
    id: int
    name: str
    like_id: int | None  # None once the older one is gone (renaming clears the mark)
    like_name: str | None

    def __str__(self) -> str:
        """One line a terminal can show: the names escaped, what to do."""
        what = "user" if self.kind == "user" else "room"
        mine = f"{what} '{names.escape_for_terminal(self.name)}' (id {self.id})"
        if self.like_name is None:
            return f"{mine} was set aside as a look-alike of a deleted {what}: rename it"
        return (f"{mine} looks like '{names.escape_for_terminal(self.like_name)}' "
                f"(id {self.like_id}): rename or delete one of them")


@dataclass(frozen=True, slots=True)
class _Table:
    kind: str
    model: type[pw.Model]
    id: pw.Field
    name: pw.Field
    key: pw.Field
    key_of: Callable[[str], str]

    def rows(self, query: pw.ModelSelect) -> list[tuple[int, str, str]]:
        """(id, name, key) of the query's rows, oldest first."""
        # types-peewee types .tuples() as yielding models.
        rows = cast(Iterable[tuple[object, object, object]], query.order_by(self.id).tuples())
        return [(int(str(row_id)), str(name), str(key)) for row_id, name, key in rows]


_TABLES = (
    _Table("user", Account, Account.id, Account.username, Account.username_key,
           names.username_key),
    _Table("room", Room, Room.id, Room.title, Room.title_key, names.title_key),
)


def clash_key(key: str, row_id: int) -> str:
    """The distinct key of a name that clashes with an older one."""
    return f"{key}{CLASH_MARK}{row_id}"


def refresh(db: pw.Database) -> list[NameClash]:
    """Compute every key again unless they were computed by this version's rules.

    Runs inside the migration's transaction (models bound to ``db``). Returns
    the clashes found, each also logged as a warning.
    """
    stored = Meta.get_or_none(Meta.key == KEY_VERSION_KEY)
    if stored is not None and stored.value == names.KEY_VERSION:
        return []
    found: list[NameClash] = []
    for table in _TABLES:
        found += _rekey(table)
    Meta.insert(key=KEY_VERSION_KEY, value=names.KEY_VERSION).on_conflict(
        conflict_target=[Meta.key], update={Meta.value: names.KEY_VERSION}).execute()
    for clash in found:
        log.warning("%s (multichat admin check-names lists them)", clash)
    return found


def _rekey(table: _Table) -> list[NameClash]:
    model, key_field = table.model, table.key
    query = model.select(table.id, table.name, key_field)
    if model is Room:  # a direct conversation's title is a private mark, not a name
        query = query.where(Room.kind == ROOM_KIND)
    rows = table.rows(query)
    owners: dict[str, tuple[int, str]] = {}
    wanted: dict[int, str] = {}
    found: list[NameClash] = []
    for row_id, name, _ in rows:
        key = table.key_of(name)
        if key in owners:
            like_id, like_name = owners[key]
            found.append(NameClash(table.kind, row_id, name, like_id, like_name))
            key = clash_key(key, row_id)
        else:
            owners[key] = (row_id, name)
        wanted[row_id] = key
    changed = [row_id for row_id, _, old in rows if wanted[row_id] != old]
    # Two passes, so that no row takes a key another still holds: first a key of
    # its own that no name can have, then the one it should have.
    for row_id in changed:
        model.update({key_field: f"{CLASH_MARK}{row_id}"}).where(table.id == row_id).execute()
    for row_id in changed:
        model.update({key_field: wanted[row_id]}).where(table.id == row_id).execute()
    return found


def clashes() -> list[NameClash]:
    """The names set aside as look-alikes of others, users first, oldest first."""
    found: list[NameClash] = []
    for table in _TABLES:
        model = table.model
        marked = model.select(table.id, table.name, table.key).where(
            table.key.contains(CLASH_MARK))
        for row_id, name, key in table.rows(marked):
            base = key.rsplit(CLASH_MARK, 1)[0]
            like = table.rows(model.select(table.id, table.name, table.key)
                              .where(table.key == base))
            found.append(NameClash(table.kind, row_id, name,
                                   like[0][0] if like else None, like[0][1] if like else None))
    return found
