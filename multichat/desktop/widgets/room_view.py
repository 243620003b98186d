"""One open room: its messages, its members, and the input to write to it.

Attributes down, signals up: the main window gives it models and words to
show; it says what the person wants (send, leave, mute) through signals.

The message list follows new messages while it is at the bottom (it keeps to
the bottom whenever its scroll range grows, not only when rows go in: Qt lays
rows out later than it announces them). When the room is shown with unread
messages it opens at the "New messages" divider, near the top; scrolled up,
a "Jump to latest" button floats over the list. It tells its model what it
shows at the bottom, which is how the workspace learns what was read.

Narrow (the window at 480 px with the sidebar hidden), the member list folds
away behind a "Members" button and the title elides instead of widening the
window.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QHideEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLabel,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop.models.messages import MessageListModel
from multichat.desktop.widgets.eliding_label import ElidingLabel
from multichat.desktop.widgets.message_delegate import MessageDelegate

INPUT_LINES = 3
# Within this many pixels of the end counts as at the bottom: a row's rounding
# or a one-pixel scroll should not stop the view following.
BOTTOM_SLACK = 4
# Below this width the member list folds away (a message needs ~300 px to read well).
MEMBERS_FOLD_WIDTH = 560
JUMP_MARGIN = 12


class MessageInput(QPlainTextEdit):
    """Enter sends, Shift+Enter starts a new line; PgUp/PgDn and Ctrl+End move the messages.

    Signals:
        submitted(str text): the person sent this.
        scrollRequested(int pages): PgUp (-1) or PgDn (+1) in the box.
        latestRequested(): Ctrl+End in the box.
    """

    submitted = Signal(str)
    scrollRequested = Signal(int)
    latestRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageInput")
        self.setPlaceholderText("Write a message…  (Enter sends, Shift+Enter for a new line)")
        self.setTabChangesFocus(True)
        line = self.fontMetrics().lineSpacing()
        self.setFixedHeight(line * INPUT_LINES + 16)

    def event(self, event: QEvent) -> bool:
        # Ctrl+End is a text edit's own key; claim it before any shortcut or the edit.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and (
            event.matches(QKeySequence.StandardKey.MoveToEndOfDocument)
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.submit()
            return
        if key in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            self.scrollRequested.emit(-1 if key == Qt.Key.Key_PageUp else 1)
            return
        if event.matches(QKeySequence.StandardKey.MoveToEndOfDocument):
            self.latestRequested.emit()
            return
        super().keyPressEvent(event)

    def submit(self) -> None:
        text = self.toPlainText().strip()
        if text:
            self.submitted.emit(text)
            self.clear()


class MessageListView(QListView):
    """The messages: follows at the bottom, opens at the divider, text selectable in part."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageList")
        self.delegate = MessageDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.jump_button = QToolButton(self)
        self.jump_button.setObjectName("jumpToLatest")
        self.jump_button.setText("↓ Jump to latest")
        self.jump_button.setToolTip("Go to the newest message (Ctrl+End)")
        self.jump_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.jump_button.hide()
        self.jump_button.clicked.connect(self.scroll_to_latest)
        self._at_bottom = True
        self._from_bottom: int | None = None  # kept while older history goes in above
        self._place_divider = False  # put the divider in view once rows are there
        self._placed_seq: int | None = None  # the divider's message, once put in view
        self._editor_index: QPersistentModelIndex | None = None
        self._dragging = False
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._range_changed)
        bar.valueChanged.connect(self._value_changed)

    def message_model(self) -> MessageListModel | None:
        model = self.model()
        return model if isinstance(model, MessageListModel) else None

    def set_message_model(self, model: MessageListModel) -> None:
        old = self.message_model()
        if old is not None:
            for signal, slot in ((old.rowsAboutToBeInserted, self._rows_coming),
                                 (old.rowsInserted, self._rows_inserted),
                                 (old.dividerMoved, self._divider_moved),
                                 (old.dataChanged, self._data_changed)):
                signal.disconnect(slot)
        self.close_text_editor()
        self.setModel(model)
        model.rowsAboutToBeInserted.connect(self._rows_coming)
        model.rowsInserted.connect(self._rows_inserted)
        model.dividerMoved.connect(self._divider_moved)
        model.dataChanged.connect(self._data_changed)
        self._at_bottom = True
        self.scrollToBottom()

    # -- where the view is ---------------------------------------------------------------

    def at_bottom(self) -> bool:
        return self._at_bottom

    def scroll_to_latest(self) -> None:
        self._at_bottom = True
        self.doItemsLayout()
        self.scrollToBottom()
        self._update_jump()
        self._report_seen()

    def scroll_pages(self, pages: int) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.value() + pages * bar.pageStep())

    def _range_changed(self, _minimum: int, maximum: int) -> None:
        bar = self.verticalScrollBar()
        if self._from_bottom is not None:
            bar.setValue(maximum - self._from_bottom)  # older rows above: stay on the same ones
        elif self._at_bottom:
            bar.setValue(maximum)

    def _value_changed(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._at_bottom = value >= bar.maximum() - BOTTOM_SLACK
        self._update_jump()
        self._report_seen()
        model = self.message_model()
        if value == bar.minimum() and model is not None and bar.maximum() > 0:
            # At the top: load the page of history before the oldest message shown.
            model.want_older()
            if model.canFetchMore(QModelIndex()):
                model.fetchMore(QModelIndex())

    def _rows_coming(self, _parent: QModelIndex, first: int, _last: int) -> None:
        if first == 0 and not self._at_bottom and self.model().rowCount() > 0:
            bar = self.verticalScrollBar()
            self._from_bottom = bar.maximum() - bar.value()

    def _rows_inserted(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        if self._from_bottom is not None:
            self.doItemsLayout()
            self._from_bottom = None
        elif self._place_divider and self.isVisible():
            self._put_divider_in_view()
        self._report_seen()

    def _data_changed(self, *_: object) -> None:
        # A row's presentation changed (grouped, a band above it): sizes change too.
        self.scheduleDelayedItemsLayout()

    def _divider_moved(self) -> None:
        self._place_divider = True
        if self.isVisible():
            self._put_divider_in_view()

    def _put_divider_in_view(self) -> None:
        """Open at the first unread message, its divider near the top, if not in view already."""
        model = self.message_model()
        if model is None or model.rowCount() == 0:
            return  # the first page is on its way
        self._place_divider = False
        row = model.divider_row()
        if row is None:
            if self._at_bottom:
                self.scroll_to_latest()
            return
        seq = model.row_at(row).seq
        if seq == self._placed_seq:
            return  # the same divider as before: leave the reader where they were
        self._placed_seq = seq
        if not self._at_bottom:
            return  # the reader scrolled up to read something: never move them
        self.doItemsLayout()
        index = model.index(row)
        rect = self.visualRect(index)
        if not (rect.top() >= 0 and rect.bottom() <= self.viewport().height()):
            self.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
        bar = self.verticalScrollBar()
        self._at_bottom = bar.value() >= bar.maximum() - BOTTOM_SLACK
        self._update_jump()
        self._report_seen()

    def _report_seen(self) -> None:
        model = self.message_model()
        if model is not None:
            model.set_seen(model.newest_seq() if self._at_bottom and self.isVisible() else None)

    def _update_jump(self) -> None:
        """Show or hide the button; its look is the style sheet's (QToolButton#jumpToLatest)."""
        show = not self._at_bottom
        if show != self.jump_button.isHidden():
            return  # as it is: a scroll step changes nothing here
        if show:
            self.jump_button.adjustSize()
            self._place_jump()
        self.jump_button.setVisible(show)
        if show:
            self.jump_button.raise_()

    def _place_jump(self) -> None:
        size = self.jump_button.sizeHint()
        viewport = self.viewport().geometry()
        self.jump_button.move(viewport.right() - size.width() - JUMP_MARGIN,
                              viewport.bottom() - size.height() - JUMP_MARGIN)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_jump()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.doItemsLayout()  # rows that came in while hidden: lay out, then keep the place
        if self._place_divider:
            self._put_divider_in_view()
        elif self._at_bottom:
            self.scrollToBottom()
        self._update_jump()
        self._report_seen()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._report_seen()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.MoveToEndOfDocument):
            self.scroll_to_latest()
            return
        super().keyPressEvent(event)

    # -- selecting text ------------------------------------------------------------------

    def text_editor(self) -> QWidget | None:
        """The selectable text laid over the row last pressed, if any."""
        if self._editor_index is None or not self._editor_index.isValid():
            return None
        return self.indexWidget(self._editor_index)

    def open_text_editor(self, index: QModelIndex) -> QWidget | None:
        """Lay a selectable copy of the row's text over it (what a press on the text does)."""
        if self._editor_index is not None and self._editor_index == index:
            return self.text_editor()
        self.close_text_editor()
        if not self.delegate.selectable(index):
            return None
        self.openPersistentEditor(index)
        self._editor_index = QPersistentModelIndex(index)
        return self.text_editor()

    def close_text_editor(self) -> None:
        if self._editor_index is not None and self._editor_index.isValid():
            self.closePersistentEditor(self._editor_index)
        self._editor_index = None

    def _forward(self, event: QMouseEvent, editor: QWidget) -> None:
        viewport = getattr(editor, "viewport", lambda: editor)()
        local = viewport.mapFrom(self.viewport(), event.position().toPoint())
        forwarded = QMouseEvent(event.type(), local.toPointF(), event.globalPosition(),
                                event.button(), event.buttons(), event.modifiers())
        QApplication.sendEvent(viewport, forwarded)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.indexAt(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and index.isValid():
            option = QStyleOptionViewItem()
            self.initViewItemOption(option)
            option.rect = self.visualRect(index)
            if self.delegate.text_rect(option, index).contains(event.position().toPoint()):
                editor = self.open_text_editor(index)
                if editor is not None:
                    editor.setFocus(Qt.FocusReason.MouseFocusReason)
                    self._dragging = True
                    self._forward(event, editor)
                    return
        self.close_text_editor()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        editor = self.text_editor()
        if self._dragging and editor is not None:
            self._forward(event, editor)
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        editor = self.text_editor()
        if self._dragging and editor is not None:
            self._dragging = False
            self._forward(event, editor)
            return
        super().mouseReleaseEvent(event)


class RoomView(QWidget):
    # What the person does in the room; the main window hands each to the workspace.
    messageSubmitted = Signal(str, object)  # text, the seq it replies to or None
    editSubmitted = Signal(int, str)  # seq of one's own message, its new text
    deleteRequested = Signal(int)  # seq, after the person confirmed
    reactionToggled = Signal(int, str, bool)  # seq, emoji, on
    messageWanted = Signal(int)  # a seq not loaded (a reply's original): load around it
    typingActivity = Signal()  # the person typed into a non-empty input
    directMessageRequested = Signal(str)  # "Message …" on a member: their username
    leaveRequested = Signal()
    muteToggled = Signal(bool)

    def __init__(self, room: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.room = room
        self.setObjectName("roomView")
        self.title = ElidingLabel(title)
        self.title.setObjectName("roomTitle")
        self.members_button = QToolButton()
        self.members_button.setText("Members")
        self.members_button.setCheckable(True)
        self.members_button.setChecked(True)
        self.members_button.setToolTip("Show or hide who is in the room")
        self.mute_button = QPushButton("Mute")
        self.mute_button.setCheckable(True)
        self.mute_button.setToolTip("No notifications or unread counts from this room, "
                                    "except mentions of you")
        self.leave_button = QPushButton("Leave")
        for button in (self.mute_button, self.leave_button):
            button.setMinimumWidth(0)
        self.banner = QLabel()
        self.banner.setObjectName("roomBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.messages = MessageListView()
        self.members = QListView()
        self.members.setObjectName("memberList")
        self.members.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.members.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # nothing in it to do by keys
        self.input = MessageInput()
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")

        self._lay_out()
        self.input.submitted.connect(self._submit)
        self.input.scrollRequested.connect(self.messages.scroll_pages)
        self.input.latestRequested.connect(self.messages.scroll_to_latest)
        self.send_button.clicked.connect(self.input.submit)
        self.leave_button.clicked.connect(self.leaveRequested.emit)
        self.mute_button.toggled.connect(self._mute_toggled)
        self.members_button.toggled.connect(self.members.setVisible)
        self._narrow: bool | None = None
        self.closed = False

    def _lay_out(self) -> None:
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.members_button)
        header.addWidget(self.mute_button)
        header.addWidget(self.leave_button)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.messages)
        self.splitter.addWidget(self.members)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setCollapsible(0, False)
        self.splitter.setSizes([600, 160])
        self.members.setMinimumWidth(0)
        entry = QHBoxLayout()
        entry.addWidget(self.input, 1)
        entry.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(entry)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        narrow = event.size().width() < MEMBERS_FOLD_WIDTH
        if narrow != self._narrow:  # crossing the line: the default for the width
            self._narrow = narrow
            self.members_button.setChecked(not narrow)

    def set_closed(self, closed: bool) -> None:
        """A room we are no longer in: its tab stays to show why, but takes no input."""
        self.closed = closed
        for widget in (self.input, self.send_button, self.mute_button, self.leave_button):
            widget.setEnabled(not closed)
        if not closed:
            self.show_banner("")

    def set_models(self, messages: MessageListModel, members: QAbstractItemModel) -> None:
        self.messages.set_message_model(messages)
        self.members.setModel(members)

    def set_muted(self, muted: bool) -> None:
        self.mute_button.blockSignals(True)
        self.mute_button.setChecked(muted)
        self.mute_button.setText("Muted" if muted else "Mute")
        self.mute_button.blockSignals(False)

    def show_banner(self, words: str) -> None:
        self.banner.setText(words)
        self.banner.setVisible(bool(words))

    def focus_input(self) -> None:
        self.input.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_typing(self, usernames: list[str]) -> None:
        """Who else is typing in the room now ("bob is typing…" under the view)."""

    def set_permissions(self, *, delete_any: bool) -> None:
        """Whether this user may delete others' messages here (a superuser, not in a
        direct conversation)."""

    def _submit(self, text: str) -> None:
        self.show_banner("")
        self.messages.scroll_to_latest()  # one's own message is worth seeing go out
        self.messageSubmitted.emit(text, None)

    def _mute_toggled(self, muted: bool) -> None:
        self.mute_button.setText("Muted" if muted else "Mute")
        self.muteToggled.emit(muted)

