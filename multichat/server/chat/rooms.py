"""Rooms and membership: the room list, join (with catch-up), leave, presence notices.

A room is judged by the store as it is now (``Reconciler.settle``): a join, a
room list or a catch-up page read alongside a change waits for that change to
reach the sessions first. A join puts the session in the room holding the
room's live events, sends the join reply and members, catches up from
``since`` a page at a time, then releases the held events it did not already
send: nothing is missed or repeated. Whatever differs with several processes
(members, order) is the ``Cluster``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from multichat.protocol import commands as cmd
from multichat.protocol import events
from multichat.protocol.codes import ErrorCode, MsgType
from multichat.server.chat.errors import ChatError
from multichat.server.chat.session import Session
from multichat.server.chat.wire import event_frame, room_list_frame
from multichat.server.store.records import Room

if TYPE_CHECKING:
    from multichat.server.chat.service import ChatService

# Events per query and per write burst when a join catches up with `since`.
CATCH_UP_PAGE = 200


class Rooms:
    """Which rooms a session may see and is in."""

    def __init__(self, chat: ChatService) -> None:
        self._chat = chat

    async def list_rooms(self, session: Session, command: cmd.ListRooms) -> None:
        chat = self._chat
        user = session.user
        assert user is not None
        entries = await chat.db.run(chat.store.room_list, user.id)
        await chat.reconciler.settle()
        user = session.user or user  # its rights as the settled store has them
        session.send(events.rooms(room_list_frame(entries, user), command.ref))

    async def join(self, session: Session, command: cmd.Join) -> None:
        chat = self._chat
        self.spend_join(session)
        limit = chat.config.max_rooms_per_connection
        if command.room not in session.rooms and len(session.rooms) >= limit:
            raise ChatError(ErrorCode.LIMIT_REACHED,
                            f"at most {limit} open room(s) per connection; leave one first")
        while True:
            epoch = chat.reconciler.epoch
            room = await self.accessible_room(session, command.room)
            if epoch == chat.reconciler.epoch:
                break
            # A reconcile applied a change while we read: it could not move us out of a
            # room we were not in yet, so judge again by the store as it is now.
        if session.user is None:
            return  # revoked while the room was looked up
        try:
            await self._enter(session, room, command)
        except BaseException:
            # Half a join (held events, a failed catch-up) would leave the member deaf
            # to the room: undo it, say so, and let the error reach the client.
            if room.id in session.rooms:
                self.leave_room(session, room.id)
                session.send(events.left(room.id))
            raise

    async def _enter(self, session: Session, room: Room, command: cmd.Join) -> None:
        """Put the session in the room; its live events wait until the reply and backlog."""
        assert session.user is not None
        cluster = self._chat.cluster
        session.hold(room.id)
        first_here = False
        if room.id not in session.rooms:
            session.rooms.add(room.id)
            first_here = self._chat.presence.add(room.id, session)
        announce, members = await cluster.enter(session, room.id, first_here)
        if room.id not in session.rooms:
            return  # left (or was removed) meanwhile
        session.send(events.joined(room.id, room.title, command.ref))
        session.send(events.members(room.id, members))
        if announce:
            cluster.publish_notice(room.id, session.user.username, MsgType.ENTER)
        last = 0
        if command.since is not None:
            last = await self._catch_up(session, room.id, command.since)
        session.release(room.id, last)

    async def _catch_up(self, session: Session, room_id: int, since: int) -> int:
        """Send every stored event after ``since``, a page at a time; return the last seq."""
        chat = self._chat
        last = since
        while room_id in session.rooms:
            page, changes = await chat.db.run(chat.store.messages_after_as_of, room_id, last,
                                              CATCH_UP_PAGE)
            await chat.reconciler.settle_at(changes)
            if room_id not in session.rooms:
                break  # a change read with the page took the room away
            if page:  # a page in one write
                session.peer.send_frames([events.encode(event_frame(m)) for m in page])
            if page:
                last = page[-1].seq
            if len(page) < CATCH_UP_PAGE:
                break
            await session.peer.drain()
        return last

    async def leave(self, session: Session, command: cmd.Leave) -> None:
        self.spend_join(session)
        if command.room not in session.rooms:
            # Leaving a room one is not in is harmless, but the room must exist.
            await self.accessible_room(session, command.room)
        self.leave_room(session, command.room)
        session.send(events.left(command.room, command.ref))

    def leave_room(self, session: Session, room_id: int) -> None:
        if room_id not in session.rooms:
            return
        session.rooms.discard(room_id)
        session.release(room_id, 0)
        if self._chat.presence.remove(room_id, session):
            assert session.user is not None
            self._chat.cluster.left(room_id, session.user.username)

    def leave_all(self, session: Session) -> None:
        for room_id in list(session.rooms):
            self.leave_room(session, room_id)

    async def accessible_room(self, session: Session, room_id: int) -> Room:
        """The room, if the session may see it as of the store now (changes applied)."""
        chat = self._chat
        if room_id:
            room, changes = await chat.db.run(chat.store.room_as_of, room_id)
            await chat.reconciler.settle_at(changes)
        else:
            room = None
            await chat.reconciler.settle()
        self.check_access(session, room)
        assert room is not None
        return room

    @staticmethod
    def check_access(session: Session, room: Room | None) -> None:
        """Refuse a room the session may not see. A direct conversation one is not in
        is answered exactly as a room that does not exist (PROTOCOL.md)."""
        user = session.user
        if user is None:
            raise ChatError(ErrorCode.USER_HAS_TO_LOGIN, "log in first")
        if room is None or (room.is_direct and not room.visible_to(user)):
            raise ChatError(ErrorCode.ROOM_INVALID, "no such room")
        if not room.visible_to(user):
            raise ChatError(ErrorCode.ROOM_ACCESS_DENIED, "this room is for staff only")

    @staticmethod
    def spend_join(session: Session) -> None:
        """Joins and leaves tell every member of the room: a user's are rate-limited."""
        if session.join_bucket is not None and not session.join_bucket.take():
            raise ChatError(ErrorCode.RATE_LIMITED,
                            "you are joining and leaving rooms too fast; slow down")
