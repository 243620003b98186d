"""File fetches trust the server as the WebSocket does: the pinned certificate or nothing.

A real HTTPS server on port 0 with a self-signed certificate (the chat
server's own ``tls.self_signed``) records every request it gets: the attack
is a server whose certificate is not the pinned one, and the proof is that
it never saw the request, so never the token.
"""

from __future__ import annotations

import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from multichat.desktop.client.file_http import (
    FetchError,
    FileServer,
    fetch,
    fetch_resuming,
    file_path,
)
from multichat.desktop.client.pinning import Untrusted
from multichat.server.net import tls

BODY = bytes(range(256)) * 1000  # 256 000 bytes: several chunks


class Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append({"path": self.path, **dict(self.headers.items())})
        if self.path not in ("/files/abc", "/files/cut"):
            self.send_error(404)
            return
        cut = self.path == "/files/cut" and "Range" not in self.headers
        start = 0
        ranged = self.headers.get("Range", "")
        if ranged.startswith("bytes="):
            start = int(ranged[6:].split("-")[0])
            self.send_response(206)
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(BODY) - start))
        self.end_headers()
        # /files/cut: the connection goes after 100 000 bytes, unless resumed.
        self.wfile.write(BODY[start:100_000] if cut else BODY[start:])

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def https(tmp_path: Path) -> Iterator[tuple[int, str, list[dict[str, str]]]]:
    certificate = tls.self_signed(tmp_path / "tls", "localhost")
    seen: list[dict[str, str]] = []
    handler = type("Handler", (Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = tls.server_context(certificate)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], certificate.fingerprint, seen
    server.shutdown()
    server.server_close()


def test_the_pinned_certificate_gets_the_file_with_the_token(
        https: tuple[int, str, list[dict[str, str]]]) -> None:
    port, fingerprint, seen = https
    server = FileServer(f"wss://127.0.0.1:{port}/chat/stream/", "the-token", fingerprint)
    sink = io.BytesIO()
    steps: list[int] = []
    assert fetch(server, file_path("abc"), sink,
                 progress=lambda done, total: steps.append(done)) == len(BODY)
    assert sink.getvalue() == BODY
    assert steps[-1] == len(BODY) and len(steps) > 2  # progress as it came, in chunks
    assert seen[0]["Authorization"] == "Bearer the-token"


@pytest.mark.parametrize("pin", [None, ":".join(["AB"] * 32)])
def test_an_unconfirmed_certificate_never_sees_the_request_nor_the_token(
        https: tuple[int, str, list[dict[str, str]]], pin: str | None) -> None:
    port, fingerprint, seen = https
    server = FileServer(f"wss://127.0.0.1:{port}", "the-token", pin)
    with pytest.raises(Untrusted) as refused:
        fetch(server, file_path("abc"), io.BytesIO())
    assert refused.value.presented == fingerprint
    assert seen == []  # not a byte of the request: no token crossed


def test_a_fetch_resumes_with_range_and_a_missing_file_is_said_in_words(
        https: tuple[int, str, list[dict[str, str]]]) -> None:
    port, fingerprint, seen = https
    server = FileServer(f"wss://127.0.0.1:{port}", "t", fingerprint)
    sink = io.BytesIO(BODY[:1000])
    sink.seek(1000)
    assert fetch(server, file_path("abc"), sink, offset=1000) == len(BODY) - 1000
    assert sink.getvalue() == BODY and seen[-1]["Range"] == "bytes=1000-"
    with pytest.raises(FetchError) as missing:
        fetch(server, file_path("nope"), io.BytesIO())
    assert missing.value.status == 404 and "gone" in missing.value.words


def test_ids_cannot_walk_out_of_files() -> None:
    assert file_path("../admin") == "/files/..%2Fadmin"
    assert file_path("x1", thumbnail=True) == "/files/x1/thumbnail"


def test_a_download_cut_midway_resumes_from_where_it_stopped(
        https: tuple[int, str, list[dict[str, str]]]) -> None:
    port, fingerprint, seen = https
    server = FileServer(f"wss://127.0.0.1:{port}", "t", fingerprint)
    sink = io.BytesIO()
    with pytest.raises(FetchError):
        fetch(server, file_path("cut"), io.BytesIO())  # alone, it fails
    assert fetch_resuming(server, file_path("cut"), sink) == len(BODY)
    assert sink.getvalue() == BODY
    assert seen[-1]["Range"] == "bytes=100000-"
