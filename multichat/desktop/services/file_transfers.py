"""Fetching files for the windows: thumbnails to paint, full images to view, downloads to save.

Each fetch runs ``file_http.fetch`` on a worker thread (the loop's default
executor) with the client's address, token and pinned certificate as they are
at that moment; progress comes back to the GUI thread as signals. Thumbnails
are fetched once each, when first painted, at most ``THUMBNAIL_FETCHES`` at a
time, and kept (the newest ``THUMBNAIL_CACHE``); a failed one (its placeholder
says so) is asked for again when painted ``RETRY_THUMBNAIL_AFTER`` later. A download goes to
``folder`` (the Downloads folder unless set) under the file's own name made
safe, never over an existing file; a connection lost midway picks up where it
left off (``Range``, twice at most); a failed or cancelled one leaves nothing
behind.

Signals:
    thumbnailReady(str file_id): its thumbnail (or its failure) is known: repaint.
    downloadProgress(str file_id, int done, int size)
    downloadFinished(str file_id, str path): saved there, whole.
    downloadFailed(str file_id, str words)
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtGui import QImage

if TYPE_CHECKING:
    from multichat.desktop.client.chat_client import ChatClient

from multichat.desktop.client.file_http import (
    FetchCancelled,
    FetchError,
    FileServer,
    fetch,
    fetch_resuming,
    file_path,
)
from multichat.desktop.client.pinning import Untrusted
from multichat.desktop.services.downloads import create_unique, default_folder
from multichat.protocol.frames import FileObj

THUMBNAIL_FETCHES = 4
THUMBNAIL_CACHE = 300
RETRY_THUMBNAIL_AFTER = 30.0  # seconds before a failed thumbnail is asked for again
ServerLookup = Callable[[], FileServer | None]


@dataclass(slots=True)
class Download:
    file: FileObj
    done: int = 0
    cancelled: threading.Event | None = None
    path: Path | None = None  # where it was saved, once finished
    error: str = ""


class FileTransfers(QObject):
    thumbnailReady = Signal(str)
    downloadProgress = Signal(str, int, int)
    downloadFinished = Signal(str, str)
    downloadFailed = Signal(str, str)

    def __init__(self, server: ServerLookup, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._server = server
        self.folder: Path | None = None  # None: the Downloads folder
        self._thumbnails: OrderedDict[str, QImage] = OrderedDict()
        self._failed: dict[str, float] = {}  # file id -> when its thumbnail failed
        self._asked: set[str] = set()
        self._slots = asyncio.Semaphore(THUMBNAIL_FETCHES)
        self.downloads: dict[str, Download] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        app = QCoreApplication.instance()
        if app is not None:  # a download's thread must not hold the app open at quit
            app.aboutToQuit.connect(self.cancel_all)

    # -- thumbnails --------------------------------------------------------------------------

    def thumbnail(self, file: FileObj) -> QImage | None:
        """The image's thumbnail if fetched; else None, and it is fetched (once)."""
        image = self._thumbnails.get(file.id)
        if image is not None:
            self._thumbnails.move_to_end(file.id)
            return image
        failed = self._failed.get(file.id)
        if failed is not None and time.monotonic() - failed < RETRY_THUMBNAIL_AFTER:
            return None
        if file.id and file.id not in self._asked:
            self._failed.pop(file.id, None)
            self._asked.add(file.id)
            self._spawn(self._fetch_thumbnail(file))
        return None

    def thumbnail_failed(self, file_id: str) -> bool:
        return file_id in self._failed

    async def _fetch_thumbnail(self, file: FileObj) -> None:
        async with self._slots:
            try:
                data = await self.fetch_bytes(file, thumbnail=True)
                image = QImage.fromData(data)
                if image.isNull():
                    raise FetchError("not an image")
            except (FetchError, Untrusted):
                self._failed[file.id] = time.monotonic()
            else:
                self._thumbnails[file.id] = image
                while len(self._thumbnails) > THUMBNAIL_CACHE:
                    evicted, _ = self._thumbnails.popitem(last=False)
                    self._asked.discard(evicted)
            finally:
                self._asked.discard(file.id)
        self.thumbnailReady.emit(file.id)

    async def fetch_bytes(self, file: FileObj, *, thumbnail: bool = False) -> bytes:
        """The file's bytes (or its thumbnail's), in memory: for the image viewer."""
        server = self._server()
        if server is None:
            raise FetchError("Not connected: log in to see files.")
        sink = io.BytesIO()
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: fetch(server, file_path(file.id, thumbnail=thumbnail), sink))
        return sink.getvalue()

    # -- downloads ---------------------------------------------------------------------------

    def save(self, file: FileObj) -> None:
        """Download ``file`` into the downloads folder (once at a time per file)."""
        current = self.downloads.get(file.id)
        if current is not None and current.cancelled is not None:
            return  # under way
        download = Download(file, cancelled=threading.Event())
        self.downloads[file.id] = download
        self._spawn(self._download(download))

    def cancel_download(self, file_id: str) -> None:
        download = self.downloads.get(file_id)
        if download is not None and download.cancelled is not None:
            download.cancelled.set()

    def cancel_all(self) -> None:
        for file_id in list(self.downloads):
            self.cancel_download(file_id)

    def progress(self, file_id: str) -> Download | None:
        return self.downloads.get(file_id)

    async def _download(self, download: Download) -> None:
        file = download.file
        loop = asyncio.get_running_loop()
        assert download.cancelled is not None
        cancelled = download.cancelled

        def report(done: int, total: int | None) -> None:
            loop.call_soon_threadsafe(self._progress, download, done, total or file.size)

        server = self._server()
        path: Path | None = None
        try:
            if server is None:
                raise FetchError("Not connected: log in to save files.")
            folder = self.folder or default_folder()
            path, fd = create_unique(folder, file.name)
            with os.fdopen(fd, "wb") as sink:
                await loop.run_in_executor(None, lambda: fetch_resuming(
                    server, file_path(file.id), sink, progress=report, cancelled=cancelled))
        except (FetchError, FetchCancelled, Untrusted, OSError) as exc:
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()
            download.cancelled = None
            download.error = _words(exc, file)
            if isinstance(exc, FetchCancelled):
                del self.downloads[file.id]
            self.downloadFailed.emit(file.id, download.error)
            return
        download.cancelled, download.path, download.done = None, path, file.size
        self.downloadFinished.emit(file.id, str(path))

    def _progress(self, download: Download, done: int, total: int) -> None:
        if download.cancelled is None:
            return  # finished or failed meanwhile
        download.done = done
        self.downloadProgress.emit(download.file.id, done, total)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _words(exc: BaseException, file: FileObj) -> str:
    if isinstance(exc, FetchCancelled):
        return f"Saving “{file.name}” was cancelled."
    if isinstance(exc, FetchError):
        return f"“{file.name}” could not be saved: {exc.words}"
    if isinstance(exc, Untrusted):
        return (f"“{file.name}” was not fetched: the server's certificate is not the one "
                "you confirmed.")
    return f"“{file.name}” could not be saved: {exc}."


def file_server_of(client: ChatClient) -> FileServer | None:
    """Where the client is logged in, as file fetches need it; None when it is not."""
    if not client.url or not client.token:
        return None
    return FileServer(client.url, client.token, client.pin)
