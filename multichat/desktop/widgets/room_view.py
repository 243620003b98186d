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

What one does with a message: its context menu (a right click, the "⋯" of
the bar that appears over the hovered row, or the Menu key / Shift+F10 on the
current row of the focused list) offers Reply, Edit (one's own), Delete (one's
own; anyone's with ``set_permissions(delete_any=True)``), React, Copy text and
Copy link to message (``multichat://ROOM/SEQ``). Reply and Edit put a bar over
the input (✕ or Esc cancels); Up in an empty input edits one's last message;
Delete asks first. Reactions are chips under a message (a click toggles one's
own) and an emoji picker, favourites first (``EmojiUsage``). A reply's quote
jumps to its original, asking for it (``messageWanted``) when it is not
loaded and jumping once it arrives. Who is typing shows on a line kept under
the messages.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QContextMenuEvent,
    QCursor,
    QFocusEvent,
    QGuiApplication,
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
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop.models.members import MemberRole
from multichat.desktop.models.messages import (
    MessageListModel,
    MessageRole,
    MessageRow,
    Quote,
)
from multichat.desktop.services.emoji_usage import EmojiUsage
from multichat.desktop.widgets.eliding_label import ElidingLabel
from multichat.desktop.widgets.emoji_picker import EmojiPicker
from multichat.desktop.widgets.message_delegate import MessageDelegate, quote_line
from multichat.desktop.widgets.reply_bar import ComposeBar
from multichat.protocol import MsgType

INPUT_LINES = 3
# Within this many pixels of the end counts as at the bottom: a row's rounding
# or a one-pixel scroll should not stop the view following.
BOTTOM_SLACK = 4
# Below this width the member list folds away (a message needs ~300 px to read well).
MEMBERS_FOLD_WIDTH = 560
JUMP_MARGIN = 12
PADDING_MENU = 12  # where a menu opened by key appears, inside the current row
# How long a message jumped to stays highlighted: long enough to find it.
HIGHLIGHT_MS = 1600
LINK_SCHEME = "multichat"


def message_link(room: str, seq: int) -> str:
    """A message's link, as "Copy link to message" gives it: multichat://ROOM/SEQ."""
    return f"{LINK_SCHEME}://{room}/{seq}"


def typing_words(usernames: list[str]) -> str:
    """The line under the messages: who else is typing now."""
    if not usernames:
        return ""
    if len(usernames) == 1:
        return f"{usernames[0]} is typing…"
    if len(usernames) == 2:
        return f"{usernames[0]} and {usernames[1]} are typing…"
    return "several people are typing…"


class MessageInput(QPlainTextEdit):
    """Enter sends, Shift+Enter starts a new line; PgUp/PgDn and Ctrl+End move the messages.

    Up in the empty box asks to edit one's last message; Esc, while replying or
    editing (``has_context``), asks to stop.

    Signals:
        submitted(str text): the person sent this.
        scrollRequested(int pages): PgUp (-1) or PgDn (+1) in the box.
        latestRequested(): Ctrl+End in the box.
        editLastRequested(): Up in the empty box.
        cancelRequested(): Esc while replying or editing.
    """

    submitted = Signal(str)
    scrollRequested = Signal(int)
    latestRequested = Signal()
    editLastRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageInput")
        self.setPlaceholderText("Write a message…  (Enter sends, Shift+Enter for a new line)")
        self.setTabChangesFocus(True)
        line = self.fontMetrics().lineSpacing()
        self.setFixedHeight(line * INPUT_LINES + 16)
        self.has_context = False  # replying or editing: Esc stops that

    def event(self, event: QEvent) -> bool:
        # Ctrl+End is a text edit's own key; claim it before any shortcut or the edit.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and (
            event.matches(QKeySequence.StandardKey.MoveToEndOfDocument)
            or (event.key() == Qt.Key.Key_Escape and self.has_context)
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
        if key == Qt.Key.Key_Escape and self.has_context:
            self.cancelRequested.emit()
            return
        if (key == Qt.Key.Key_Up and not self.toPlainText()
                and event.modifiers() == Qt.KeyboardModifier.NoModifier):
            self.editLastRequested.emit()
            return
        super().keyPressEvent(event)

    def submit(self) -> None:
        text = self.toPlainText().strip()
        if text:
            self.submitted.emit(text)
            self.clear()


class HoverBar(QFrame):
    """Over the hovered message, top right: React, Reply and the rest of its actions."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("messageHoverBar")
        self.react_button = self._button("🙂", "React", "Add a reaction")
        self.reply_button = self._button("↩", "Reply", "Reply")
        self.more_button = self._button("⋯", "More actions",
                                        "Reply, edit, delete, copy… (Menu key)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setSpacing(0)
        for button in (self.react_button, self.reply_button, self.more_button):
            layout.addWidget(button)
        self.seq: int | None = None
        self.hide()

    def _button(self, text: str, name: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName("hoverBarButton")
        button.setText(text)
        button.setAccessibleName(name)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the Menu key reaches the same
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        return button


class MessageListView(QListView):
    """The messages: follows at the bottom, opens at the divider, text selectable in part.

    Signals:
        menuRequested(QModelIndex, QPoint global): a message's actions, wanted.
        quoteClicked(int seq): a reply's quote was clicked: go to its original.
        reactionClicked(int seq, str emoji): a reaction chip was clicked.
        reactRequested(int seq, QPoint global): the "+" chip or the hover bar's React.
        replyRequested(int seq): the hover bar's Reply.
    """

    menuRequested = Signal(QModelIndex, QPoint)
    quoteClicked = Signal(int)
    reactionClicked = Signal(int, str)
    reactRequested = Signal(int, QPoint)
    replyRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageList")
        self.setAccessibleName("Messages")
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
        self._wanted: int | None = None  # a message asked for, to jump to when it comes
        self._editor_index: QPersistentModelIndex | None = None
        self._dragging = False
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._range_changed)
        bar.valueChanged.connect(self._value_changed)
        self.setMouseTracking(True)
        self.hover_bar = HoverBar(self.viewport())
        self.hover_bar.react_button.clicked.connect(self._hover_react)
        self.hover_bar.reply_button.clicked.connect(self._hover_reply)
        self.hover_bar.more_button.clicked.connect(self._hover_more)
        self._unhighlight = QTimer(self)
        self._unhighlight.setSingleShot(True)
        self._unhighlight.setInterval(HIGHLIGHT_MS)
        self._unhighlight.timeout.connect(lambda: self.highlight(None))

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
        self.hover(None)
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
        self._fill_gaps_in_view()
        self._hover_at(self.viewport().mapFromGlobal(QCursor.pos()))

    def _fill_gaps_in_view(self) -> None:
        """A stretch of messages not loaded (after a jump far back) loads when seen."""
        model = self.message_model()
        if model is None or not self.isVisible():
            return
        top = self.indexAt(QPoint(1, 1))
        bottom = self.indexAt(QPoint(1, self.viewport().height() - 2))
        if not top.isValid():
            return
        last = bottom.row() if bottom.isValid() else model.rowCount() - 1
        for row in range(top.row(), last + 1):
            if model.index(row).data(MessageRole.GapAbove):
                model.fill_gap(row)
                return

    def _rows_coming(self, _parent: QModelIndex, first: int, _last: int) -> None:
        """Rows going in above what the reader looks at (older history at the top, a
        gap filling): keep the same rows in view."""
        model = self.model()
        if self._at_bottom or model.rowCount() == 0 or first >= model.rowCount():
            return
        if first == 0 or self.visualRect(model.index(first, 0)).top() <= 0:
            bar = self.verticalScrollBar()
            self._from_bottom = bar.maximum() - bar.value()

    def _rows_inserted(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        if self._from_bottom is not None:
            self.doItemsLayout()
            self._from_bottom = None
        elif self._place_divider and self.isVisible():
            self._put_divider_in_view()
        self._report_seen()
        if self._wanted is not None:
            self.jump_to(self._wanted)

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
            model.set_seen(model.newest_event_seq() if self._at_bottom and self.isVisible()
                           else None)

    # -- going to a message ----------------------------------------------------------------

    def jump_to(self, seq: int) -> bool:
        """Scroll to ``seq`` and highlight it a moment; False when it is not loaded (the
        view then jumps when it arrives, if asked with ``want``)."""
        model = self.message_model()
        if model is None:
            return False
        index = model.index_of(seq)
        if not index.isValid():
            return False
        self._wanted = None
        self.doItemsLayout()
        self.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        self.setCurrentIndex(index)
        self.highlight(seq)
        bar = self.verticalScrollBar()
        self._at_bottom = bar.value() >= bar.maximum() - BOTTOM_SLACK
        self._update_jump()
        self._report_seen()
        return True

    def want(self, seq: int) -> None:
        """Jump to ``seq`` once its page arrives."""
        self._wanted = seq

    def highlight(self, seq: int | None) -> None:
        self.delegate.highlighted_seq = seq
        if seq is not None:
            self._unhighlight.start()
        self.viewport().update()

    # -- the actions of a message ------------------------------------------------------------

    def _option_for(self, index: QModelIndex) -> QStyleOptionViewItem:
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.rect = self.visualRect(index)
        return option

    def _actionable(self, index: QModelIndex) -> bool:
        model = self.message_model()
        return (model is not None and index.isValid()
                and model.row_at(index.row()).seq is not None
                and not index.data(MessageRole.IsPending)
                and not index.data(MessageRole.IsNotice)
                and not index.data(MessageRole.Hidden))

    def hover(self, index: QModelIndex | None) -> None:
        """Show the hover bar over ``index`` (a message one may act on), or hide it; the
        pointer does this as it moves."""
        previous = self.delegate.hovered
        if index is None or not self._actionable(index):
            self.delegate.hovered = None
            self.hover_bar.hide()
            self.hover_bar.seq = None
        else:
            self.delegate.hovered = QPersistentModelIndex(index)
            self.hover_bar.seq = index.data(MessageRole.Seq)
            deleted = bool(index.data(MessageRole.Deleted))
            self.hover_bar.react_button.setVisible(not deleted)
            self.hover_bar.reply_button.setVisible(not deleted)
            self.hover_bar.adjustSize()
            option = self._option_for(index)
            top = self.delegate.content_top(option, index)
            size = self.hover_bar.sizeHint()
            self.hover_bar.move(option.rect.right() - size.width() - 6,
                                max(0, top - size.height() // 3))
            self.hover_bar.show()
            self.hover_bar.raise_()
        if previous != self.delegate.hovered:
            self.viewport().update()

    def _hover_at(self, point: QPoint) -> None:
        if not self.viewport().rect().contains(point) or self._dragging:
            self.hover(None)
            return
        if self.hover_bar.isVisible() and self.hover_bar.geometry().contains(point):
            return  # on the bar itself: keep it where it is
        index = self.indexAt(point)
        self.hover(index if index.isValid() else None)

    def _hover_react(self) -> None:
        if self.hover_bar.seq is not None:
            button = self.hover_bar.react_button
            self.reactRequested.emit(self.hover_bar.seq,
                                     button.mapToGlobal(QPoint(0, button.height())))

    def _hover_reply(self) -> None:
        if self.hover_bar.seq is not None:
            self.replyRequested.emit(self.hover_bar.seq)

    def _hover_more(self) -> None:
        model = self.message_model()
        if self.hover_bar.seq is not None and model is not None:
            button = self.hover_bar.more_button
            self.menuRequested.emit(model.index_of(self.hover_bar.seq),
                                    button.mapToGlobal(QPoint(0, button.height())))

    def leaveEvent(self, event: QEvent) -> None:
        super().leaveEvent(event)
        self.hover(None)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if event.reason() == QContextMenuEvent.Reason.Mouse:
            index = self.indexAt(event.pos())
            point = event.globalPos()
        else:
            index = self.currentIndex()
            point = self.viewport().mapToGlobal(self.visualRect(index).topLeft()
                                                + QPoint(PADDING_MENU, PADDING_MENU))
        if self._actionable(index):
            self.setCurrentIndex(index)
            self.menuRequested.emit(index, point)
            event.accept()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        model = self.message_model()
        if model is not None and model.rowCount() and not self._visible(self.currentIndex()):
            # Arrows start from the newest message in view, not from the first ever loaded.
            bottom = self.indexAt(QPoint(1, self.viewport().height() - 2))
            self.setCurrentIndex(bottom if bottom.isValid()
                                 else model.index(model.rowCount() - 1))

    def _visible(self, index: QModelIndex) -> bool:
        rect = self.visualRect(index)
        return index.isValid() and rect.bottom() >= 0 and rect.top() <= self.viewport().height()

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
        if event.key() == Qt.Key.Key_Menu or (
            event.key() == Qt.Key.Key_F10
            and event.modifiers() == Qt.KeyboardModifier.ShiftModifier
        ):
            self.contextMenuEvent(QContextMenuEvent(QContextMenuEvent.Reason.Keyboard,
                                                    QPoint(), QPoint()))
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
            option = self._option_for(index)
            if self._clicked_part(option, index, event):
                return
            if self.delegate.text_rect(option, index).contains(event.position().toPoint()):
                editor = self.open_text_editor(index)
                if editor is not None:
                    editor.setFocus(Qt.FocusReason.MouseFocusReason)
                    self._dragging = True
                    self._forward(event, editor)
                    return
        self.close_text_editor()
        super().mousePressEvent(event)

    def _clicked_part(self, option: QStyleOptionViewItem, index: QModelIndex,
                      event: QMouseEvent) -> bool:
        """A press on a reply's quote or a reaction chip: say so; True if it was one."""
        seq = index.data(MessageRole.Seq)
        if seq is None or not self._actionable(index):
            return False
        point = event.position().toPoint()
        quote = self.delegate.quote_rect(option, index)
        reply_to = index.data(MessageRole.ReplyTo)
        if quote is not None and quote.contains(point) and reply_to is not None:
            self.quoteClicked.emit(int(reply_to))
            return True
        on_chip, emoji = self.delegate.chip_at(option, index, event.position())
        if on_chip and emoji is None:
            self.reactRequested.emit(int(seq), event.globalPosition().toPoint())
        elif on_chip and emoji is not None:
            self.reactionClicked.emit(int(seq), emoji)
        return on_chip

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        editor = self.text_editor()
        if self._dragging and editor is not None:
            self._forward(event, editor)
            return
        self._hover_at(event.position().toPoint())
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
        self.members.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.typing_line = ElidingLabel(minimum_characters=0)
        self.typing_line.setObjectName("typingLine")
        self.typing_line.setAccessibleName("Who is typing")
        # Kept the height of its words even when empty: the messages don't jump.
        self.typing_line.setFixedHeight(self.typing_line.fontMetrics().height() + 4)
        self.compose_bar = ComposeBar()
        self.input = MessageInput()
        self.input.setAccessibleName("Message")
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.emoji_picker = EmojiPicker(self)
        self.emoji_usage = EmojiUsage()
        self.delete_any = False
        # What the next Enter does besides sending: answer this seq, or save this edit.
        self._reply_to: int | None = None
        self._editing: int | None = None
        self._editing_text = ""
        self._draft = ""  # the input as it was before an edit filled it
        self._filling = False  # the input changes by our hand, not the person's
        self._react_seq: int | None = None  # the message the emoji picker is open for
        self.menu: QMenu | None = None  # the last message menu shown
        self.member_menu: QMenu | None = None  # the last member menu shown

        self._lay_out()
        self._connect()
        self._narrow: bool | None = None
        self.closed = False

    def _connect(self) -> None:
        self.input.submitted.connect(self._submit)
        self.input.scrollRequested.connect(self.messages.scroll_pages)
        self.input.latestRequested.connect(self.messages.scroll_to_latest)
        self.send_button.clicked.connect(self.input.submit)
        self.leave_button.clicked.connect(self.leaveRequested.emit)
        self.mute_button.toggled.connect(self._mute_toggled)
        self.members_button.toggled.connect(self.members.setVisible)
        self.members.customContextMenuRequested.connect(self._member_menu)
        self.input.editLastRequested.connect(self._edit_last)
        self.input.cancelRequested.connect(self.cancel_compose)
        self.input.textChanged.connect(self._typed)
        self.compose_bar.cancelled.connect(self.cancel_compose)
        self.messages.menuRequested.connect(self._show_menu)
        self.messages.quoteClicked.connect(self.go_to_message)
        self.messages.reactionClicked.connect(self.toggle_reaction)
        self.messages.reactRequested.connect(self.open_emoji_picker)
        self.messages.replyRequested.connect(self.start_reply)
        self.emoji_picker.chosen.connect(self._emoji_chosen)

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
        layout.addWidget(self.typing_line)
        layout.addWidget(self.compose_bar)
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
        old = self.messages.message_model()
        if old is not None:
            old.dataChanged.disconnect(self._messages_changed)
        self.messages.set_message_model(messages)
        self.members.setModel(members)
        messages.dataChanged.connect(self._messages_changed)

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
        self.typing_line.set_full_text(typing_words(usernames))

    def set_permissions(self, *, delete_any: bool) -> None:
        """Whether this user may delete others' messages here (a superuser, not in a
        direct conversation)."""
        self.delete_any = delete_any

    # -- a message's actions -------------------------------------------------------------

    def _model(self) -> MessageListModel | None:
        return self.messages.message_model()

    def _own_username(self) -> str:
        model = self._model()
        return model.own_username() if model is not None else ""

    def _row(self, seq: int) -> MessageRow | None:
        model = self._model()
        return model.message(seq) if model is not None else None

    def message_menu(self, seq: int) -> QMenu | None:
        """The context menu of a stored message (none for pending rows and notices); a
        deleted one offers only Copy link."""
        row = self._row(seq)
        if row is None or row.pending or row.msg_type is not MsgType.MESSAGE:
            return None
        menu = QMenu(self)
        menu.setObjectName("messageMenu")
        menu.setAccessibleName("Message actions")
        standing = row.actionable and not self.closed

        def add(name: str, words: str, slot: object) -> None:
            action = menu.addAction(words)
            action.setObjectName(name)
            action.triggered.connect(slot)

        if standing:
            add("replyAction", "Reply", lambda: self.start_reply(seq))
            if row.own:
                add("editAction", "Edit", lambda: self.start_edit(seq))
            add("reactAction", "React…", lambda: self.open_emoji_picker(seq, QCursor.pos()))
            menu.addSeparator()
        if not row.deleted:
            add("copyTextAction", "Copy text",
                lambda: QGuiApplication.clipboard().setText(row.text))
        add("copyLinkAction", "Copy link to message",
            lambda: QGuiApplication.clipboard().setText(message_link(self.room, seq)))
        if standing and (row.own or self.delete_any):
            menu.addSeparator()
            add("deleteAction", "Delete…", lambda: self.confirm_delete(seq))
        return menu

    def _show_menu(self, index: QModelIndex, point: QPoint) -> None:
        seq = index.data(MessageRole.Seq)
        menu = self.message_menu(int(seq)) if seq is not None else None
        if menu is None:
            return
        if self.menu is not None:
            self.menu.deleteLater()
        self.menu = menu
        menu.popup(point)

    def start_reply(self, seq: int) -> None:
        row = self._row(seq)
        if row is None or not row.actionable:
            return
        self._stop_editing()
        self._reply_to = seq
        who, first = quote_line(_quote_of(row))
        self.compose_bar.show_reply(who, first)
        self.input.has_context = True
        self.focus_input()

    def start_edit(self, seq: int) -> None:
        row = self._row(seq)
        if row is None or not row.actionable or not row.own:
            return
        self._reply_to = None
        if self._editing is None:
            self._draft = self.input.toPlainText()
        self._editing = seq
        self._editing_text = row.text
        self._fill(row.text)
        self.compose_bar.show_editing()
        self.input.has_context = True
        self.focus_input()
        self.input.moveCursor(self.input.textCursor().MoveOperation.End)

    def cancel_compose(self) -> None:
        """Stop replying or editing (✕ or Esc); an edit gives the draft back."""
        self._reply_to = None
        self._stop_editing()
        self.compose_bar.hide()
        self.input.has_context = False

    def _stop_editing(self) -> None:
        if self._editing is not None:
            self._editing = None
            self._fill(self._draft)
            self._draft = ""

    def _fill(self, text: str) -> None:
        self._filling = True
        try:
            self.input.setPlainText(text)
        finally:
            self._filling = False

    def replying_to(self) -> int | None:
        return self._reply_to

    def editing(self) -> int | None:
        return self._editing

    def _edit_last(self) -> None:
        model = self._model()
        seq = model.last_own_message() if model is not None else None
        if seq is not None and not self.closed:
            self.start_edit(seq)

    def confirm_delete(self, seq: int) -> None:
        """Ask first (Cancel is the default); delete only on Delete."""
        row = self._row(seq)
        if row is None or not row.actionable:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Delete message?",
                          "Delete this message for everyone? This can't be undone.",
                          QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("deleteConfirmation")
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def finished() -> None:
            if box.clickedButton() is delete:
                if self._editing == seq:
                    self.cancel_compose()
                self.deleteRequested.emit(seq)

        box.finished.connect(finished)
        box.open()

    def open_emoji_picker(self, seq: int, point: QPoint) -> None:
        row = self._row(seq)
        if row is None or not row.actionable:
            return
        self._react_seq = seq
        me = self._own_username()
        mine = [emoji for emoji, names in row.reactions.items() if me in names]
        self.emoji_picker.set_emoji(self.emoji_usage.offered(), mine)
        self.emoji_picker.popup_at(point)

    def _emoji_chosen(self, emoji: str) -> None:
        if self._react_seq is not None:
            self.toggle_reaction(self._react_seq, emoji)
        self._react_seq = None

    def toggle_reaction(self, seq: int, emoji: str) -> None:
        """Give ``emoji`` to the message, or take it back if the reader already gave it."""
        row = self._row(seq)
        if row is None or not row.actionable or self.closed:
            return
        on = self._own_username() not in row.reactions.get(emoji, [])
        if on:
            self.emoji_usage.record(emoji)
        self.reactionToggled.emit(seq, emoji, on)

    def go_to_message(self, seq: int) -> None:
        """Scroll to a message and highlight it; not loaded, ask for it and jump later."""
        if not self.messages.jump_to(seq):
            self.messages.want(seq)
            self.messageWanted.emit(seq)

    def _messages_changed(self, *_: object) -> None:
        # A message being replied to or edited may have gone (deleted, here or elsewhere).
        for seq in (self._reply_to, self._editing):
            if seq is not None:
                row = self._row(seq)
                if row is not None and row.deleted:
                    self.cancel_compose()
                    return

    def _member_menu(self, point: QPoint) -> None:
        index = self.members.indexAt(point)
        username = index.data(MemberRole.Username) if index.isValid() else None
        if not username or index.data(MemberRole.IsMe):
            return
        if self.member_menu is not None:
            self.member_menu.deleteLater()
        menu = self.member_menu = QMenu(self)
        menu.setObjectName("memberMenu")
        action = menu.addAction(f"Message {username}")
        action.setObjectName("directMessageAction")
        action.triggered.connect(lambda: self.directMessageRequested.emit(str(username)))
        menu.popup(self.members.viewport().mapToGlobal(point))

    def _typed(self) -> None:
        if self._filling or self._editing is not None:
            return
        if self.input.toPlainText().strip():
            self.typingActivity.emit()

    def _submit(self, text: str) -> None:
        self.show_banner("")
        if self._editing is not None:
            seq, before = self._editing, self._editing_text
            self.cancel_compose()
            if text != before.strip():
                self.editSubmitted.emit(seq, text)
            return
        reply_to = self._reply_to
        self.cancel_compose()
        self.messages.scroll_to_latest()  # one's own message is worth seeing go out
        self.messageSubmitted.emit(text, reply_to)

    def _mute_toggled(self, muted: bool) -> None:
        self.mute_button.setText("Muted" if muted else "Mute")
        self.muteToggled.emit(muted)



def _quote_of(row: MessageRow) -> Quote:
    return Quote(row.seq or 0, loaded=True, username=row.username, text=row.text,
                 deleted=row.deleted)
