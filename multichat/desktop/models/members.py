"""Who is in a room now, sorted, updated with minimal inserts and removals.

Everyone listed is present (the server tells who is in the room, nothing
more), so each gets the theme's "online" dot; the reader is marked "(you)".
"""

from __future__ import annotations

import bisect
import enum
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from multichat.desktop import theme
from multichat.desktop.models.roles import ModelIndex, RoleListModel

DOT = 10  # px: a status dot, small beside a name



class MemberRole(enum.IntEnum):
    Username = Qt.ItemDataRole.UserRole + 1
    IsMe = enum.auto()


class MemberListModel(RoleListModel):
    ROLES = MemberRole

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._names: list[str] = []
        self._me = ""

    def set_me(self, username: str) -> None:
        self._me = username

    def set_members(self, usernames: list[str]) -> None:
        wanted = set(usernames)
        for position in reversed(range(len(self._names))):
            if self._names[position] not in wanted:
                self.beginRemoveRows(QModelIndex(), position, position)
                del self._names[position]
                self.endRemoveRows()
        for name in sorted(wanted - set(self._names), key=str.casefold):
            keys = [n.casefold() for n in self._names]
            position = bisect.bisect_left(keys, name.casefold())
            self.beginInsertRows(QModelIndex(), position, position)
            self._names.insert(position, name)
            self.endInsertRows()

    def usernames(self) -> list[str]:
        return list(self._names)

    def row_count(self) -> int:
        return len(self._names)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self.holds(index):
            return None
        name = self._names[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{name} (you)" if name == self._me else name
        if role == MemberRole.Username:
            return name
        if role == MemberRole.IsMe:
            return name == self._me
        if role == Qt.ItemDataRole.DecorationRole:
            return _dot(theme.current().online)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{name} is in the room"
        return None


_dots: dict[str, QIcon] = {}


def _dot(colour: str) -> QIcon:
    """A filled circle in ``colour``, made once per colour (the theme can change)."""
    icon = _dots.get(colour)
    if icon is None:
        pixmap = QPixmap(DOT, DOT)
        pixmap.fill(QColor(0, 0, 0, 0))
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colour))
        painter.drawEllipse(0, 0, DOT, DOT)
        painter.end()
        icon = _dots[colour] = QIcon(pixmap)
    return icon
