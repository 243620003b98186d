"""Who is in which room on this server, counted so a user enters and leaves once.

A user with several connections in a room is one member: they enter with the
first connection and leave with the last.
"""

from __future__ import annotations

from collections.abc import Collection

from multichat.server.chat.session import Session


class RoomPresence:
    def __init__(self) -> None:
        self._sessions: dict[int, dict[Session, None]] = {}
        # room -> user id -> (username, open connections)
        self._users: dict[int, dict[int, tuple[str, int]]] = {}

    def add(self, room_id: int, session: Session) -> bool:
        """Put a session in a room; True when its user just entered."""
        assert session.user is not None
        sessions = self._sessions.setdefault(room_id, {})
        if session in sessions:
            return False
        sessions[session] = None
        users = self._users.setdefault(room_id, {})
        name, count = users.get(session.user.id, (session.user.username, 0))
        users[session.user.id] = (name, count + 1)
        return count == 0

    def remove(self, room_id: int, session: Session) -> bool:
        """Take a session out of a room; True when its user just left."""
        assert session.user is not None
        sessions = self._sessions.get(room_id)
        if sessions is None or session not in sessions:
            return False
        del sessions[session]
        users = self._users[room_id]
        name, count = users[session.user.id]
        if count > 1:
            users[session.user.id] = (name, count - 1)
            return False
        del users[session.user.id]
        if not sessions:
            del self._sessions[room_id]
            del self._users[room_id]
        return True

    def sessions(self, room_id: int) -> Collection[Session]:
        return self._sessions.get(room_id, {}).keys()

    def usernames(self, room_id: int) -> list[str]:
        return sorted(name for name, _ in self._users.get(room_id, {}).values())
