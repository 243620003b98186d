"""What every list model here shares: the index type Qt hands in, and roles from an enum.

Each model's custom roles are one ``IntEnum``; ``RoleListModel`` names them for
QML and tools (``MentionsMe`` becomes ``mentionsMe``), answers Qt's "a flat list
has no children" rule in ``rowCount`` and checks an index before ``data`` reads
a row, so each model says only how many rows it has (``row_count``).
"""

from __future__ import annotations

import enum
from typing import ClassVar

from PySide6.QtCore import QAbstractListModel, QByteArray, QModelIndex, QPersistentModelIndex

# What Qt passes to a model's methods: a view's index, or a kept (persistent) one.
ModelIndex = QModelIndex | QPersistentModelIndex


def role_names(base: dict[int, QByteArray], roles: type[enum.IntEnum]) -> dict[int, QByteArray]:
    names = dict(base)
    for role in roles:
        names[int(role)] = QByteArray((role.name[0].lower() + role.name[1:]).encode())
    return names


class RoleListModel(QAbstractListModel):
    """A flat list model whose custom roles are the enum ``ROLES``."""

    ROLES: ClassVar[type[enum.IntEnum]]

    def row_count(self) -> int:
        """How many rows the list has now."""
        raise NotImplementedError

    def holds(self, index: ModelIndex) -> bool:
        """Whether ``index`` is one of the rows now (a view may still ask about a gone one)."""
        return index.isValid() and 0 <= index.row() < self.row_count()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.row_count()

    def roleNames(self) -> dict[int, QByteArray]:
        return role_names(super().roleNames(), self.ROLES)
