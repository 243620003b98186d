"""The sidebar's rooms and direct conversations, with unread and mention counts.

The counts are the server's read state: each room has the newest ``seq`` known
(``last_seq``) and how far this user read it (``read_seq``), from the ``rooms``
frames, from live events of joined rooms and ``activity`` of the others, and
from ``read`` pushes of the user's other devices. Unread is the events after
``read_seq`` that count: messages, warnings and alerts by someone else. Of the
seqs this app saw pass (live events, activity, a history page) it knows which
count; a seq it never saw (a change, a notice, a coalesced activity, anything
before this session) counts as one, the best guess from two numbers. Muted
notices, ENTER/LEAVE, one's own messages and edits, deletions and reactions
never count. A muted room shows no unread but still counts mentions: being
named is never muted. Mentions are counted apart: a message naming this user
(``mentions``), or an ``activity`` that says so.

A direct conversation is titled by its other members (from ``members``, not
counting this user), "Deleted user" when the others' accounts are gone (the server
makes no conversation of one alone); rooms sort before direct
conversations, each by title.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal

from multichat.desktop.models.mentions import mentions
from multichat.desktop.models.roles import ModelIndex, RoleListModel
from multichat.protocol import MsgType
from multichat.protocol.events import DIRECT_KIND, ROOM_KIND
from multichat.protocol.frames import RoomEvent, RoomInfo

UNREAD_TYPES = frozenset({MsgType.MESSAGE, MsgType.WARNING, MsgType.ALERT})
# A conversation whose other members' accounts were deleted (they leave it).
NOBODY_LEFT = "Deleted user"


class RoomRole(enum.IntEnum):
    RoomId = Qt.ItemDataRole.UserRole + 1
    Title = enum.auto()
    StaffOnly = enum.auto()
    Joined = enum.auto()
    Unread = enum.auto()
    Mentions = enum.auto()
    Muted = enum.auto()
    Kind = enum.auto()  # "room" or "direct"
    IsDirect = enum.auto()
    Members = enum.auto()  # a direct conversation's usernames (this user's too), else []


def direct_title(members: tuple[str, ...] | list[str], me: str) -> str:
    """A direct conversation's title: the others, NOBODY_LEFT when they are all gone."""
    others = [name for name in members if name != me]
    return ", ".join(sorted(others, key=str.casefold)) if others else NOBODY_LEFT


@dataclass(slots=True)
class RoomRow:
    id: str
    title: str
    staff_only: bool
    joined: bool = False
    muted: bool = False
    kind: str = ROOM_KIND
    members: tuple[str, ...] = ()
    server_title: str = ""
    last_seq: int = 0
    read_seq: int = 0
    # Seqs after read_seq whose worth this app knows: how many unread messages each is
    # (0 for an own message, a change, a notice; an activity frame's count).
    known: dict[int, int] = field(default_factory=dict)
    mention_seqs: set[int] = field(default_factory=set)
    # What the server last said (a room list's or a read's ``unread``): up to seq
    # ``snap_seq``, ``snap_unread`` messages after read_seq are unread. None from an older
    # server: then every seq this app knows nothing of counts (changes included).
    snap_seq: int = 0
    snap_unread: int | None = None

    @property
    def is_direct(self) -> bool:
        return self.kind == DIRECT_KIND

    @property
    def unread(self) -> int:
        if self.muted:
            return 0
        if self.snap_unread is None:
            unknown = max(0, self.last_seq - self.read_seq - len(self.known))
            return unknown + sum(self.known.values())
        # The server's count up to snap_seq, and what this app heard of after it (live
        # events, activity counts); a seq after it heard of by nothing is a change.
        return self.snap_unread + sum(w for s, w in self.known.items() if s > self.snap_seq)

    def snapshot(self, seq: int, unread: int) -> None:
        """The server says ``unread`` messages after read_seq, up to ``seq``."""
        self.snap_seq, self.snap_unread = max(seq, self.read_seq), unread

    @property
    def mentions(self) -> int:
        return len(self.mention_seqs)

    def sort_key(self) -> tuple[bool, str, str]:
        return (self.is_direct, self.title.casefold(), self.id)

    def note(self, seq: int, worth: int, mention: bool = False) -> None:
        """What seq ``seq`` is worth (unread messages); nothing at or below what was read."""
        if seq <= self.read_seq:
            return
        self.last_seq = max(self.last_seq, seq)
        self.known[seq] = worth
        if mention:
            self.mention_seqs.add(seq)

    def read_to(self, seq: int) -> None:
        """Read up to ``seq`` (never back)."""
        if seq <= self.read_seq:
            return
        if self.snap_unread is not None:
            if seq >= self.snap_seq:
                self.snap_seq, self.snap_unread = seq, 0
            else:  # part of what the server counted: take off what is read now, each
                # seq this app knows nothing of taken for a message (it was not shown)
                inside = [w for s, w in self.known.items() if self.read_seq < s <= seq]
                read_now = sum(inside) + (seq - self.read_seq - len(inside))
                self.snap_unread = max(0, self.snap_unread - read_now)
        self.read_seq = seq
        self.last_seq = max(self.last_seq, seq)
        self.known = {s: c for s, c in self.known.items() if s > seq}
        self.mention_seqs = {s for s in self.mention_seqs if s > seq}

    def counts(self) -> tuple[int, int]:
        return (self.unread, self.mentions)


