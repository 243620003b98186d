"""``GET /files/ID`` and ``GET /files/ID/thumbnail``: a file's bytes over plain HTTP.

On the server's own port, answered from websockets' ``process_request`` like the
page (``http.py``). The requester is who the login token says: ``Authorization:
Bearer TOKEN`` (the app) or the browser's session cookie. Without a live token
the answer is 401, the same for every id. With one, a file this user may not
fetch (``Files.readable``) gets exactly the 404 of an id that does not exist,
so nobody learns which ids exist. ``Range`` is honoured (one range: 206 with
``Content-Range``; past the end: 416).

A file is data, never a page of this origin: only an image the server decoded
(PNG, JPEG, GIF, WebP) is served inline, as its verified type; anything else
(HTML, SVG, scripts, whatever the uploader claimed) is
``application/octet-stream`` as an attachment. Every answer carries
``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy: default-src
'none'; sandbox``, so even a browser that renders it runs nothing. The name in
``Content-Disposition`` is RFC 6266's ``filename*=UTF-8''...`` with an ASCII
fallback, quoted so that no name can end the header or add another.

websockets answers ``process_request`` with a whole body: a file is read into
memory (25 MiB at most by default) for each full download, and stays there
until the client has read it; a range reads only the chunk rows it needs.
``DownloadBudget`` bounds what all downloads hold at once
(``--max-download-bytes-in-flight``): past it the answer is 503 with
``Retry-After``, so clients that ask and never read cannot grow the
server's memory.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import re
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from multichat.protocol.commands import FILE_ID
from multichat.server.chat.tokens import token_hash
from multichat.server.net import web_session
from multichat.server.store.errors import StoreError
from multichat.server.store.files import StoredFile
from multichat.server.store.repository import now_ms

if TYPE_CHECKING:
    from multichat.server.chat.service import ChatService

log = logging.getLogger(__name__)

FILE_PATH = re.compile(r"/files/([^/]+)(/thumbnail)?")
FILE_CONTENT_SECURITY_POLICY = "default-src 'none'; sandbox"
ATTACHMENT_TYPE = "application/octet-stream"
# The answers to a file this user may not fetch and to one that does not exist: one
# body, one set of headers (bar Date), whatever the reason.
_NOT_FOUND_BODY = b"not found\n"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
# RFC 8187's attr-char beyond letters and digits: what may stand unescaped in filename*.
_ATTR_CHARS = "!#$&+-.^_`|~"
_MAX_RANGE_HEADER = 100


# How long a client refused for want of download budget is asked to wait.
BUSY_RETRY_AFTER_S = 5


class DownloadBudget:
    """Bytes of download bodies held at once, up to a limit; one body may always go.

    A body is held from the moment it is read until its connection is closed
    (websockets closes it once the answer is written out): the bytes a slow
    reader has not taken stay in the transport's buffer until then.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> bool:
        if self.held and self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give(self, size: int) -> None:
        self.held -= size


class Unsatisfiable(ValueError):
    """A byte range that starts past the end of the file (416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range (first, last, inclusive) a ``Range`` header asks for, or None
    for the whole file (no header, one this server doesn't take: several ranges, other
    units, nonsense). ``Unsatisfiable`` for a range wholly past the end."""
    if header is None or len(header) > _MAX_RANGE_HEADER:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0:
            raise Unsatisfiable(header)
        return max(0, size - suffix), size - 1
    start = int(first)
    end = size - 1 if not last else min(int(last), size - 1)
    if last and int(last) < start:
        return None  # invalid: ignored, the whole file
    if start >= size:
        raise Unsatisfiable(header)
    return start, end


def content_disposition(name: str, *, inline: bool) -> str:
    """``Content-Disposition`` for a file called ``name``: the UTF-8 name percent-encoded
    (RFC 6266, 8187), after an ASCII fallback in which every character that could end
    the quoted string or the header (quotes, backslashes, controls, CR, LF) and every
    non-ASCII one is an underscore."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    fallback = fallback.strip() or "file"
    encoded = quote(name, safe=_ATTR_CHARS, encoding="utf-8", errors="replace")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def _headers(body_length: int, content_type: str | None) -> Headers:
    headers = Headers([
        ("Date", email.utils.formatdate(usegmt=True)),
        ("Connection", "close"),
        ("Content-Length", str(body_length)),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", FILE_CONTENT_SECURITY_POLICY),
        ("Referrer-Policy", "no-referrer"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
    ])
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


def _plain(status: HTTPStatus, body: bytes, **extra: str) -> Response:
    """A short text answer that no cache keeps; ``extra`` headers by name (``_`` for ``-``)."""
    headers = _headers(len(body), "text/plain; charset=utf-8")
    headers["Cache-Control"] = "no-store"
    for name, value in extra.items():
        headers[name.replace("_", "-")] = value
    return Response(status.value, status.phrase, headers, body)


def not_found() -> Response:
    """The one answer to a file that is not there for this requester."""
    return _plain(HTTPStatus.NOT_FOUND, _NOT_FOUND_BODY)


def _unauthorized() -> Response:
    return _plain(HTTPStatus.UNAUTHORIZED,
                  b"log in first: Authorization: Bearer TOKEN, or the session cookie\n",
                  WWW_Authenticate='Bearer realm="multichat"')


def _unavailable() -> Response:
    return _plain(HTTPStatus.SERVICE_UNAVAILABLE,
                  b"the server cannot read its database now; try again\n")


def _busy() -> Response:
    return _plain(HTTPStatus.SERVICE_UNAVAILABLE,
                  b"too many downloads at once; try again shortly\n",
                  Retry_After=str(BUSY_RETRY_AFTER_S))


def request_token(headers: Headers) -> str | None:
    """The login token a request carries: the bearer token, else the session cookie's."""
    for value in headers.get_all("Authorization"):
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and 0 < len(token) <= web_session.MAX_COOKIE_CHARS:
            return token
    return web_session.cookie_token(headers)


