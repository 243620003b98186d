"""Ctrl+F / Ctrl+Shift+F: search the messages of this room, or of every room.

A popup over the top of the main window, as the room switcher (Ctrl+K) is:
type, the results come as you type (``DEBOUNCE_MS`` after the last key, from
``AS_YOU_TYPE_CHARS`` characters on: each search spends the server's command
bucket, so a quick typist sends one search, not one per key; Enter searches at
once). Up and Down move through the results while the typing stays in the
box; Enter or a click opens the room at that message; Esc closes and the
message box has the focus again. Scrolled (or stepped) to the end, the next
page comes while the server has more. The line under the box says what is
going on in words: searching, no match (and how words match), a refusal.

The scope ("This room" / "All rooms") is a choice beside the box: Ctrl+F
opens on the room in view, Ctrl+Shift+F on everything.

Signals:
    resultChosen(str room, int seq): open ``room`` at message ``seq``.
    closed(): the panel went away (Esc, a click elsewhere, a result chosen).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QHideEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop.models.search_matches import query_words
from multichat.desktop.models.search_results import SearchResultsModel, SearchRole, Status
from multichat.desktop.widgets.search_delegate import SearchResultDelegate

# Wait this long after the last key before searching: one search per pause in typing.
DEBOUNCE_MS = 400
# Searching as you type starts at this many characters (a single letter matches nearly
# everything and costs the server the most); Enter searches for anything.
AS_YOU_TYPE_CHARS = 2
MAX_WIDTH = 720
SIDE_MARGIN = 8
TOP_MARGIN = 48
EVERYWHERE = "All rooms"


class _QueryEdit(QLineEdit):
    """Up, Down, PgUp, PgDown move through the results while the typing stays here."""

    def __init__(self, results: QListView) -> None:
        super().__init__()
        self._results = results

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp,
                           Qt.Key.Key_PageDown):
            self._results.keyPressEvent(event)
            return
        super().keyPressEvent(event)


class SearchPanel(QFrame):
    resultChosen = Signal(str, int)
    closed = Signal()

    def __init__(self, model: SearchResultsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("searchPanel")
        self.setWindowTitle("Search messages")
        self.setAccessibleName("Search messages")
        self.model = model
        self._room: str | None = None  # the room in view when opened, for "This room"
        self.results = self._build_results(model)
        self.query = _QueryEdit(self.results)
        self.query.setObjectName("searchQuery")
        self.query.setPlaceholderText("Search messages…")
        self.query.setClearButtonEnabled(True)
        self.query.setAccessibleName("Search for")
        self.scope = QComboBox()
        self.scope.setObjectName("searchScope")
        self.scope.setAccessibleName("Search in")
        self.scope.setToolTip("Where to search: the room in view (Ctrl+F) or every room and "
                              "direct conversation (Ctrl+Shift+F)")
        self.status = QLabel()
        self.status.setObjectName("searchStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(self.scope)
        row.addWidget(self.query, 1)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 8, 8, 8)
        self._layout.addLayout(row)
        self._layout.addWidget(self.status)
        self._layout.addWidget(self.results, 1)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.search_now)
        self.query.textChanged.connect(self._typed)
        self.query.returnPressed.connect(self._enter)
        self.scope.currentIndexChanged.connect(lambda _i: self._scope_changed())
        self.results.activated.connect(self._choose)
        self.results.clicked.connect(self._choose)
        self.results.verticalScrollBar().valueChanged.connect(lambda _v: self._more_if_at_end())
        model.statusChanged.connect(self._show_status)
        model.rowsInserted.connect(self._rows_came)
        model.modelReset.connect(self._show_status)
        for changed in (model.statusChanged, model.rowsInserted, model.modelReset):
            changed.connect(self._refit)
        # A page that added nothing new, or the current result stepped to the last: more.
        model.statusChanged.connect(self._more_if_at_end)
        self.results.selectionModel().currentChanged.connect(
            lambda _now, _before: self._more_if_at_end())
        self._show_status()

    def _build_results(self, model: SearchResultsModel) -> QListView:
        results = QListView()
        results.setObjectName("searchResults")
        results.setAccessibleName("Search results")
        results.setModel(model)
        results.setItemDelegate(SearchResultDelegate(results))
        results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        results.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the typing stays in the box
        results.setMouseTracking(True)
        results.setResizeMode(QListView.ResizeMode.Adjust)  # rows re-wrap to a new width
        results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        results.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        return results

    # -- opening ---------------------------------------------------------------------------

    def open_for(self, room: str | None, room_title: str = "", *, everywhere: bool) -> None:
        """Show over the window, searching ``room`` (the room in view, if any) or, with
        ``everywhere`` or no room, every room; the words typed before stay, selected."""
        self._room = room
        self.scope.blockSignals(True)
        self.scope.clear()
        if room is not None:
            self.scope.addItem(f"In {room_title or 'this room'}", room)
        self.scope.addItem(EVERYWHERE, None)
        self.scope.setCurrentIndex(self.scope.count() - 1 if everywhere or room is None else 0)
        self.scope.blockSignals(False)
        self._place()
        self.show()
        self.activateWindow()
        self.query.setFocus(Qt.FocusReason.PopupFocusReason)
        self.query.selectAll()
        if self.query.text().strip():
            self.search_now(again=True)  # anew: messages may have come since
        else:
            self._show_status()

    def searched_room(self) -> str | None:
        """The room the scope names (None: every room)."""
        data = self.scope.currentData()
        return str(data) if data is not None else None

    def _place(self) -> None:
        """Across the window near its top, as wide as it allows up to ``MAX_WIDTH``; as
        tall as the results need, down to near the window's bottom at most."""
        owner = self.parentWidget()
        if owner is None:
            self.resize(MAX_WIDTH, 480)
            return
        window = owner.window()
        width = min(MAX_WIDTH, window.width() - 2 * SIDE_MARGIN)
        top = min(TOP_MARGIN, window.height() // 8)
        self.resize(width, self._height_for(width, window.height() - top - TOP_MARGIN // 2))
        self.move(window.mapToGlobal(QPoint((window.width() - width) // 2, top)))

    def _height_for(self, width: int, most: int) -> int:
        """The box, the status line and the results as tall as they are (no empty area
        under a few results), within ``most``."""
        margins = self._layout.contentsMargins()
        inner = width - margins.left() - margins.right()
        spacing = self._layout.spacing()
        height = (margins.top() + margins.bottom() + self.query.sizeHint().height()
                  + spacing + self.status.heightForWidth(inner))
        rows = self.model.rowCount()
        self.results.setVisible(rows > 0)
        if rows:
            content = 2 * self.results.frameWidth() + 4  # the style sheet's top line too
            for row in range(rows):
                content += self.results.sizeHintForRow(row)
                if height + spacing + content >= most:
                    break
            height += spacing + content
        return max(min(height, most), self.minimumSizeHint().height())

    def _refit(self) -> None:
        if self.isVisible():
            self._place()

    # -- searching -------------------------------------------------------------------------

    def _typed(self, text: str) -> None:
        stripped = text.strip()
        if not query_words(stripped):
            self._debounce.stop()
            self.model.clear()
            return
        if len(stripped) >= AS_YOU_TYPE_CHARS:
            self._debounce.start()  # again: the search waits for a pause in the typing

    def search_now(self, *, again: bool = False) -> None:
        self._debounce.stop()
        if self.model.start(self.query.text(), self.searched_room(), again=again):
            self.results.scrollToTop()

    def _scope_changed(self) -> None:
        if query_words(self.query.text()):
            self.search_now()
        else:
            self._show_status()

    def _enter(self) -> None:
        """Enter: search now if what is typed was not searched yet; else open the result."""
        typed = query_words(self.query.text())
        stale = (self._debounce.isActive() or typed != query_words(self.model.query)
                 or self.searched_room() != self.model.room)
        if stale or self.model.status is Status.FAILED:
            self.search_now(again=True)
            return
        if self.model.status is Status.SEARCHING:
            return  # what shows answers the words before: nothing of these to open yet
        index = self.results.currentIndex()
        if not index.isValid() and self.model.rowCount() > 0:
            index = self.model.index(0)
        if index.isValid():
            self._choose(index)

    def _rows_came(self, _parent: QModelIndex, first: int, _last: int) -> None:
        if first == 0 or not self.results.currentIndex().isValid():
            self.results.setCurrentIndex(self.model.index(0))
        self._more_if_at_end()

    def _more_if_at_end(self) -> None:
        """The last result in view, or the current one: the next page, if there is one."""
        if not self.isVisible() or not self.model.canFetchMore():
            return  # closed, a list with no height would ask for every page there is
        bar = self.results.verticalScrollBar()
        last = self.model.index(self.model.rowCount() - 1)
        current = self.results.currentIndex()
        if bar.value() >= bar.maximum() or (current.isValid() and current.row() == last.row()):
            self.model.fetchMore()

    def _show_status(self) -> None:
        model = self.model
        words = model.status_words
        if model.status is Status.IDLE:
            where = "this room" if self.searched_room() is not None else "every room and " \
                                                                        "direct conversation"
            words = (f"Type words to search {where}. Each word finds words that start with "
                     "it, in any case, with or without accents.")
        elif model.status is Status.DONE and model.rowCount() and model.loading:
            words = "Loading more results…"
        elif model.status is Status.DONE and model.rowCount():
            count = model.rowCount()
            words = f"{count}{'+' if model.more else ''} result{'s' if count != 1 else ''}" \
                    " · ↑↓ to move, Enter to open, Esc to close"
        self.status.setText(words)
        self.status.setProperty("failed", model.status is Status.FAILED)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    # -- choosing, closing -----------------------------------------------------------------

    def _choose(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        room = str(index.data(SearchRole.RoomId))
        seq = int(index.data(SearchRole.Seq))
        self.close()
        self.resultChosen.emit(room, seq)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        if event.key() == Qt.Key.Key_F and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            # The window's keys, while the panel has them: Ctrl+F this room, +Shift all.
            everywhere = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.scope.setCurrentIndex(self.scope.count() - 1 if everywhere else 0)
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._debounce.stop()
        super().closeEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.closed.emit()
