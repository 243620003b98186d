"""Sending the outbox's files: one connection, one file at a time, in the order attached.

For each file not stored yet (``Outbox.next_upload``): ``upload`` (name, size,
type), its reply with the file's id and the most bytes a frame may carry, the
bytes in frames of at most that, then the ``file`` reply's FILE_OBJ, which
makes its message ready to go once its other files are too. The protocol's
binary frames carry no id, so a connection carries one upload at a time.

A connection lost midway: ``stop`` puts the file back to waiting, and it goes
again from its first byte on the next connection (``start``). Cancel (or the
message going: deleted while pending, its room left) stops it at its next
step; a file being sent is ended on the server at once (``_abort``). A file
refused (too large, over the quota, unreadable or changed on disk) is taken
off its message, which goes with the rest, and said in words.

``ChatClient`` owns one and wires it to its socket and signals (``UploadHooks``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from multichat.desktop.client.outbox import Outbox, Pending
from multichat.desktop.client.uploads import Upload, UploadState
from multichat.desktop.client.words import describe
from multichat.desktop.services.file_words import (
    limit_from_detail,
    quota_words,
    too_large_words,
)
from multichat.protocol import ErrorCode, frames
from multichat.protocol import commands as cmd


@dataclass(frozen=True, slots=True)
class UploadHooks:
    """What the runner tells its client."""

    new_ref: Callable[[], str]
    progress: Callable[[Upload], None]  # more bytes of it went (``upload.sent``)
    changed: Callable[[str], None]  # the room's outbox changed (a file stored, dropped)
    ready: Callable[[Pending], None]  # every file of this message is stored: send it
    refused: Callable[[str, str, str], None]  # room, error code ("" for none), words


class UploadRunner:
    def __init__(self, outbox: Outbox, hooks: UploadHooks) -> None:
        self._outbox = outbox
        self._hooks = hooks
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._replies: dict[str, asyncio.Future[frames.ServerFrame]] = {}  # by ref
        # Uploads ended by ``_abort``, by ref: the server's FILE_INVALID for one is no news.
        self._aborted: set[str] = set()

    # -- what the client says ----------------------------------------------------------

    def start(self, ws: ClientConnection) -> None:
        """Logged in on ``ws``: send what waits."""
        self._ws = ws
        self.kick()

    def kick(self) -> None:
        """Something may wait: send it now, if connected and not sending already."""
        if self._ws is None or (self._task is not None and not self._task.done()):
            return
        if self._outbox.next_upload() is not None:
            self._task = asyncio.get_running_loop().create_task(
                self._upload_all(self._ws), name="chat-client-uploads")

    def stop(self) -> None:
        """The connection is gone: whatever was being sent starts again on the next one."""
        self._ws = None
        if self._task is not None:
            self._task.cancel()
            self._task = None
        for reply in self._replies.values():
            reply.cancel()
        self._replies.clear()
        self._aborted.clear()  # the server discards what a connection left open
        rooms = set()
        for upload in self._outbox.uploads():
            if upload.state is UploadState.SENDING:
                upload.restart()
                rooms.add(upload.room)
        for room in rooms:
            self._hooks.changed(room)

    def cancel(self, key: str) -> None:
        """The person took this file off its message: it stops; the message goes without
        it (or, left with nothing, not at all)."""
        found = self._outbox.upload(key)
        if found is None:
            return
        _item, upload = found
        upload.ref = None  # a file being sent stops at its next step
        item = self._outbox.drop_upload(key)
        if item is None:
            return
        self._hooks.changed(item.room)
        if self._outbox.get(item.client_id) is not None and not item.waiting_for_files:
            self._hooks.ready(item)

    def answer(self, ref: str, frame: frames.ServerFrame) -> bool:
        """A frame with this ref: an upload's answer is taken here (True), else not."""
        reply = self._replies.pop(ref, None)
        if reply is not None:
            if not reply.done():
                reply.set_result(frame)
            return True
        if ref in self._aborted:
            self._aborted.discard(ref)  # the FILE_INVALID that ended it
            return True
        return False

    # -- sending -------------------------------------------------------------------------

    async def _upload_all(self, ws: ClientConnection) -> None:
        while self._ws is ws and (upload := self._outbox.next_upload()) is not None:
            try:
                await self._upload(ws, upload)
            except (ConnectionClosed, OSError):
                return  # the session ends; the upload starts again on the next one

    async def _upload(self, ws: ClientConnection, upload: Upload) -> None:
        """One file: ``upload``, its reply, the bytes in frames of at most its ``chunk``,
        then the stored FILE_OBJ (or an error, which drops it from its message)."""
        attachment = upload.attachment
        loop = asyncio.get_running_loop()
        command = replace(cmd.Upload(filename=attachment.name, size=attachment.size,
                                     type=attachment.type), ref=self._hooks.new_ref())
        assert command.ref is not None
        upload.state, upload.sent, upload.ref = UploadState.SENDING, 0, command.ref
        reply: asyncio.Future[frames.ServerFrame] = loop.create_future()
        self._replies[command.ref] = reply
        self._hooks.progress(upload)

        def wanted() -> bool:
            """Not cancelled, nor its message gone (deleted, its room left)."""
            return upload.ref == command.ref and self._outbox.upload(upload.key) is not None

        try:
            source = attachment.open()
        except OSError as exc:
            self._replies.pop(command.ref, None)
            self._refused(upload, f"“{attachment.name}” was not sent: it cannot be read "
                                  f"any more ({exc.strerror or exc}).")
            return
        try:
            await ws.send(command.encode())
            answer = await reply
            if isinstance(answer, frames.UploadReady):
                reply = loop.create_future()  # the next answer, ``file`` or an error
                self._replies[command.ref] = reply
                while wanted() and upload.sent < attachment.size:
                    try:
                        chunk = source.read(min(answer.chunk, attachment.size - upload.sent))
                    except OSError:
                        chunk = b""  # unreadable midway: as good as cut short
                    if not chunk:
                        break  # shorter than when attached
                    await ws.send(chunk)
                    upload.sent += len(chunk)
                    self._hooks.progress(upload)
                if upload.sent < attachment.size:  # cancelled, or the file shrank
                    await self._abort(ws, command.ref, answer.chunk)
                    if wanted():
                        self._refused(upload, f"“{attachment.name}” was not sent: it "
                                              "changed after it was attached; attach it "
                                              "again.")
                    return
                answer = await reply
        finally:
            source.close()
            self._replies.pop(command.ref, None)
        if wanted():  # else cancelled or gone meanwhile: the answer is not news
            self._answered(upload, answer)

    def _answered(self, upload: Upload, answer: frames.ServerFrame) -> None:
        if isinstance(answer, frames.FileStored):
            ready = self._outbox.stored(upload, answer.file)
            self._hooks.changed(upload.room)
            if ready is not None:
                self._hooks.ready(ready)
        elif isinstance(answer, frames.Error):
            self._refused(upload, refusal_words(upload.attachment.name, answer), answer.code)

    def _refused(self, upload: Upload, words: str, code: str = "") -> None:
        """The file cannot go: off its message (the rest of which goes), said in words."""
        self._outbox.drop_upload(upload.key)
        item = self._outbox.get(upload.client_id)
        if item is not None and not item.waiting_for_files:
            self._hooks.ready(item)
        self._hooks.changed(upload.room)
        self._hooks.refused(upload.room, code, words)

    async def _abort(self, ws: ClientConnection, ref: str, chunk: int) -> None:
        """End an open upload on the server without closing the connection.

        The protocol has no "cancel upload", and a second ``upload`` is refused while
        one is open; but the server discards an upload whose binary frame is over its
        chunk size, answers FILE_INVALID (not news: ``_aborted``), and goes on. One
        frame of chunk + 1 bytes ends it at once, where sending the rest would push up
        to 25 MiB for nothing, and closing the connection would cost a reconnect."""
        self._aborted.add(ref)
        with contextlib.suppress(ConnectionClosed, OSError):
            await ws.send(bytes(chunk + 1))


def refusal_words(name: str, error: frames.Error) -> str:
    """Why the server refused a file, naming it."""
    limit = limit_from_detail(error.detail)
    if error.known is ErrorCode.FILE_TOO_LARGE and "pixel" in (error.detail or ""):
        return f"“{name}” was not sent: {error.detail}."
    if error.known is ErrorCode.FILE_TOO_LARGE:
        return too_large_words(name, limit)
    if error.known is ErrorCode.QUOTA_EXCEEDED:
        return quota_words(name, limit)
    return f"“{name}” was not sent: " + describe(error.code, error.detail, command="upload")
