"""The box one writes a message in, and the keys it answers.

Apart from the room view because it is a widget of its own with its own keys
(Enter sends, PgUp/PgDn and Ctrl+End move the messages, Up and Esc ask to edit
or to stop); what a reply or an edit in progress is stays with ``RoomView``,
which fills the box and decides what its text becomes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, Qt, Signal
from PySide6.QtGui import QImage, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QPlainTextEdit, QWidget

INPUT_LINES = 3


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

    With files attached (``has_files``), Enter sends even with no text.
    """

    submitted = Signal(str)
    scrollRequested = Signal(int)
    latestRequested = Signal()
    editLastRequested = Signal()
    cancelRequested = Signal()
    filesGiven = Signal(list)
    imagePasted = Signal(QImage)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageInput")
        self.setPlaceholderText("Write a message…  (Enter sends, Shift+Enter for a new line)")
        self.setTabChangesFocus(True)
        line = self.fontMetrics().lineSpacing()
        self.setFixedHeight(line * INPUT_LINES + 16)
        self.has_context = False  # replying or editing: Esc stops that
        self.has_files = False  # files wait to go with the next message

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