class RoomListModel(RoleListModel):
    """Signals: totalsChanged(int unread, int mentions), for the tray."""

    ROLES = RoomRole

    totalsChanged = Signal(int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[RoomRow] = []
        self._muted: set[str] = set()
        self._joined: set[str] = set()
        self._me = ""

    # -- feeding ---------------------------------------------------------------------

    def set_me(self, username: str) -> None:
        """Whose list this is: direct conversations are titled without them."""
        if username == self._me:
            return
        self._me = username
        for row in list(self._rows):
            if row.is_direct:
                self._retitle(row, direct_title(row.members, username))

    def reset_counts(self) -> None:
        """Another account or server: nothing known about reading carries over."""
        for row in self._rows:
            row.last_seq = row.read_seq = 0
            row.known.clear()
            row.mention_seqs.clear()
        if self._rows:
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1))
        self._emit_totals()

    def set_rooms(self, rooms: list[RoomInfo]) -> None:
        """Bring the list to ``rooms`` with minimal changes, so the selection survives.

        Each entry's ``last_seq`` and ``read_seq`` only move the counts forward: a
        list sent a moment ago never takes back a read this app has seen since."""
        wanted = {str(r.id): r for r in rooms}
        for position in reversed(range(len(self._rows))):
            if self._rows[position].id not in wanted:
                self.beginRemoveRows(QModelIndex(), position, position)
                del self._rows[position]
                self.endRemoveRows()
        for room_id, room in wanted.items():
            members = tuple(room.members or ())
            title = direct_title(members, self._me) if room.is_direct else room.title
            found = self._position(room_id)
            if found is None:
                row = RoomRow(id=room_id, title=title, staff_only=room.staff_only,
                              joined=room_id in self._joined, muted=room_id in self._muted,
                              kind=room.kind, members=members, server_title=room.title,
                              last_seq=room.last_seq, read_seq=room.read_seq)
                if room.unread is not None:
                    row.snapshot(room.last_seq, room.unread)
                self._insert_sorted(row)
                continue
            row = self._rows[found]
            before = (row.counts(), row.staff_only, row.kind, row.members)
            row.staff_only, row.kind, row.members = room.staff_only, room.kind, members
            row.server_title = room.title
            fresh = room.read_seq >= row.read_seq  # not behind a read seen here since
            row.read_to(room.read_seq)
            row.last_seq = max(row.last_seq, room.last_seq)
            if fresh and room.unread is not None and room.last_seq >= row.snap_seq:
                row.snapshot(room.last_seq, room.unread)
            if row.title != title:
                self._retitle(row, title)
            elif before != (row.counts(), row.staff_only, row.kind, row.members):
                self._changed(row)
        self._emit_totals()

    def add_room(self, room: RoomInfo) -> None:
        """One entry more (a direct conversation just opened), before the list says so."""
        if self._position(str(room.id)) is None:
            self.set_rooms([*self.room_infos(), room])

    def room_infos(self) -> list[RoomInfo]:
        return [RoomInfo(int(row.id), row.server_title or row.title, row.staff_only,
                         kind=row.kind, last_seq=row.last_seq, read_seq=row.read_seq,
                         members=row.members if row.is_direct else None)
                for row in self._rows]

    def _retitle(self, row: RoomRow, title: str) -> None:
        """A new title moves the row to its sorted place (removed and put back)."""
        position = self._rows.index(row)
        self.beginRemoveRows(QModelIndex(), position, position)
        del self._rows[position]
        self.endRemoveRows()
        row.title = title
        self._insert_sorted(row)

    def _insert_sorted(self, row: RoomRow) -> None:
        keys = [r.sort_key() for r in self._rows]
        position = next((i for i, key in enumerate(keys) if key > row.sort_key()), len(keys))
        self.beginInsertRows(QModelIndex(), position, position)
        self._rows.insert(position, row)
        self.endInsertRows()

    def set_joined(self, room: str, joined: bool) -> None:
        """Joined or not, a room keeps its counts: ``activity`` keeps the others' right."""
        (self._joined.add if joined else self._joined.discard)(room)
        self._update(room, joined=joined)

    def set_muted(self, room: str, muted: bool) -> None:
        (self._muted.add if muted else self._muted.discard)(room)
        self._update(room, muted=muted)

    def is_muted(self, room: str) -> bool:
        return room in self._muted

    def muted_rooms(self) -> list[str]:
        return sorted(self._muted)

    def note_event(self, room: str, event: RoomEvent, *, in_view: bool,
                   own_username: str) -> None:
        """A live event of a joined room, towards the room's unread and mention badges."""
        row = self._row(room)
        if row is None or event.seq is None:
            return  # presence notices carry no seq and never count
        own = event.username == own_username
        counts = not in_view and not own and event.msg_type in UNREAD_TYPES
        mention = counts and mentions(event.message or "", own_username)
        self._count(row, lambda: row.note(event.seq or 0, int(counts), mention))

    def note_activity(self, room: str, seq: int, username: str, mention: bool,
                      count: int = 1) -> None:
        """``activity`` for a room not joined: ``count`` messages, warnings or alerts (or
        muted notices: it can't tell), the newest by ``username``. Counted as the server
        folded them (all of them when the newest is someone else's)."""
        row = self._row(room)
        if row is None:
            return
        own = username == self._me
        self._count(row, lambda: row.note(seq, 0 if own else count, mention and not own))

    def note_history(self, room: str, events: list[RoomEvent], own_username: str) -> None:
        """A page of history: what its seqs are worth is known now. A history page lists
        every message of its range, so a seq missing inside it is a change, which
        never counts. Mentions in it count (unread ones only)."""
        row = self._row(room)
        seqs = [e.seq for e in events if e.seq is not None]
        if row is None or not seqs:
            return

        def note() -> None:
            for missing in set(range(min(seqs), max(seqs) + 1)) - set(seqs):
                row.note(missing, 0)
            for event in events:
                if event.seq is None:
                    continue
                own = event.username == own_username
                counts = not own and event.msg_type in UNREAD_TYPES and not event.deleted
                row.note(event.seq, int(counts),
                         counts and mentions(event.message or "", own_username))

        self._count(row, note)

    def set_read(self, room: str, seq: int, unread: int | None = None) -> None:
        """Read up to ``seq`` (here, or on another device, which says what is ``unread``
        after it): the counts follow."""
        row = self._row(room)
        if row is None:
            return

        def read() -> None:
            row.read_to(seq)
            if unread is not None and seq >= row.read_seq:
                row.snapshot(row.last_seq, unread)

        self._count(row, read)

    def mark_read(self, room: str) -> None:
        """In view: everything known to have arrived counts as read here."""
        row = self._row(room)
        if row is not None:
            self._count(row, lambda: row.read_to(row.last_seq))

    def read_seq(self, room: str) -> int | None:
        """How far the server says (or this app told it) the room was read; None if unlisted."""
        row = self._row(room)
        return None if row is None else row.read_seq

    def last_seq(self, room: str) -> int:
        row = self._row(room)
        return 0 if row is None else row.last_seq

    def unread(self, room: str) -> int:
        row = self._row(room)
        return row.unread if row is not None else 0

    def mention_count(self, room: str) -> int:
        row = self._row(room)
        return row.mentions if row is not None else 0

    def total_unread(self) -> int:
        return sum(row.unread for row in self._rows)

    def total_mentions(self) -> int:
        return sum(row.mentions for row in self._rows)

    def title(self, room: str) -> str | None:
        """The title of a listed room (a direct conversation's as shown)."""
        row = self._row(room)
        return None if row is None else row.title

    def room_titled(self, title: str) -> str | None:
        """The id of the listed room with exactly this title."""
        return next((row.id for row in self._rows if row.title == title), None)

    def is_direct(self, room: str) -> bool:
        row = self._row(room)
        return row is not None and row.is_direct

    def members(self, room: str) -> list[str]:
        """A direct conversation's members (this user included); [] for a room."""
        row = self._row(room)
        return list(row.members) if row is not None else []

    def direct_rooms(self) -> list[str]:
        return [row.id for row in self._rows if row.is_direct]

    def _position(self, room: str) -> int | None:
        return next((i for i, row in enumerate(self._rows) if row.id == room), None)

    def _row(self, room: str) -> RoomRow | None:
        position = self._position(room)
        return None if position is None else self._rows[position]

    def _count(self, row: RoomRow, change: Any) -> None:
        """Apply ``change`` to the row's counts; tell views and the tray if they moved."""
        before = row.counts()
        change()
        if row.counts() != before:
            self._changed(row)
            self._emit_totals()

    def _changed(self, row: RoomRow) -> None:
        index = self.index(self._rows.index(row))
        self.dataChanged.emit(index, index)

    def _update(self, room: str, **changes: Any) -> None:
        row = self._row(room)
        if row is None:
            return
        if all(getattr(row, key) == value for key, value in changes.items()):
            return
        for key, value in changes.items():
            setattr(row, key, value)
        self._changed(row)
        self._emit_totals()

    def _emit_totals(self) -> None:
        self.totalsChanged.emit(self.total_unread(), self.total_mentions())

    # -- Qt's model interface -------------------------------------------------------------

    def row_count(self) -> int:
        return len(self._rows)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self.holds(index):
            return None
        row = self._rows[index.row()]
        if row.is_direct:
            tip = "Direct conversation with " + row.title if row.title != NOBODY_LEFT else (
                "Direct conversation with someone whose account was deleted")
        else:
            tip = row.title + (" (staff only)" if row.staff_only else "")
        values = {
            Qt.ItemDataRole.DisplayRole: row.title,
            Qt.ItemDataRole.ToolTipRole: tip,
            RoomRole.RoomId: row.id,
            RoomRole.Title: row.title,
            RoomRole.StaffOnly: row.staff_only,
            RoomRole.Joined: row.joined,
            RoomRole.Unread: row.unread,
            RoomRole.Mentions: row.mentions,
            RoomRole.Muted: row.muted,
            RoomRole.Kind: row.kind,
            RoomRole.IsDirect: row.is_direct,
            RoomRole.Members: list(row.members),
        }
        return values.get(role)  # type: ignore[call-overload]
