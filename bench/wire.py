"""A lean WebSocket client for the load generator: just enough RFC 6455, no more.

The generator must stay cheaper than the server it measures, or the figures
measure the generator. The ``websockets`` client spends about as much CPU per
received frame as the server spends per delivery (a future, a queue entry and
a UTF-8 decode each); this one hands each text frame to a callback as a slice
of its receive buffer, so counting a delivery costs a few byte operations.

What it leaves out, on purpose: compression (not offered), fragmentation (the
servers measured send each event as one frame), and frame masking randomness
(the mask key is zero: RFC 6455 wants it unpredictable to protect proxies,
which there are none of on loopback; servers cannot tell).
"""

from __future__ import annotations

import asyncio
import base64
import os
import typing
from collections.abc import Callable
from urllib.parse import urlsplit

# on_text(buffer, start, end): the payload is buffer[start:end], valid during the call only.
TextHandler = Callable[[bytearray, int, int], None]

_OP_TEXT, _OP_CLOSE, _OP_PING, _OP_PONG = 0x1, 0x8, 0x9, 0xA
_MASK_BIT = 0x80
_ZERO_MASK = b"\x00\x00\x00\x00"
# Seconds to wait for the server's half of the closing handshake.
CLOSE_TIMEOUT = 10.0


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final client frame, masked with the zero key (so the payload is unchanged)."""
    length = len(payload)
    if length < 126:
        head = bytes((0x80 | opcode, _MASK_BIT | length))
    elif length < 2**16:
        head = bytes((0x80 | opcode, _MASK_BIT | 126)) + length.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, _MASK_BIT | 127)) + length.to_bytes(8, "big")
    return head + _ZERO_MASK + payload


class LeanClient(asyncio.Protocol):
    """One connection. ``await LeanClient.connect(url, on_text)``, then ``send_text``."""

    def __init__(self, on_text: TextHandler) -> None:
        self.on_text = on_text
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buffer = bytearray()
        self._handshaking = True

    @classmethod
    async def connect(cls, url: str, on_text: TextHandler,
                      source: str | None = None) -> LeanClient:
        """Open the connection and its handshake; ``source`` is the local address to
        connect from (another of 127.0.0.0/8, say: each has its own ephemeral ports)."""
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        loop = asyncio.get_running_loop()
        _, client = await loop.create_connection(
            lambda: cls(on_text), host, port,
            local_addr=(source, 0) if source is not None else None)
        key = base64.b64encode(os.urandom(16)).decode()
        assert client.transport is not None
        client.transport.write(
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        await client.opened
        return client

    def send_text(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(client_frame(_OP_TEXT, text.encode()))

    async def close(self) -> None:
        """The closing handshake: our close frame, the server's, then TCP's close."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(_OP_CLOSE, (1000).to_bytes(2, "big")))
            try:
                await asyncio.wait_for(asyncio.shield(self.closed), CLOSE_TIMEOUT)
            except (TimeoutError, ConnectionError):
                self.transport.abort()

    # -- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP transport, asyncio's or uvloop's (which is not an asyncio.Transport subclass).
        self.transport = typing.cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        for future in (self.opened, self.closed):
            if not future.done():
                future.set_result(None) if exc is None else future.set_exception(exc)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if self._handshaking:
            end = buffer.find(b"\r\n\r\n")
            if end < 0 or self.opened.done():  # incomplete, or refused (the body follows)
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            if b" 101 " not in status:
                self.opened.set_exception(ConnectionError(status.decode(errors="replace")))
                assert self.transport is not None
                self.transport.close()
                return
            del buffer[: end + 4]
            self._handshaking = False
            self.opened.set_result(None)
        self._parse(buffer)

    def _parse(self, buffer: bytearray) -> None:
        position, size = 0, len(buffer)
        while size - position >= 2:
            opcode, length = buffer[position] & 0x0F, buffer[position + 1] & 0x7F
            start = position + 2
            if length >= 126:
                extra = 2 if length == 126 else 8
                if start + extra > size:
                    break
                length = int.from_bytes(buffer[start : start + extra], "big")
                start += extra
            end = start + length
            if end > size:
                break
            if opcode == _OP_TEXT:
                self.on_text(buffer, start, end)
            elif opcode == _OP_PING:
                assert self.transport is not None
                self.transport.write(client_frame(_OP_PONG, bytes(buffer[start:end])))
            elif opcode == _OP_CLOSE and self.transport is not None:
                self.transport.close()
            position = end
        del buffer[:position]
