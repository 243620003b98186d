"""The WebSocket edge: frames in, chat calls, frames out. No rule lives here.

``ChatServer`` and ``ServerError`` are what a program hosting a server (the
desktop app) uses of the server, with ``multichat.server.config``.
"""

from multichat.server.net.server import ChatServer, ServerError

__all__ = ["ChatServer", "ServerError"]
