"""Ctrl+K: type part of a room's title, Enter opens it, Esc closes.

A popup over the top of the main window, as quick-open boxes are (VS Code,
Slack): no title bar of its own, gone on Esc or a click elsewhere. It filters
the sidebar's own model (not a copy), so the rooms it offers are the ones
listed, with their current titles; long titles elide, the list never scrolls
sideways.

Signals:
    roomChosen(str room, str title): the person picked a room to open.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QLineEdit,
    QListView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop.models.rooms import RoomRole

WIDTH_SHARE = 0.6  # of the main window's width, at most
MAX_WIDTH = 560  # on a wide window a quick-open box stays a box
TOP_MARGIN = 48  # below the menu bar and the header, over the tabs
VISIBLE_ROWS = 8


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


class _ElidedRows(QStyledItemDelegate):
    """Rows as wide as the list, not as their text: a long title elides instead of
    widening the rows past the list (and growing a horizontal scroll bar)."""

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(0, super().sizeHint(option, index).height())


class RoomSwitcher(QFrame):
    roomChosen = Signal(str, str)

    def __init__(self, rooms: QAbstractItemModel, parent: QWidget | None = None) -> None:
        # A popup: no window-manager frame, closed by Qt on a click outside it.
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("roomSwitcher")
        self.setWindowTitle("Go to room")
        self.setAccessibleName("Go to room")
        self.filtered = QSortFilterProxyModel(self)
        self.filtered.setSourceModel(rooms)
        self.filtered.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filtered.setFilterRole(Qt.ItemDataRole.DisplayRole)
        self.matches = QListView()
        self.matches.setObjectName("roomMatches")
        self.matches.setModel(self.filtered)
        self.matches.setItemDelegate(_ElidedRows(self.matches))
        self.matches.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.matches.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.matches.setUniformItemSizes(True)
        self.matches.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.matches.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.matches.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.query = _QueryEdit(self.matches)
        self.query.setPlaceholderText("Room name…")
        self.query.setClearButtonEnabled(True)
        self.query.setAccessibleName("Room name")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 8, 8, 8)
        self._layout.addWidget(self.query)
        self._layout.addWidget(self.matches)
        self.query.textChanged.connect(self._filter)
        self.query.returnPressed.connect(self._choose_current)
        self.matches.activated.connect(self._choose)
        self.matches.clicked.connect(self._choose)

    def open_for_search(self) -> None:
        """Show empty, every room listed, ready to type, over the top of the window."""
        self.query.clear()
        self._filter("")
        self._place()
        self.show()
        self.activateWindow()
        self.query.setFocus(Qt.FocusReason.PopupFocusReason)

    def _place(self) -> None:
        """Centred across the parent window near its top, at most ``WIDTH_SHARE`` of it."""
        owner = self.parentWidget()
        if owner is None:
            self.resize(360, 300)
            return
        window = owner.window()
        width = min(MAX_WIDTH, int(window.width() * WIDTH_SHARE))
        rows = min(max(self.filtered.rowCount(), 1), VISIBLE_ROWS)
        row_height = max(self.matches.sizeHintForRow(0), self.fontMetrics().height() + 6)
        frame = self.matches.frameWidth() * 2
        margins = self._layout.contentsMargins()
        height = (self.query.sizeHint().height() + self._layout.spacing()
                  + rows * row_height + frame + margins.top() + margins.bottom())
        height = min(height, max(window.height() - TOP_MARGIN, self.minimumSizeHint().height()))
        self.resize(width, height)
        top_left = window.mapToGlobal(QPoint((window.width() - width) // 2,
                                             min(TOP_MARGIN, window.height() // 8)))
        self.move(top_left)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)

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
        self.close()
        self.roomChosen.emit(room, title)
