"""One open room: its messages, its members, and the input to write to it.

Attributes down, signals up: the main window gives it models and words to
show; it says what the person wants (send, leave, mute) through signals.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop.models.messages import MessageListModel
from multichat.desktop.widgets.message_delegate import MessageDelegate

INPUT_LINES = 3


class MessageInput(QPlainTextEdit):
    """Enter sends, Shift+Enter starts a new line."""

    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageInput")
        self.setPlaceholderText("Write a message…  (Enter sends, Shift+Enter for a new line)")
        self.setTabChangesFocus(True)
        line = self.fontMetrics().lineSpacing()
        self.setFixedHeight(line * INPUT_LINES + 16)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.submit()
            return
        super().keyPressEvent(event)

    def submit(self) -> None:
        text = self.toPlainText().strip()
        if text:
            self.submitted.emit(text)
            self.clear()


class RoomView(QWidget):
    messageSubmitted = Signal(str)
    leaveRequested = Signal()
    muteToggled = Signal(bool)

    def __init__(self, room: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.room = room
        self.setObjectName("roomView")
        self.title = QLabel(title)
        self.title.setObjectName("roomTitle")
        self.mute_button = QPushButton("Mute")
        self.mute_button.setCheckable(True)
        self.mute_button.setToolTip("No notifications or unread counts from this room, "
                                    "except mentions of you")
        self.leave_button = QPushButton("Leave")
        self.banner = QLabel()
        self.banner.setObjectName("roomBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.messages = QListView()
        self.messages.setObjectName("messageList")
        self.messages.setItemDelegate(MessageDelegate(self.messages))
        self.messages.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.messages.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.messages.setWordWrap(True)
        self.messages.setUniformItemSizes(False)
        self.messages.setResizeMode(QListView.ResizeMode.Adjust)
        self.members = QListView()
        self.members.setObjectName("memberList")
        self.members.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.input = MessageInput()
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")

        self._lay_out()
        self.input.submitted.connect(self._submit)
        self.send_button.clicked.connect(self.input.submit)
        self.leave_button.clicked.connect(self.leaveRequested.emit)
        self.mute_button.toggled.connect(self._mute_toggled)
        self._stick_to_bottom = True
        self._from_bottom = 0
        self.closed = False

    def _lay_out(self) -> None:
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.mute_button)
        header.addWidget(self.leave_button)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.messages)
        splitter.addWidget(self.members)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([600, 160])
        entry = QHBoxLayout()
        entry.addWidget(self.input, 1)
        entry.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        layout.addLayout(entry)

    def set_closed(self, closed: bool) -> None:
        """A room we are no longer in: its tab stays to show why, but takes no input."""
        self.closed = closed
        for widget in (self.input, self.send_button, self.mute_button, self.leave_button):
            widget.setEnabled(not closed)
        if not closed:
            self.show_banner("")

    def set_models(self, messages: MessageListModel, members: QAbstractItemModel) -> None:
        self.messages.setModel(messages)
        self.members.setModel(members)
        messages.rowsAboutToBeInserted.connect(self._remember_scroll)
        messages.rowsInserted.connect(self._follow)
        self.messages.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.messages.scrollToBottom()

    def _scrolled(self, value: int) -> None:
        """At the top: load the page of history before the oldest message shown."""
        model = self.messages.model()
        if value == self.messages.verticalScrollBar().minimum() and isinstance(
            model, MessageListModel
        ):
            model.want_older()
            if model.canFetchMore(QModelIndex()):
                model.fetchMore(QModelIndex())

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

    def _submit(self, text: str) -> None:
        self.show_banner("")
        self.messageSubmitted.emit(text)

    def _mute_toggled(self, muted: bool) -> None:
        self.mute_button.setText("Muted" if muted else "Mute")
        self.muteToggled.emit(muted)

    def _remember_scroll(self, *_: object) -> None:
        bar = self.messages.verticalScrollBar()
        self._stick_to_bottom = bar.value() >= bar.maximum() - 4
        self._from_bottom = bar.maximum() - bar.value()

    def _follow(self, parent: QModelIndex | QPersistentModelIndex, first: int, last: int) -> None:
        model = self.messages.model()
        if last == model.rowCount() - 1 and self._stick_to_bottom:
            self.messages.scrollToBottom()
        elif first == 0:
            # Older history went in above: keep the same messages in sight.
            self.messages.doItemsLayout()
            bar = self.messages.verticalScrollBar()
            bar.setValue(bar.maximum() - self._from_bottom)
