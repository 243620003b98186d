"""Downloads that are asked for and never read cannot make the server hold more than
``--max-download-bytes-in-flight``: past it, 503 with Retry-After, until they are read."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.conftest import ClientFactory
from tests.helpers.files import fetch, uploaded
from tests.helpers.servers import ALICE
from tests.helpers.timing import TIMEOUT
from tests.server.files.conftest import UPLOAD_TIMEOUT

MiB = 2**20
# Bigger than what the kernel's buffers take of an answer nobody reads (4 MiB of send
# buffer at most, and the reader's receive buffer made tiny): most of it stays queued
# in the server, as it would for a client that stalls on purpose.
FILE_BYTES = 12 * MiB
BUDGET = 16 * MiB


@pytest.fixture
def server_config(tmp_path: Path) -> ServerConfig:
    return ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "server",
                        poll_interval=0.2, advertise=False, upload_timeout=UPLOAD_TIMEOUT,
                        max_download_bytes_in_flight=BUDGET)


async def ask_and_stall(port: int, path: str, token: str) -> socket.socket:
    """GET ``path`` and read only the status line: the body waits in the server."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(TIMEOUT)
    await asyncio.to_thread(sock.connect, ("127.0.0.1", port))
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    sock.sendall(request.encode())
    first = await asyncio.to_thread(sock.recv, 12)
    assert first.startswith(b"HTTP/1.1 200"), first
    return sock


def read_to_the_end(sock: socket.socket) -> int:
    total = 0
    while chunk := sock.recv(1 << 20):
        total += len(chunk)
    sock.close()
    return total


async def test_a_stalled_download_holds_the_budget_until_it_is_read(
    server: ChatServer, connect: ClientFactory
) -> None:
    alice = await connect(ALICE)
    token = str(alice.seen[0]["login"]["token"])
    data = os.urandom(FILE_BYTES)
    file = await uploaded(alice, "big.bin", data)
    path = f"/files/{file['id']}"

    stalled = await ask_and_stall(server.port, path, token)
    refused = await fetch(server.port, path, token)
    assert refused.status == 503
    assert refused.headers["retry-after"] == "5"
    # What fits beside the stalled one still goes: the limit is on bytes, not requests.
    small = await fetch(server.port, path, token, Range=f"bytes=0-{MiB - 1}")
    assert small.status == 206 and small.body == data[:MiB]

    assert await asyncio.to_thread(read_to_the_end, stalled) > FILE_BYTES
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while (again := await fetch(server.port, path, token)).status == 503:
        assert loop.time() < deadline, "the budget was never given back"
        await asyncio.sleep(0.05)  # the server closes the read connection soon after
    assert again.status == 200 and again.body == data
