"""A WebSocket connection as the chat layer's ``Peer``.

Frames are written synchronously (as ``websockets.broadcast`` does), so every
frame to one client goes out in the order the rules produced it. There is no
backpressure on that path, so the peer watches its own backlog: a client
whose unsent output passes ``max_output`` has stopped reading, and is dropped
rather than allowed to grow the server's memory; it catches up by seq when it
reconnects.

A room event is framed once for all its recipients: server frames are not
masked, so on a connection without extensions (no compression) the bytes on
the wire are the same for every member. ``SharedFraming`` remembers the last
frame it built; a fan-out hands the same ``bytes`` object to each peer in
turn, so only the first one pays for framing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State

log = logging.getLogger(__name__)


def remote_host(connection: ServerConnection) -> str:
    """The client's address, for limits, throttling and logs."""
    remote = connection.remote_address
    return str(remote[0]) if remote else "unknown"


class SharedFraming:
    """The wire form of the text frame built last; one per server (its loop's thread)."""

    __slots__ = ("_data", "_wire")

    def __init__(self) -> None:
        self._data = b""
        self._wire = Frame(Opcode.TEXT, b"").serialize(mask=False)

    def wire(self, data: bytes) -> bytes:
        if data is not self._data:  # identity: a fan-out passes one object N times
            self._wire = Frame(Opcode.TEXT, data).serialize(mask=False)
            self._data = data
        return self._wire


class WebSocketPeer:
    __slots__ = ("_closing", "_framing", "_max_output", "_tasks", "address", "connection")

    def __init__(
        self, connection: ServerConnection, max_output: int, framing: SharedFraming
    ) -> None:
        self.connection = connection
        self._max_output = max_output
        # Extensions (compression) make each connection's frames its own.
        self._framing = None if connection.protocol.extensions else framing
        self.address = remote_host(connection)
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, data: bytes) -> None:
        connection = self.connection
        if self._closing or connection.protocol.state is not State.OPEN:
            return
        transport = connection.transport
        if self._framing is not None:
            transport.write(self._framing.wire(data))
        else:
            connection.protocol.send_text(data)
            connection.send_data()
        if transport.get_write_buffer_size() > self._max_output:
            log.warning("dropping %s: it stopped reading (output over %d bytes)",
                        self.address, self._max_output)
            self._closing = True
            # A close frame would wait behind the backlog the client is not reading.
            transport.abort()

    async def drain(self) -> None:
        if not self._closing and self.connection.protocol.state is State.OPEN:
            # On a close, the connection's handler sees it and cleans up.
            with contextlib.suppress(ConnectionError, ConnectionClosed):
                await self.connection.drain()

    def close(self, code: int, reason: str) -> None:
        if self._closing:
            return
        self._closing = True
        task = asyncio.create_task(self.connection.close(code, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
