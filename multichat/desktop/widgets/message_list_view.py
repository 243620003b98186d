"""The list of a room's messages: where it is, the hover bar, its menu key and jumps.

Apart from the room view because it is the one part that knows about scrolling
and rows: it only says what the person pointed at (signals), and ``RoomView``
decides what that means for the room.

The message list follows new messages while it is at the bottom (it keeps to
the bottom whenever its scroll range grows, not only when rows go in: Qt lays
rows out later than it announces them). When the room is shown with unread
messages it opens at the "New messages" divider, near the top; scrolled up,
a "Jump to latest" button floats over the list. It tells its model what it
shows at the bottom, which is how the workspace learns what was read.

A message's menu is asked for by a right click, the "⋯" of the bar that
appears over the hovered row, or the Menu key / Shift+F10 on the current row
of the focused list. A reply's quote and the reaction chips are clicked here
too. A message jumped to (``jump_to``) is scrolled to and highlighted a
moment; one not loaded yet is jumped to once it arrives (``want``).
"""

from __future__ import annotations

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QContextMenuEvent,
    QCursor,
    QFocusEvent,
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
    QListView,
    QStyleOptionViewItem,
    QToolButton,
    QWidget,
)

from multichat.desktop.models.messages import MessageListModel, MessageRole
from multichat.desktop.widgets.attachment_paint import Part
from multichat.desktop.widgets.message_delegate import MessageDelegate

# Within this many pixels of the end counts as at the bottom: a row's rounding
# or a one-pixel scroll should not stop the view following.
BOTTOM_SLACK = 4
JUMP_MARGIN = 12
PADDING_MENU = 12  # where a menu opened by key appears, inside the current row
# How long a message jumped to stays highlighted: long enough to find it.
HIGHLIGHT_MS = 1600


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
        menuRequested(QModelIndex, QPoint global, bool keyboard): a message's actions,
            wanted (a pending one's too: it has no hover bar, but a context menu);
            ``keyboard`` when asked for with the Menu key or Shift+F10.
        quoteClicked(int seq): a reply's quote was clicked: go to its original.
        reactionClicked(int seq, str emoji): a reaction chip was clicked.
        reactRequested(int seq, QPoint global): the "+" chip or the hover bar's React.
        replyRequested(int seq): the hover bar's Reply.
        imageClicked(FileObj file): an image in a message was clicked: view it.
        saveClicked(FileObj file): a file's Save was clicked.
        cardClicked(FileObj file): the rest of a file's card was clicked.
    """

    menuRequested = Signal(QModelIndex, QPoint, bool)
    quoteClicked = Signal(int)
    reactionClicked = Signal(int, str)
    reactRequested = Signal(int, QPoint)
    replyRequested = Signal(int)
    imageClicked = Signal(object)
    saveClicked = Signal(object)
    cardClicked = Signal(object)

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
        self._point_at_files(index, point)

    def _point_at_files(self, index: QModelIndex, point: QPoint) -> None:
        """A hand over what a click opens or saves (an image, a Save button)."""
        hit = self.delegate.file_at(self._option_for(index), index, QPointF(point)) \
            if index.isValid() else None
        if hit is not None and hit[0].file.id:
            self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.viewport().unsetCursor()

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
                                    button.mapToGlobal(QPoint(0, button.height())), False)

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
        if self._actionable(index) or (index.isValid() and index.data(MessageRole.IsPending)):
            self.setCurrentIndex(index)
            self.menuRequested.emit(index, point,
                                    event.reason() != QContextMenuEvent.Reason.Mouse)
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
            if self._clicked_part(option, index, event) or self._clicked_file(option, index,
                                                                              event):
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

    def _clicked_file(self, option: QStyleOptionViewItem, index: QModelIndex,
                      event: QMouseEvent) -> bool:
        """A press on an image (view it) or a file's Save: say so; True if it was one."""
        hit = self.delegate.file_at(option, index, event.position())
        if hit is None or not hit[0].file.id:
            return False
        box, part = hit
        if part is Part.IMAGE:
            self.imageClicked.emit(box.file)
        elif part is Part.SAVE:
            self.saveClicked.emit(box.file)
        else:
            self.cardClicked.emit(box.file)
        return True

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

