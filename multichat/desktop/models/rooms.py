"""The sidebar's rooms, with unread and mention counts.

Unread counts messages, warnings and alerts that arrive in a room that is not
in view; muted notices and ENTER/LEAVE never count. A muted room counts no
unread but still counts mentions: being named is never muted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from multichat.desktop.models.mentions import mentions
from multichat.desktop.models.roles import role_names
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent, RoomInfo

ModelIndex = QModelIndex | QPersistentModelIndex
UNREAD_TYPES = frozenset({MsgType.MESSAGE, MsgType.WARNING, MsgType.ALERT})


class RoomRole(enum.IntEnum):
    RoomId = Qt.ItemDataRole.UserRole + 1
    Title = enum.auto()
    StaffOnly = enum.auto()
    Joined = enum.auto()
    Unread = enum.auto()
    Mentions = enum.auto()
    Muted = enum.auto()


@dataclass(slots=True)
class RoomRow:
    id: str
    title: str
    staff_only: bool
    joined: bool = False
    unread: int = 0
    mentions: int = 0
    muted: bool = False

    def sort_key(self) -> tuple[str, str]:
        return (self.title.casefold(), self.id)


class RoomListModel(QAbstractListModel):
    """Signals: totalsChanged(int unread, int mentions), for the tray."""

    totalsChanged = Signal(int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[RoomRow] = []
        self._muted: set[str] = set()
        self._joined: set[str] = set()

    # -- feeding ---------------------------------------------------------------------

    def set_rooms(self, rooms: list[RoomInfo]) -> None:
        """Bring the list to ``rooms`` with minimal changes, so the selection survives."""
        wanted = {str(r.id): r for r in rooms}
        for position in reversed(range(len(self._rows))):
            if self._rows[position].id not in wanted:
                self.beginRemoveRows(QModelIndex(), position, position)
                del self._rows[position]
                self.endRemoveRows()
        for room_id, room in wanted.items():
            found = self._position(room_id)
            if found is None:
                row = RoomRow(id=room_id, title=room.title, staff_only=room.staff_only,
                              joined=room_id in self._joined, muted=room_id in self._muted)
                self._insert_sorted(row)
                continue
            row = self._rows[found]
            if (row.title, row.staff_only) != (room.title, room.staff_only):
                self.beginRemoveRows(QModelIndex(), found, found)
                del self._rows[found]
                self.endRemoveRows()
                row.title, row.staff_only = room.title, room.staff_only
                self._insert_sorted(row)
        self._emit_totals()

    def _insert_sorted(self, row: RoomRow) -> None:
        keys = [r.sort_key() for r in self._rows]
        position = next((i for i, key in enumerate(keys) if key > row.sort_key()), len(keys))
        self.beginInsertRows(QModelIndex(), position, position)
        self._rows.insert(position, row)
        self.endInsertRows()

    def set_joined(self, room: str, joined: bool) -> None:
        (self._joined.add if joined else self._joined.discard)(room)
        self._update(room, joined=joined, **({} if joined else {"unread": 0, "mentions": 0}))

    def set_muted(self, room: str, muted: bool) -> None:
        (self._muted.add if muted else self._muted.discard)(room)
        self._update(room, muted=muted)

    def is_muted(self, room: str) -> bool:
        return room in self._muted

    def muted_rooms(self) -> list[str]:
        return sorted(self._muted)

    def note_event(self, room: str, event: RoomEvent, *, in_view: bool,
                   own_username: str) -> None:
        """Count a room event towards the room's unread and mention badges."""
        if in_view or event.username == own_username:
            return
        if event.msg_type not in UNREAD_TYPES:
            return
        position = self._position(room)
        if position is None:
            return
        row = self._rows[position]
        changes: dict[str, int] = {}
        if mentions(event.message or "", own_username):
            changes["mentions"] = row.mentions + 1
        if not row.muted:
            changes["unread"] = row.unread + 1
        if changes:
            self._update(room, **changes)

    def mark_read(self, room: str) -> None:
        self._update(room, unread=0, mentions=0)

    def unread(self, room: str) -> int:
        position = self._position(room)
        return self._rows[position].unread if position is not None else 0

    def mention_count(self, room: str) -> int:
        position = self._position(room)
        return self._rows[position].mentions if position is not None else 0

    def total_unread(self) -> int:
        return sum(row.unread for row in self._rows if not row.muted)

    def total_mentions(self) -> int:
        return sum(row.mentions for row in self._rows)

    def title(self, room: str) -> str | None:
        """The title of a listed room."""
        position = self._position(room)
        return None if position is None else self._rows[position].title

    def room_titled(self, title: str) -> str | None:
        """The id of the listed room with exactly this title."""
        return next((row.id for row in self._rows if row.title == title), None)

    def _position(self, room: str) -> int | None:
        return next((i for i, row in enumerate(self._rows) if row.id == room), None)

    def _update(self, room: str, **changes: Any) -> None:
        position = self._position(room)
        if position is None:
            return
        row = self._rows[position]
        if all(getattr(row, key) == value for key, value in changes.items()):
            return
        for key, value in changes.items():
            setattr(row, key, value)
        index = self.index(position)
        self.dataChanged.emit(index, index)
        self._emit_totals()

    def _emit_totals(self) -> None:
        self.totalsChanged.emit(self.total_unread(), self.total_mentions())

    # -- Qt's model interface -------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        values = {
            Qt.ItemDataRole.DisplayRole: row.title,
            Qt.ItemDataRole.ToolTipRole: row.title + (" (staff only)" if row.staff_only else ""),
            RoomRole.RoomId: row.id,
            RoomRole.Title: row.title,
            RoomRole.StaffOnly: row.staff_only,
            RoomRole.Joined: row.joined,
            RoomRole.Unread: row.unread,
            RoomRole.Mentions: row.mentions,
            RoomRole.Muted: row.muted,
        }
        return values.get(role)  # type: ignore[call-overload]

    def roleNames(self) -> dict[int, QByteArray]:
        return role_names(super().roleNames(), RoomRole)
