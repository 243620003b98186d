"""Pings that find dead and stalled peers, with a timer per connection instead of a task.

Every ``interval`` each connection is pinged; a peer whose pong (the wait for
the ping to drain included) is later than ``timeout`` is dropped by aborting
its transport: a close frame would wait behind the backlog it does not read.

An idle connection holds only its next ``TimerHandle`` here. A task that
sleeps between pings costs a task, its coroutine frames and a sleep future
for the whole life of the connection (about 0.7 KiB; docs/benchmarks.md,
idle connections); the ping itself runs as a short task only while it waits
for the pong.

websockets' own keepalive is off (``ping_interval=None``): it waits for the
output to drain before it starts timing the pong, so a silent peer with a
backlog would never be dropped.
"""

from __future__ import annotations

import asyncio
import logging

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from multichat.server.net.peer import remote_host

log = logging.getLogger(__name__)


class Keepalive:
    """The pings of all of a server's connections."""

    def __init__(self, interval: float, timeout: float) -> None:
        self.interval = interval
        self.timeout = timeout
        # What each watched connection waits on now: its next ping, or the ping underway.
        self._pending: dict[ServerConnection, asyncio.TimerHandle | asyncio.Task[None]] = {}

    def watch(self, connection: ServerConnection) -> None:
        self._schedule(connection)

    def forget(self, connection: ServerConnection) -> None:
        pending = self._pending.pop(connection, None)
        if pending is not None:
            pending.cancel()

    def _schedule(self, connection: ServerConnection) -> None:
        loop = asyncio.get_running_loop()
        self._pending[connection] = loop.call_later(self.interval, self._ping_now, connection)

    def _ping_now(self, connection: ServerConnection) -> None:
        task = asyncio.create_task(self._ping(connection))
        self._pending[connection] = task  # referenced until done, and cancellable

    async def _ping(self, connection: ServerConnection) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await (await connection.ping())
        except TimeoutError:
            log.info("dropping %s: no pong within %g s", remote_host(connection), self.timeout)
            connection.transport.abort()
        except ConnectionClosed:
            pass
        else:
            if connection in self._pending:  # not forgotten meanwhile
                self._schedule(connection)
                return
        self._pending.pop(connection, None)
