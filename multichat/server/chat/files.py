"""Files: ``upload`` and the binary frames that follow it, and who may fetch a file.

An upload (PROTOCOL.md Part 2) is announced by ``upload`` (name, size, type),
answered ``{"upload": {"id", "chunk"}}``, then its bytes come as binary frames
of at most ``UPLOAD_CHUNK_BYTES``; once ``size`` bytes have arrived the file is
checked and the client gets ``{"file": FILE_OBJ}``. One upload at a time per
connection: a second ``upload`` while one is open is ``BAD_REQUEST``, and a
binary frame with no upload open is ``BAD_REQUEST`` as it always was.

Bytes are gathered into ``store.files.CHUNK_BYTES`` rows and each row is
written in its own transaction on the files' threads (``files_db``), awaited
before the next frame is read: a client that sends faster than the database
takes is slowed by TCP, and the message writer and other connections never
wait behind an upload. When the last byte is stored, the file's SHA-256 is
computed from the rows as stored, an image (by its signature) is decoded,
measured and thumbnailed (``images``), and only then is the file marked
complete. Anything wrong discards the upload and everything stored of it: a
frame over the chunk size, more bytes than announced, an image over the pixel
limit, ``upload_timeout`` seconds without a byte, the connection going. A
process killed mid-upload leaves rows the sweep of any process deletes.

Who may fetch a file (``readable``): its uploader, and whoever may see a room
where a message carries it, judged as the room list judges (``Room.visible_to``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from multichat.protocol import commands as cmd
from multichat.protocol import events
from multichat.protocol.codes import ErrorCode
from multichat.server.chat import images
from multichat.server.chat.errors import ChatError, chat_error_for
from multichat.server.chat.session import Session
from multichat.server.chat.wire import file_frame
from multichat.server.store.errors import StoreError, UnknownFile
from multichat.server.store.executor import StoreExecutor
from multichat.server.store.files import CHUNK_BYTES, StoredFile
from multichat.server.store.records import FileRecord, User
from multichat.server.store.repository import now_ms

if TYPE_CHECKING:
    from multichat.server.chat.service import ChatService

log = logging.getLogger(__name__)

# The most bytes one binary frame of an upload may carry: four to a stored chunk, so
# that a frame is quick to take in and the connection's read queue (16 frames) holds
# at most 1 MiB; well under the 1 MiB frame limit.
UPLOAD_CHUNK_BYTES = 64 * 1024
# Threads for uploads and downloads: their own, so that a big file never holds up a
# login or a history page on the readers' pool.
FILE_THREADS = 2
# A process killed mid-upload can't discard it: every process sweeps uploads silent for
# this many timeouts (more than one, as a slow client's rows are written a chunk late).
SWEEP_AFTER_TIMEOUTS = 4


class BytePacer:
    """How long to wait before taking in more upload bytes, so that all the uploads of
    a process together go at most ``rate`` bytes a second (after a burst of one
    second's worth). The connection waits before it reads its next frame: TCP slows
    the senders, and the event loop keeps its time for everyone else's messages."""

    __slots__ = ("_clock", "_last", "_tokens", "rate")

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._tokens = rate
        self._last = clock()

    def delay(self, size: int) -> float:
        """Spend ``size`` bytes; the seconds to wait before the next (0 when in budget)."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        self._tokens = min(self.rate, self._tokens + (now - self._last) * self.rate) - size
        self._last = now
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class FileRefused(Exception):
    """An upload refused after its bytes arrived: the code and words for the client."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class _Upload:
    """One upload in progress on one connection."""

    __slots__ = ("buffer", "file_id", "head", "index", "received", "ref", "size", "timer")

    def __init__(self, file_id: str, size: int, ref: str | None) -> None:
        self.file_id = file_id
        self.size = size
        self.ref = ref
        self.received = 0
        self.index = 0  # the next chunk row's
        self.buffer = bytearray()
        self.head = b""  # the first bytes: an image's signature
        self.timer: asyncio.TimerHandle | None = None


class Files:
    """Uploads in progress on this process, and the file rules."""

    def __init__(self, chat: ChatService) -> None:
        self._chat = chat
        self.files_db = StoreExecutor(chat.store, FILE_THREADS)
        self._open: dict[Session, _Upload] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._pacer = BytePacer(chat.config.upload_bytes_per_second)

    # -- lifecycle ----------------------------------------------------------------

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="upload-sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for session in list(self._open):
            await self.disconnect(session)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.files_db.close()

    async def _sweep_forever(self) -> None:
        timeout = self._chat.config.upload_timeout
        while True:
            await asyncio.sleep(max(0.05, timeout / 2))
            now = now_ms()
            try:
                gone = await self.files_db.run(
                    self._chat.store.files.sweep,
                    idle_before_ms=now - int(timeout * 1000 * SWEEP_AFTER_TIMEOUTS),
                    now_ms=now)
            except StoreError as exc:
                log.warning("sweeping abandoned uploads failed: %s", exc)
                continue
            if gone:
                log.info("deleted %d abandoned upload(s)", gone)

    # -- the upload command ------------------------------------------------------------

    def is_receiving(self, session: Session) -> bool:
        """Whether a binary frame from this session is the next part of an upload."""
        return session in self._open

    async def upload(self, session: Session, command: cmd.Upload) -> None:
        chat = self._chat
        user = session.user
        assert user is not None
        if session in self._open:
            raise ChatError(ErrorCode.BAD_REQUEST,
                            "one upload at a time: send the bytes of the open one first")
        limit = chat.config.max_file_bytes
        if command.size > limit:
            raise ChatError(ErrorCode.FILE_TOO_LARGE, f"files are limited to {limit} bytes")
        file_id = secrets.token_urlsafe(16)
        try:
            await self.files_db.run(chat.store.files.begin_upload, file_id, user.id,
                                    command.filename, command.size, command.type,
                                    now_ms=now_ms(),
                                    quota_bytes=chat.config.max_upload_bytes_per_day)
        except StoreError as exc:
            raise chat_error_for(exc) from exc
        if session not in chat.sessions or session in self._open:  # gone, or raced
            self._in_background(self._discard(file_id))
            if session in self._open:
                raise ChatError(ErrorCode.BAD_REQUEST, "one upload at a time")
            return
        upload = _Upload(file_id, command.size, command.ref)
        self._open[session] = upload
        self._arm(session, upload)
        session.send(events.upload_ready(file_id, UPLOAD_CHUNK_BYTES, command.ref))
        if command.size == 0:
            await self._finish(session, upload)

    async def receive(self, session: Session, data: bytes) -> None:
        """One binary frame of the session's open upload."""
        upload = self._open[session]
        if len(data) > UPLOAD_CHUNK_BYTES:
            await self._abandon(session, upload, ErrorCode.FILE_INVALID,
                                f"a binary frame of an upload carries at most "
                                f"{UPLOAD_CHUNK_BYTES} bytes; the upload is discarded")
            return
        if upload.received + len(data) > upload.size:
            await self._abandon(session, upload, ErrorCode.FILE_INVALID,
                                f"more bytes than the {upload.size} announced; the upload "
                                f"is discarded")
            return
        upload.received += len(data)
        if len(upload.head) < 16:
            upload.head = (upload.head + data)[:16]
        upload.buffer += data
        self._arm(session, upload)
        pause = self._pacer.delay(len(data))
        if pause > 0:
            await asyncio.sleep(pause)
            if self._open.get(session) is not upload:
                return  # timed out or gone meanwhile: _abandon has cleaned up
        store = self._chat.store
        try:
            while len(upload.buffer) >= CHUNK_BYTES or (
                    upload.received == upload.size and upload.buffer):
                piece = bytes(upload.buffer[:CHUNK_BYTES])
                del upload.buffer[:CHUNK_BYTES]
                await self.files_db.run(store.files.write_chunk, upload.file_id, upload.index,
                                        piece, now_ms=now_ms())
                upload.index += 1
                if self._open.get(session) is not upload:
                    return  # timed out or gone meanwhile: _abandon has cleaned up
        except StoreError as exc:
            error = chat_error_for(exc)
            if not isinstance(exc, UnknownFile):
                log.error("storing a chunk of upload %s failed: %s", upload.file_id, exc)
            await self._abandon(session, upload, error.code, "the upload could not be stored "
                                "and is discarded; try again")
            return
        if upload.received == upload.size:
            await self._finish(session, upload)

    async def _finish(self, session: Session, upload: _Upload) -> None:
        """Every byte is stored: check, measure, mark complete, tell the uploader."""
        self._close(session, upload)
        try:
            record = await self.files_db.run(self._complete, upload.file_id, upload.size,
                                             images.looks_like_image(upload.head))
        except FileRefused as exc:
            await self._discard(upload.file_id)
            session.send(events.error(exc.code, exc.detail, upload.ref))
            return
        except StoreError as exc:
            await self._discard(upload.file_id)
            error = chat_error_for(exc)
            session.send(events.error(error.code, "the upload could not be stored; try again",
                                      upload.ref))
            return
        session.send(events.file_stored(file_frame(record), upload.ref))

    def _complete(self, file_id: str, size: int, maybe_image: bool) -> FileRecord:
        """On a files thread: the SHA-256 of the rows as stored, an image's facts and
        thumbnail, then the file marked complete."""
        store = self._chat.store.files
        digest = hashlib.sha256()
        total = 0
        parts: list[bytes] = []
        for data in store.chunks(file_id):
            digest.update(data)
            total += len(data)
            if maybe_image:
                parts.append(data)
        if total != size:
            raise FileRefused(ErrorCode.SERVER_ERROR, "the upload was not stored whole; "
                              "try again")
        facts = None
        if maybe_image:
            try:
                facts = images.inspect(b"".join(parts),
                                       max_pixels=self._chat.config.max_image_pixels)
            except images.ImageTooLarge as exc:
                raise FileRefused(ErrorCode.FILE_TOO_LARGE,
                                  f"images are limited to {self._chat.config.max_image_pixels} "
                                  f"pixels ({exc}); nothing was stored") from exc
        if facts is None:
            return store.complete(file_id, digest.hexdigest())
        return store.complete(file_id, digest.hexdigest(), width=facts.width,
                              height=facts.height, inline_type=facts.inline_type,
                              thumbnail=(facts.thumbnail_type, facts.thumbnail_width,
                                         facts.thumbnail_height, facts.thumbnail))

    # -- ending an upload that did not finish ------------------------------------------

    def _arm(self, session: Session, upload: _Upload) -> None:
        """(Re)start the upload's silence timer."""
        if upload.timer is not None:
            upload.timer.cancel()
        upload.timer = asyncio.get_running_loop().call_later(
            self._chat.config.upload_timeout, self._timed_out, session, upload)

    def _timed_out(self, session: Session, upload: _Upload) -> None:
        if self._open.get(session) is upload:
            self._in_background(self._abandon(
                session, upload, ErrorCode.FILE_INVALID,
                f"no bytes for {self._chat.config.upload_timeout:g} s; the upload is "
                f"discarded"))

    def _close(self, session: Session, upload: _Upload) -> None:
        if self._open.get(session) is upload:
            del self._open[session]
        if upload.timer is not None:
            upload.timer.cancel()
            upload.timer = None

    async def _abandon(self, session: Session, upload: _Upload, code: ErrorCode,
                       detail: str) -> None:
        self._close(session, upload)
        await self._discard(upload.file_id)
        session.send(events.error(code, detail, upload.ref))

    async def _discard(self, file_id: str) -> None:
        try:
            await self.files_db.run(self._chat.store.files.discard, file_id)
        except StoreError as exc:  # the sweep will get it
            log.warning("discarding upload %s failed: %s", file_id, exc)

    async def disconnect(self, session: Session) -> None:
        """The connection went: an upload it had open is discarded."""
        upload = self._open.get(session)
        if upload is not None:
            self._close(session, upload)
            await self._discard(upload.file_id)

    def _in_background(self, work: object) -> None:
        task = asyncio.ensure_future(work)  # type: ignore[call-overload]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- fetching ---------------------------------------------------------------------

    async def readable(self, user: User, file_id: str) -> StoredFile | None:
        """The complete file, if ``user`` may fetch it (its uploader, or who may see a
        room where a message carries it); None otherwise, as for a file that is not."""
        chat = self._chat
        found = await self.files_db.run(chat.store.files.stored_file, file_id)
        if found is None:
            return None
        if found.uploader_id == user.id:
            return found
        known = chat.reconciler.rooms_by_id
        for room_id in await self.files_db.run(chat.store.files.rooms_of, file_id):
            # A conversation made on another process a moment ago may not be known here
            # yet: the store knows it.
            room = known.get(room_id) or await self.files_db.run(chat.store.room, room_id)
            if room is not None and room.visible_to(user):
                return found
        return None
