"""The WebSocket edge: frames in, chat calls, frames out. No rule lives here."""

from multichat.server.net.server import ChatServer

__all__ = ["ChatServer"]
