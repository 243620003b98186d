"""Fetching a file's bytes over HTTP from the chat server, as the WebSocket is trusted.

``GET /files/ID`` and ``/files/ID/thumbnail`` go to the same host and port as
the WebSocket, with ``Authorization: Bearer TOKEN``. Over https the
certificate is checked exactly as the WebSocket's is: against the pinned
fingerprint (trust on first use, ``pinning``), after the TLS handshake and
before a single byte of the request, so the token never reaches a server the
person has not confirmed. There is no path that skips the check.

Why ``http.client`` in a worker thread and not QNetworkAccessManager: it takes
the very ``ssl.SSLContext`` and fingerprint check the WebSocket uses (one
place decides what is trusted), it needs no new dependency, and reading in
chunks gives progress, cancelling between chunks and resuming with ``Range``.
Each call blocks; callers run it in an executor (``FileTransfers``).
"""

from __future__ import annotations

import http.client
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote, urlsplit

from multichat.desktop.client import pinning
from multichat.protocol.fingerprint import fingerprint_of_der

CHUNK = 64 * 1024
TIMEOUT = 20.0  # seconds without a byte before a fetch gives up
Progress = Callable[[int, int | None], None]  # bytes so far, the total if known


class FetchError(Exception):
    """A fetch failed; ``words`` say why to a person."""

    def __init__(self, words: str, *, status: int | None = None) -> None:
        super().__init__(words)
        self.words = words
        self.status = status


class FetchCancelled(Exception):
    pass


@dataclass(frozen=True, slots=True)
class FileServer:
    """Where and how to fetch: the WebSocket's address, the login token, the pinned cert."""

    url: str  # the chat server's ws:// or wss:// address
    token: str
    pin: str | None = None

    @property
    def secure(self) -> bool:
        return urlsplit(self.url).scheme.lower() == "wss"

    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        if not parts.hostname:
            raise FetchError(f"{self.url!r} is not a server address.")
        return parts.hostname, parts.port or (443 if self.secure else 80)


def file_path(file_id: str, *, thumbnail: bool = False) -> str:
    path = f"/files/{quote(file_id, safe='')}"
    return path + "/thumbnail" if thumbnail else path


def connect(server: FileServer) -> http.client.HTTPConnection:
    """An open connection to the server; over TLS, only to the pinned certificate."""
    host, port = server.address()
    connection: http.client.HTTPConnection
    if server.secure:
        connection = http.client.HTTPSConnection(host, port, timeout=TIMEOUT,
                                                 context=pinning.client_context())
    else:
        connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        connection.connect()
        if server.secure:
            sock = connection.sock
            der = sock.getpeercert(binary_form=True) if isinstance(sock, ssl.SSLSocket) else None
            if not der:
                raise ssl.SSLError("the server showed no certificate")
            pinning.check(server.pin, fingerprint_of_der(der))  # raises Untrusted
    except BaseException:
        connection.close()
        raise
    return connection


def fetch(server: FileServer, path: str, sink: BinaryIO, *, progress: Progress | None = None,
          cancelled: threading.Event | None = None, offset: int = 0) -> int:
    """GET ``path`` into ``sink`` (from byte ``offset``, with Range, when resuming); the
    number of bytes written. Raises FetchError, FetchCancelled, pinning.Untrusted."""
    try:
        connection = connect(server)
    except pinning.Untrusted:
        raise
    except (OSError, ssl.SSLError) as exc:
        raise FetchError(f"Cannot reach the server ({exc}).") from exc
    response: http.client.HTTPResponse | None = None
    try:
        response = _get(connection, server, path, offset)
        if offset and response.status == 200:  # the whole file after all: start over
            sink.seek(0)
            sink.truncate()
            offset = 0
        return _read(response, sink, offset, progress, cancelled)
    finally:
        if response is not None:
            response.close()
        connection.close()


def _get(connection: http.client.HTTPConnection, server: FileServer, path: str,
         offset: int) -> http.client.HTTPResponse:
    """Send the request, with the token; the response if it brings the file."""
    headers = {"Authorization": f"Bearer {server.token}"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"The connection was lost ({exc}).") from exc
    if response.status in (200, 206):
        return response
    response.close()
    if response.status == 404:
        raise FetchError("That file is gone, or you may not see it.", status=404)
    if response.status in (401, 403):
        raise FetchError("The server did not accept your login for this file; log in again.",
                         status=response.status)
    raise FetchError(f"The server answered {response.status} {response.reason}.",
                     status=response.status)


def _read(response: http.client.HTTPResponse, sink: BinaryIO, offset: int,
          progress: Progress | None, cancelled: threading.Event | None) -> int:
    length = response.getheader("Content-Length")
    total = offset + int(length) if length and length.isdigit() else None
    done = offset
    if progress is not None:
        progress(done, total)
    while True:
        if cancelled is not None and cancelled.is_set():
            raise FetchCancelled
        try:
            chunk = response.read(CHUNK)
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"The connection was lost ({exc}).") from exc
        if not chunk:
            break
        sink.write(chunk)
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    if total is not None and done != total:
        raise FetchError("The connection was lost before the whole file came.")
    return done - offset


def fetch_resuming(server: FileServer, path: str, sink: BinaryIO, *,
                   progress: Progress | None = None,
                   cancelled: threading.Event | None = None, attempts: int = 3) -> int:
    """``fetch``, picking up where a lost connection left off (``Range`` from the bytes
    already in ``sink``), up to ``attempts`` times in all. A refusal (an HTTP status)
    is not retried. The bytes in ``sink`` at the end."""
    for attempt in range(1, attempts + 1):
        try:
            fetch(server, path, sink, progress=progress, cancelled=cancelled,
                  offset=sink.tell())
            return sink.tell()
        except FetchError as exc:
            if exc.status is not None or attempt == attempts:
                raise
    raise AssertionError("unreachable")
