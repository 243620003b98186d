"""Read markers: how far each user has read each room, shared by all their connections.

``read`` stores the highest seq a user marked in a room (``Store.mark_read``),
for a room the user may see, up to its newest seq; nothing answers it. When
the stored seq moved, the user's *other* connections learn it at once: those
on this process here, those on other processes through the broker's
per-user channel (``Broker.publish_user``, delivered by ``to_user``). The
room list gives each room's ``last_seq`` and this user's ``read_seq``, so a
connection that missed a push (it was offline, or Redis was down) reads the
right marker when it lists the rooms again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from multichat.protocol import commands as cmd
from multichat.protocol import events
from multichat.server.chat.session import Session

if TYPE_CHECKING:
    from multichat.server.chat.service import ChatService


class ReadMarkers:
    """The ``read`` command, and read markers pushed to a user's other connections."""

    def __init__(self, chat: ChatService) -> None:
        self._chat = chat
        # user id -> their logged-in sessions on this process (kept by Accounts.set_user)
        self._sessions: dict[int, dict[Session, None]] = {}

    def logged_in(self, user_id: int, session: Session) -> None:
        self._sessions.setdefault(user_id, {})[session] = None

    def logged_out(self, user_id: int, session: Session) -> None:
        sessions = self._sessions.get(user_id)
        if sessions is not None:
            sessions.pop(session, None)
            if not sessions:
                del self._sessions[user_id]

    async def read(self, session: Session, command: cmd.Read) -> None:
        chat = self._chat
        room = await chat.rooms.accessible_room(session, command.room)
        user = session.user
        if user is None:
            return  # revoked while the room was looked up
        moved = await chat.db.run(chat.store.mark_read, user.id, room.id, command.seq)
        if moved is None:
            return  # no further than before: nothing to tell
        data = events.encode(events.read_marker(room.id, moved.seq, moved.unread))
        self.to_user(user.id, data, besides=session)
        chat.broker.publish_user(user.id, data)

    def to_user(self, user_id: int, data: bytes, besides: Session | None = None) -> None:
        """Hand a frame to every connection of the user on this process (but ``besides``)."""
        for session in list(self._sessions.get(user_id, ())):
            if session is not besides:
                session.peer.send(data)
