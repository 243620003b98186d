"""Connections the server has not accepted yet wait in the kernel's queue (--listen-backlog).

When every client comes back at once (a restart), the event loop accepts a
few dozen a turn; the rest must wait in the listen queue. Past a full queue
the kernel drops a new connection's SYN and its client waits 1 s, 3 s ...
to try again: asyncio's default queue of 100 did that to a storm of 10,000.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from multichat.server.chat.passwords import Passwords
from multichat.server.net import ChatServer
from tests.helpers.servers import loopback_config
from tests.helpers.timing import TIMEOUT

# Past asyncio's default queue (100) and the accepts of one turn, within the setting.
WAITING = 300


async def test_a_storm_of_connections_waits_in_the_listen_queue_then_is_served(
    tmp_path: Path, passwords: Passwords,
) -> None:
    config = loopback_config(tmp_path, listen_backlog=WAITING + 100)
    async with ChatServer(config, passwords=passwords) as server:
        # The event loop is held by this test while it connects: it accepts none of
        # them, so the kernel must complete and hold every one until it does.
        waiting = [socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
                   for _ in range(WAITING)]
        try:
            last = waiting[-1]
            last.setblocking(False)
            reader, writer = await asyncio.open_connection(sock=last)
            writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         b"Sec-WebSocket-Version: 13\r\n\r\n")
            status = await asyncio.wait_for(reader.readline(), TIMEOUT)
            assert status.startswith(b"HTTP/1.1 101 ")
            writer.close()
        finally:
            for sock in waiting:
                sock.close()
