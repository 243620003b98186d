"""A WebSocket connection as the chat layer's ``Peer``.

Frames are written synchronously (as ``websockets.broadcast`` does), so every
frame to one client goes out in the order the rules produced it. There is no
backpressure on that path, so the peer watches its own backlog: a client
whose unsent output passes ``max_output`` has stopped reading, and is dropped
rather than allowed to grow the server's memory; it catches up by seq when it
reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

log = logging.getLogger(__name__)


class WebSocketPeer:
    __slots__ = ("_closing", "_max_output", "_tasks", "address", "connection")

    def __init__(self, connection: ServerConnection, max_output: int) -> None:
        self.connection = connection
        self._max_output = max_output
        remote = connection.remote_address
        self.address = str(remote[0]) if remote else "unknown"
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, data: bytes) -> None:
        connection = self.connection
        if self._closing or connection.protocol.state is not State.OPEN:
            return
        connection.protocol.send_text(data)
        connection.send_data()
        if connection.transport.get_write_buffer_size() > self._max_output:
            log.warning("dropping %s: it stopped reading (output over %d bytes)",
                        self.address, self._max_output)
            self._closing = True
            # A close frame would wait behind the backlog the client is not reading.
            connection.transport.abort()

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
