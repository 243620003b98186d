"""An opening handshake written byte by byte, for headers no WebSocket client would send."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from tests.helpers.timing import TIMEOUT

KEY = base64.b64encode(b"0123456789abcdef").decode()
HANDSHAKE = (("Host", "127.0.0.1"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
             ("Sec-WebSocket-Key", KEY), ("Sec-WebSocket-Version", "13"))


@dataclass(frozen=True)
class Answer:
    """What the server wrote back: a status and body, or nothing before it closed."""

    status: int | None
    body: bytes = b""


def request(headers: Sequence[tuple[str, str]] = HANDSHAKE) -> bytes:
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return f"GET / HTTP/1.1\r\n{lines}\r\n".encode("latin-1")


async def send_raw(port: int, data: bytes, *, local: str = "127.0.0.1") -> Answer:
    """Connect from ``local``, write ``data``, read the answer until the server closes.

    A 101 is not read further: the connection is closed by us.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(local, 0))
    try:
        writer.write(data)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            return Answer(None)
        status = int(head.split(b" ", 2)[1])
        body = b""
        if status != 101:
            with contextlib.suppress(ConnectionResetError):
                body = await asyncio.wait_for(reader.read(), TIMEOUT)
        return Answer(status, body)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing the server logged is an error, or carries a traceback."""
    bad = [record for record in caplog.records
           if record.levelno >= logging.ERROR or record.exc_info]
    assert not bad, [record.getMessage() for record in bad]


def logged(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [record.getMessage() for record in caplog.records if text in record.getMessage()]
