"""An image from a message at full size, with Save.

Opened by a click on a thumbnail. It fetches the whole image (``FileTransfers``),
shows it scaled down to fit the window (never up: a small image stays sharp),
and Save downloads it like any file: into the Downloads folder, never over an
existing file, saying where it went. Esc closes it.
"""

from __future__ import annotations

import asyncio
import contextlib

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop.client.file_http import FetchError
from multichat.desktop.client.pinning import Untrusted
from multichat.desktop.services.file_transfers import FileTransfers
from multichat.desktop.services.file_words import format_size
from multichat.desktop.widgets.eliding_label import ElidingLabel
from multichat.protocol.frames import FileObj


class ImageViewer(QDialog):
    def __init__(self, file: FileObj, transfers: FileTransfers,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageViewer")
        self.setWindowTitle(file.name)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.file, self.transfers = file, transfers
        self.image: QImage | None = None
        self.picture = QLabel("Loading…")
        self.picture.setObjectName("imageViewerPicture")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.picture.setMinimumSize(120, 90)
        self.status = ElidingLabel(minimum_characters=0)
        self.status.setObjectName("imageViewerStatus")
        self.status.set_full_text(f"{file.name}  ·  {_dimensions(file)}{format_size(file.size)}")
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("imageViewerSave")
        self.save_button.setToolTip("Save the image to your Downloads folder")
        self.close_button = QPushButton("Close")
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addLayout(bottom)
        self.save_button.clicked.connect(lambda: self.transfers.save(self.file))
        self.close_button.clicked.connect(self.close)
        transfers.downloadProgress.connect(self._saving)
        transfers.downloadFinished.connect(self._saved)
        transfers.downloadFailed.connect(self._not_saved)
        self.resize(self._first_size())
        self._loading = asyncio.get_event_loop().create_task(self._load())

    def _first_size(self) -> QSize:
        screen = self.screen().availableGeometry() if self.screen() else None
        most_w, most_h = (screen.width() * 4 // 5, screen.height() * 4 // 5) if screen \
            else (1000, 700)
        w, h = self.file.width or 640, (self.file.height or 480) + 60
        return QSize(max(360, min(most_w, w + 40)), max(260, min(most_h, h + 40)))

    async def _load(self) -> None:
        try:
            data = await self.transfers.fetch_bytes(self.file)
        except (FetchError, Untrusted) as exc:
            self.picture.setText(getattr(exc, "words", "") or "The image could not be loaded.")
            return
        image = QImage.fromData(data)
        if image.isNull():
            self.picture.setText("This file is not an image this app can show; Save it to "
                                 "open it elsewhere.")
            return
        self.image = image
        self._fit()

    def _fit(self) -> None:
        if self.image is None:
            return
        room = self.picture.size()
        pixmap = QPixmap.fromImage(self.image)
        if pixmap.width() > room.width() or pixmap.height() > room.height():
            pixmap = pixmap.scaled(room, Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
        self.picture.setPixmap(pixmap)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def done(self, result: int) -> None:
        if not self._loading.done():
            self._loading.cancel()
        for signal, slot in ((self.transfers.downloadProgress, self._saving),
                             (self.transfers.downloadFinished, self._saved),
                             (self.transfers.downloadFailed, self._not_saved)):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect(slot)
        super().done(result)

    def _saving(self, file_id: str, done: int, size: int) -> None:
        if file_id == self.file.id:
            percent = 100 * done // size if size else 100
            self.status.set_full_text(f"Saving… {percent}%")

    def _saved(self, file_id: str, path: str) -> None:
        if file_id == self.file.id:
            self.status.set_full_text(f"Saved to {path}", tooltip=path)

    def _not_saved(self, file_id: str, words: str) -> None:
        if file_id == self.file.id:
            self.status.set_full_text(words)


def _dimensions(file: FileObj) -> str:
    if not (file.width and file.height):
        return ""
    return f"{file.width} × {file.height}  ·  "  # noqa: RUF001  (a multiplication sign)
