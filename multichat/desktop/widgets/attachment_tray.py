"""Above the message box: the files picked for the next message, and the files uploading.

``StagedFiles``: what was attached (paperclip, drop, paste) and goes with the
next message; ✕ takes one off. ``UploadList``: each file of a sent message
until that message is stored: its name, a progress bar (a file waiting for
the connection shows "Waiting for the connection"), and Cancel, which takes
the file off its message (a message left with nothing is not sent).

Signals:
    StagedFiles.changed(): a file was added or taken off.
    UploadList.cancelled(str key): Cancel on the upload with this key.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop.client.uploads import Attachment
from multichat.desktop.services.file_words import format_size
from multichat.desktop.widgets.eliding_label import ElidingLabel

MAX_STAGED = 10  # PROTOCOL: a message carries at most 10 files


class StagedFiles(QFrame):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stagedFiles")
        self._files: list[Attachment] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 2, 3, 2)
        self._layout.setSpacing(0)
        self.hide()

    @property
    def files(self) -> list[Attachment]:
        return list(self._files)

    def add(self, attachments: list[Attachment]) -> int:
        """Stage these (up to MAX_STAGED in all); how many were left out."""
        room = MAX_STAGED - len(self._files)
        taken = attachments[:max(0, room)]
        self._files.extend(taken)
        self._rebuild()
        return len(attachments) - len(taken)

    def take(self) -> list[Attachment]:
        """Everything staged, now on its way with a message: the tray empties."""
        files, self._files = self._files, []
        self._rebuild()
        return files

    def remove(self, position: int) -> None:
        del self._files[position]
        self._rebuild()

    def _rebuild(self) -> None:
        while (item := self._layout.takeAt(0)) is not None:
            if (widget := item.widget()) is not None:
                widget.deleteLater()
        for position, attachment in enumerate(self._files):
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            label = ElidingLabel(minimum_characters=0)
            label.setObjectName("stagedFileName")
            label.set_full_text(f"📎 {attachment.name}  ·  {format_size(attachment.size)}")
            remove = QToolButton()
            remove.setObjectName("stagedFileRemove")
            remove.setText("✕")
            remove.setAutoRaise(True)
            remove.setToolTip(f"Don't send {attachment.name}")
            remove.setAccessibleName(f"Remove {attachment.name}")
            remove.clicked.connect(lambda _=False, p=position: self.remove(p))
            line.addWidget(label)
            line.addWidget(remove)
            line.addStretch(1)  # the ✕ right by its file, not across the window
            self._layout.addWidget(row)
        self.setVisible(bool(self._files))
        self.changed.emit()


class UploadRow(QWidget):
    """One file on its way: name, progress, Cancel."""

    def __init__(self, key: str, name: str, size: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key, self.total = key, size
        self.setObjectName("uploadRow")
        self.label = ElidingLabel(minimum_characters=0)
        self.label.setObjectName("uploadName")
        self.label.set_full_text(f"{name}  ·  {format_size(size)}")
        self.bar = QProgressBar()
        self.bar.setObjectName("uploadProgress")
        self.bar.setRange(0, 100)
        self.bar.setAccessibleName(f"Uploading {name}")
        self.bar.setMaximumWidth(160)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("uploadCancel")
        self.cancel_button.setToolTip(f"Don't send {name}")
        self.cancel_button.setMinimumWidth(0)
        line = QHBoxLayout(self)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.label, 1)
        line.addWidget(self.bar)
        line.addWidget(self.cancel_button)

    def set_state(self, state: str, sent: int) -> None:
        if state == "stored":
            self.set_sent(self.total)
            self.bar.setFormat("Sent")
        elif state == "waiting" and sent == 0:
            self.bar.setValue(0)
            self.bar.setFormat("Waiting…")
            self.bar.setToolTip("Goes when the app is connected")
        else:
            self.set_sent(sent)

    def set_sent(self, sent: int) -> None:
        self.bar.setFormat("%p%")
        self.bar.setToolTip("")
        self.bar.setValue(100 if self.total == 0 else min(100, 100 * sent // self.total))


class UploadList(QFrame):
    cancelled = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("uploadList")
        self.rows: dict[str, UploadRow] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 2, 3, 2)
        self._layout.setSpacing(2)
        self.hide()

    def set_pending(self, pending: list[dict[str, Any]]) -> None:
        """The room's outbox (``outboxChanged``): a row per file of each pending message."""
        wanted: dict[str, dict[str, Any]] = {}
        for message in pending:
            for upload in message.get("files") or ():
                wanted[str(upload["key"])] = upload
        for key in [k for k in self.rows if k not in wanted]:
            row = self.rows.pop(key)
            self._layout.removeWidget(row)
            row.deleteLater()
        for key, upload in wanted.items():
            shown = self.rows.get(key)
            if shown is None:
                shown = UploadRow(key, str(upload["name"]), int(upload["size"]))
                shown.cancel_button.clicked.connect(
                    lambda _=False, k=key: self.cancelled.emit(k))
                self.rows[key] = shown
                self._layout.addWidget(shown)
            shown.set_state(str(upload["state"]), int(upload["sent"]))
        self.setVisible(bool(self.rows))

    def progress(self, key: str, sent: int, size: int) -> None:
        row = self.rows.get(key)
        if row is not None:
            row.set_sent(sent)
