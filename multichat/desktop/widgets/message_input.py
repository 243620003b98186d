"""The box one writes a message in, and the keys it answers.

Apart from the room view because it is a widget of its own with its own keys
(Enter sends, PgUp/PgDn and Ctrl+End move the messages, Up and Esc ask to edit
or to stop); what a reply or an edit in progress is stays with ``RoomView``,
which fills the box and decides what its text becomes.

Like Slack's and Element's, the box is one line tall and grows with what is
written, up to ``MAX_LINES`` (then it scrolls); the buttons beside it match a
one-line box's height (``oneLineHeightChanged``), so they sit centred on it and
stay on its bottom row as it grows.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QMimeData, QSizeF, Qt, Signal
from PySide6.QtGui import QFontMetricsF, QImage, QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import QPlainTextEdit, QSizePolicy, QWidget

MAX_LINES = 8  # taller than this, the box scrolls: the messages keep most of the room
PLACEHOLDER = "Write a message…"
KEYS_HINT = "  (Enter sends, Shift+Enter for a new line)"  # shown when the box is wide enough


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
        filesGiven(list paths): local files pasted or dropped into the box.
        imagePasted(QImage image): an image pasted (a screenshot, say), not a file.
        oneLineHeightChanged(int px): a one-line box's height changed (style, font).

    With files attached (``has_files``), Enter sends even with no text.
    """

    submitted = Signal(str)
    scrollRequested = Signal(int)
    latestRequested = Signal()
    editLastRequested = Signal()
    cancelRequested = Signal()
    filesGiven = Signal(list)
    imagePasted = Signal(QImage)
    oneLineHeightChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageInput")
        self.setPlaceholderText(PLACEHOLDER + KEYS_HINT)
        self.setTabChangesFocus(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.has_context = False  # replying or editing: Esc stops that
        self.has_files = False  # files wait to go with the next message
        self._one_line = 0
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self._fit()

    # -- the height: one line, growing with the text ------------------------------------------

    def one_line_height(self) -> int:
        """The box's height with one line in it (what the buttons beside it match)."""
        return self._height_for(self._line_height())

    def _line_height(self) -> int:
        return math.ceil(QFontMetricsF(self.font()).height())  # as a text line lays out

    def _height_for(self, text_height: float) -> int:
        """The box's height for ``text_height`` px of text: its padding, frame and margins."""
        frame, viewport = self.contentsMargins(), self.viewportMargins()
        # + 1: QPlainTextEdit shows its scroll bar unless the viewport is a pixel taller.
        return math.ceil(text_height + 2 * self.document().documentMargin() + 1
                         + frame.top() + frame.bottom() + viewport.top() + viewport.bottom())

    def _text_height(self, enough: float) -> float:
        """The laid-out lines' height (wrapped lines and taller emoji lines included),
        counted up to ``enough``: a long paste is not measured to its end on each key."""
        height = 0.0
        block = self.document().firstBlock()
        while block.isValid() and height < enough:
            layout = block.layout()
            height += sum(layout.lineAt(i).height() for i in range(layout.lineCount()))
            block = block.next()
        return height

    def _fit(self, _size: QSizeF | None = None) -> None:
        line = self._line_height()
        tallest = line * MAX_LINES
        self.setFixedHeight(self._height_for(min(max(self._text_height(tallest), line),
                                                 tallest)))
        one_line = self.one_line_height()
        if one_line != self._one_line:
            self._one_line = one_line
            self.oneLineHeightChanged.emit(one_line)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.StyleChange, QEvent.Type.FontChange):
            self._fit()  # a new style sheet's padding, or a new font's line height

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # The keys' hint only where the whole placeholder fits on the one line.
        room = self.viewport().width() - 2 * self.document().documentMargin()
        wide = self.fontMetrics().horizontalAdvance(PLACEHOLDER + KEYS_HINT) <= room
        self.setPlaceholderText(PLACEHOLDER + KEYS_HINT if wide else PLACEHOLDER)

    def event(self, event: QEvent) -> bool:
        # Ctrl+End is a text edit's own key; claim it before any shortcut or the edit.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and (
            event.matches(QKeySequence.StandardKey.MoveToEndOfDocument)
            or (event.key() == Qt.Key.Key_Escape and self.has_context)
        ):
            event.accept()
            return True
        handled = super().event(event)
        if event.type() == QEvent.Type.Polish:
            self._fit()  # the style sheet's padding is known from here on
        return handled

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
        if text or self.has_files:
            self.submitted.emit(text)
            self.clear()

    # -- files pasted or dropped ---------------------------------------------------------------

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return bool(local_files(source)) or source.hasImage() or \
            super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        files = local_files(source)
        if files:
            self.filesGiven.emit(files)
        elif source.hasImage() and isinstance(image := source.imageData(), QImage) \
                and not image.isNull():
            self.imagePasted.emit(image)
        else:
            super().insertFromMimeData(source)


def local_files(source: QMimeData) -> list[str]:
    """The local files a paste or drop carries (a file manager's copy), if any."""
    if not source.hasUrls():
        return []
    return [url.toLocalFile() for url in source.urls() if url.isLocalFile()]