class FileAnswers:
    """The answers to ``/files/...`` requests."""

    def __init__(self, chat: ChatService) -> None:
        self._chat = chat
        self.budget = DownloadBudget(chat.config.max_download_bytes_in_flight)
        self._releases: set[asyncio.Task[None]] = set()

    @staticmethod
    def handles(path: str) -> bool:
        return urlsplit(path).path.startswith("/files/")

    async def answer(self, connection: ServerConnection, request: Request) -> Response:
        try:
            return await self._answer(connection, request)
        except StoreError as exc:
            log.error("store error serving %s: %s", urlsplit(request.path).path, exc)
            return _unavailable()

    async def _answer(self, connection: ServerConnection, request: Request) -> Response:
        chat = self._chat
        token = request_token(request.headers)
        if token is None:
            return _unauthorized()
        owner = await chat.files.files_db.run(chat.store.token_owner, token_hash(token),
                                              now_ms())
        if owner is None:
            return _unauthorized()
        match = FILE_PATH.fullmatch(urlsplit(request.path).path)
        if match is None or FILE_ID.fullmatch(match.group(1)) is None:
            return not_found()
        found = await chat.files.readable(owner.user, match.group(1))
        if found is None:
            return not_found()
        if match.group(2):
            return await self._thumbnail(found.record.id)
        return await self._file(connection, request, found)

    async def _thumbnail(self, file_id: str) -> Response:
        chat = self._chat
        thumbnail = await chat.files.files_db.run(chat.store.files.thumbnail, file_id)
        if thumbnail is None:
            return not_found()
        headers = _headers(len(thumbnail.data), thumbnail.mime_type)
        headers["Content-Disposition"] = "inline"
        headers["Cache-Control"] = "private, max-age=86400"
        return Response(HTTPStatus.OK.value, HTTPStatus.OK.phrase, headers, thumbnail.data)

    async def _file(self, connection: ServerConnection, request: Request,
                    found: StoredFile) -> Response:
        chat = self._chat
        record = found.record
        size = record.size
        inline = found.inline_type is not None
        content_type = found.inline_type or ATTACHMENT_TYPE
        range_headers = request.headers.get_all("Range")
        try:
            wanted = parse_range(range_headers[0] if len(range_headers) == 1 else None, size)
        except Unsatisfiable:
            headers = _headers(0, None)
            headers["Content-Range"] = f"bytes */{size}"
            headers["Cache-Control"] = "no-store"
            return Response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE.value,
                            HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE.phrase, headers, b"")
        first, last = wanted if wanted is not None else (0, size - 1)
        length = last - first + 1 if size else 0
        if not self.budget.take(length):
            log.info("download refused, %d bytes in flight: %s", self.budget.held,
                     urlsplit(request.path).path)
            return _busy()
        self._give_back_when_closed(connection, length)
        body = (await chat.files.files_db.run(chat.store.files.read_range, found, first, last)
                if size else b"")
        status = HTTPStatus.PARTIAL_CONTENT if wanted is not None else HTTPStatus.OK
        headers = _headers(len(body), content_type)
        headers["Content-Disposition"] = content_disposition(record.name, inline=inline)
        headers["Accept-Ranges"] = "bytes"
        headers["Cache-Control"] = "private, max-age=86400"
        headers["ETag"] = f'"{record.sha256}"'
        if wanted is not None:
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        return Response(status.value, status.phrase, headers, body)

    def _give_back_when_closed(self, connection: ServerConnection, length: int) -> None:
        async def closed() -> None:
            try:
                await connection.wait_closed()
            finally:
                self.budget.give(length)

        task = asyncio.create_task(closed())
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)
