"""``multichat serve``: run the server until SIGINT or SIGTERM, then shut down cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal

from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer

log = logging.getLogger("multichat.serve")


async def serve(config: ServerConfig) -> None:
    """Serve until a signal; then close connections (1001) and commit what was accepted."""
    server = ChatServer(config)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
        log.info("stopping: closing connections and committing pending messages")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await server.stop()


def run(config: ServerConfig) -> int:
    asyncio.run(serve(config))
    return 0
