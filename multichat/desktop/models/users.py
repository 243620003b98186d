"""People to pick for a direct conversation: the known users, each with a checkbox.

The server lists users to admins only, so "known" means seen: members of the
open rooms and of the direct conversations (``Workspace.known_users``). Names
typed in the picker join the list, checked, so a person nobody here has seen
can still be messaged.
"""

from __future__ import annotations

import bisect
import enum
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal

from multichat.desktop.models.roles import ModelIndex, RoleListModel


class UserRole(enum.IntEnum):
    Username = Qt.ItemDataRole.UserRole + 1
    Chosen = enum.auto()


class UserChoiceModel(RoleListModel):
    """Signals: chosenChanged(list usernames), in the order they were checked."""

    ROLES = UserRole

    chosenChanged = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._names: list[str] = []
        self._chosen: list[str] = []

    def set_users(self, usernames: list[str]) -> None:
        """The known users, replacing the list (nobody chosen)."""
        self.beginResetModel()
        self._names = sorted(dict.fromkeys(usernames), key=str.casefold)
        self._chosen = []
        self.endResetModel()
        self.chosenChanged.emit([])

    def add(self, username: str, *, chosen: bool = True) -> None:
        """A name typed in: listed (if new) and chosen."""
        if username not in self._names:
            keys = [name.casefold() for name in self._names]
            position = bisect.bisect_left(keys, username.casefold())
            self.beginInsertRows(QModelIndex(), position, position)
            self._names.insert(position, username)
            self.endInsertRows()
        self.set_chosen(username, chosen)

    def set_chosen(self, username: str, chosen: bool) -> None:
        if username not in self._names or (username in self._chosen) == chosen:
            return
        if chosen:
            self._chosen.append(username)
        else:
            self._chosen.remove(username)
        index = self.index(self._names.index(username))
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole, UserRole.Chosen])
        self.chosenChanged.emit(self.chosen())

    def chosen(self) -> list[str]:
        return list(self._chosen)

    def usernames(self) -> list[str]:
        return list(self._names)

    # -- Qt's model interface -------------------------------------------------------------

    def row_count(self) -> int:
        return len(self._names)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self.holds(index):
            return None
        name = self._names[index.row()]
        chosen = name in self._chosen
        if role in (Qt.ItemDataRole.DisplayRole, UserRole.Username):
            return name
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if chosen else Qt.CheckState.Unchecked
        if role == UserRole.Chosen:
            return chosen
        return None

    def setData(self, index: ModelIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not self.holds(index):
            return False
        checked = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value)
        self.set_chosen(self._names[index.row()], checked)
        return True

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemNeverHasChildren)
