"""Ctrl+K: type part of a room's title, Enter opens it, Esc closes.

A small dialog over the sidebar's own model (filtered, not copied), so the
rooms it offers are the ones listed, with their current titles.

Signals:
    roomChosen(str room, str title): the person picked a room to open.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QLineEdit,
    QListView,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop.models.rooms import RoomRole


class _QueryEdit(QLineEdit):
    """Up and Down move through the matches while the typing stays here."""

    def __init__(self, matches: QListView) -> None:
        super().__init__()
        self._matches = matches

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp,
                           Qt.Key.Key_PageDown):
            self._matches.keyPressEvent(event)  # move the current match, keep focus here
            return
        super().keyPressEvent(event)


class RoomSwitcher(QDialog):
    roomChosen = Signal(str, str)

    def __init__(self, rooms: QAbstractItemModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("roomSwitcher")
        self.setWindowTitle("Go to room")
        self.filtered = QSortFilterProxyModel(self)
        self.filtered.setSourceModel(rooms)
        self.filtered.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filtered.setFilterRole(Qt.ItemDataRole.DisplayRole)
        self.matches = QListView()
        self.matches.setModel(self.filtered)
        self.matches.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.matches.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.matches.setUniformItemSizes(True)
        self.query = _QueryEdit(self.matches)
        self.query.setPlaceholderText("Room name…")
        self.query.setClearButtonEnabled(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.matches)
        self.query.textChanged.connect(self._filter)
        self.query.returnPressed.connect(self._choose_current)
        self.matches.activated.connect(self._choose)
        self.matches.clicked.connect(self._choose)
        self.resize(360, 300)

    def open_for_search(self) -> None:
        """Show empty, every room listed, ready to type."""
        self.query.clear()
        self._filter("")
        self.show()  # a dialog of the main window: shown on top of it, no raise() needed
        self.activateWindow()
        self.query.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _filter(self, text: str) -> None:
        self.filtered.setFilterFixedString(text.strip())
        if self.filtered.rowCount() > 0:
            self.matches.setCurrentIndex(self.filtered.index(0, 0))

    def _choose_current(self) -> None:
        index = self.matches.currentIndex()
        if not index.isValid() and self.filtered.rowCount() > 0:
            index = self.filtered.index(0, 0)
        if index.isValid():
            self._choose(index)

    def _choose(self, index: QModelIndex) -> None:
        room = str(index.data(RoomRole.RoomId))
        title = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        self.accept()
        self.roomChosen.emit(room, title)
