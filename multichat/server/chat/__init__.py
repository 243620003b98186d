"""The chat rules, apart from any socket: sessions, rooms, messages, admin, limits."""

from multichat.server.chat.errors import ChatError
from multichat.server.chat.service import ChatService
from multichat.server.chat.session import Peer, Session

__all__ = ["ChatError", "ChatService", "Peer", "Session"]
