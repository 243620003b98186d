"""What differs when several server processes serve the same rooms, behind one interface.

One process (``LocalBroker``) gets every event at once and in order, and is
the only one counting members: ``OneProcess`` hands the events the
``VersionGate`` lets through straight to the room's local members, and a user
leaves when their last local connection does. Several processes
(``RedisBroker``) may bring events out of order or miss some, and count
members together: ``SeveralProcesses`` first puts each room's events in seq
order (``RoomSequencer``, filling gaps from the store), and asks the shared
presence who is in a room and whether a user's entering or leaving is news.

Either hands every stored event that passes the gate to ``Activity.offer`` too
(``pass_on``), for the connections outside its room: with several processes
before the sequencer, which drops the events of rooms with no member here.

``cluster_for`` picks one when the ``ChatService`` is built; the rules call the
``Cluster`` interface and never ask which it is. Either is also the broker's
``BrokerListener`` (``LocalBroker`` never calls it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from multichat.protocol import events, frames
from multichat.protocol.codes import MsgType
from multichat.server.broker import SharedPresence
from multichat.server.chat.sequencer import RoomSequencer
from multichat.server.chat.session import Session
from multichat.server.chat.version_gate import Onward
from multichat.server.chat.wire import event_frame
from multichat.server.store.repository import now_ms

if TYPE_CHECKING:
    from multichat.server.chat.service import ChatService

# How a typing notice's bytes begin (``events.typing``, encoded): the fan-out tells it
# from ENTER/LEAVE notices by this, to leave out the typist's own connections.
_TYPING_PREFIX = b'{"typing":'


class Cluster(Protocol):
    """The part of the rules that depends on how many processes serve the rooms."""

    # Where the VersionGate hands the events it lets through.
    onward: Onward

    async def enter(self, session: Session, room_id: int,
                    first_here: bool) -> tuple[bool, list[str]]:
        """The session was put in the room (``first_here``: as its user's first local
        connection there). Returns whether to announce ENTER, and the room's members."""
        ...

    def left(self, room_id: int, username: str) -> None:
        """The user's last local connection left the room."""

    def publish_notice(self, room_id: int, username: str, kind: MsgType) -> None:
        """Publish an ENTER or LEAVE notice to the room's members on every process."""

    def publish_typing(self, room_id: int, username: str) -> None:
        """Publish a typing notice to the room's members on every process but the typist's
        own connections."""

    def resync(self) -> None:
        """Events may have been missed: every watched room is refilled from the store."""

    def changed(self) -> None:
        """Another process changed users, rooms or tokens: reconcile without waiting to poll."""

    def departed(self, room_id: int, username: str) -> None:
        """No process has the user in the room any more: announce it."""

    def to_user(self, user_id: int, data: bytes) -> None:
        """Another process sent a frame to every connection of a user: hand it to ours."""

    async def close(self) -> None: ...


def cluster_for(chat: ChatService) -> Cluster:
    """One process, or several, as the chat's broker says."""
    broker = chat.broker
    shared = broker.presence
    if broker.ordered and shared is None:
        return OneProcess(chat)
    if broker.ordered or shared is None:
        raise ValueError("a broker between processes shares presence and leaves order to "
                         "the chat layer; one for a single process does neither")
    return SeveralProcesses(chat, shared)


class OneProcess:
    """This process alone serves the rooms: its presence is the room's, its events in order."""

    def __init__(self, chat: ChatService) -> None:
        self._chat = chat
        self._presence = chat.presence
        self.onward: Onward = self.pass_on

    def pass_on(self, room_id: int, seq: int | None, data: bytes) -> None:
        """What the gate lets through: to the room's members, then to those outside it."""
        self.deliver(room_id, seq, data)
        if seq is not None:
            self._chat.activity.offer(room_id, seq, data)

    def deliver(self, room_id: int, seq: int | None, data: bytes) -> None:
        """Fan-out: the same bytes to every local member of the room (no per-member work)."""
        if seq is None and data.startswith(_TYPING_PREFIX):
            self._deliver_typing(room_id, data)
            return
        delivery = (room_id, seq, data)
        for member in self._presence.sessions(room_id):
            member.deliver(delivery)

    def _deliver_typing(self, room_id: int, data: bytes) -> None:
        """A typing notice: to every local member but the typist's own connections."""
        frame = frames.decode_frame(data)
        if not isinstance(frame, frames.Typing):  # pragma: no cover - we encoded it
            return
        delivery = (room_id, None, data)
        for member in self._presence.sessions(room_id):
            if member.user is not None and member.user.username != frame.username:
                member.deliver(delivery)

    async def enter(self, session: Session, room_id: int,
                    first_here: bool) -> tuple[bool, list[str]]:
        return first_here, self._presence.usernames(room_id)

    def left(self, room_id: int, username: str) -> None:
        self.publish_notice(room_id, username, MsgType.LEAVE)

    def publish_notice(self, room_id: int, username: str, kind: MsgType) -> None:
        frame = events.room_event(room_id=room_id, message=None, username=username,
                                  msg_type=kind, ts_ms=now_ms())
        chat = self._chat
        chat.broker.publish(room_id, None, events.encode(frame), chat.reconciler.gate.applied)

    def publish_typing(self, room_id: int, username: str) -> None:
        chat = self._chat
        data = events.encode(events.typing(room_id, username))
        chat.broker.publish(room_id, None, data, chat.reconciler.gate.applied)

    def resync(self) -> None:
        pass  # one process misses nothing

    def changed(self) -> None:
        self._chat.reconciler.request()

    def departed(self, room_id: int, username: str) -> None:
        self.publish_notice(room_id, username, MsgType.LEAVE)

    def to_user(self, user_id: int, data: bytes) -> None:
        self._chat.read_markers.to_user(user_id, data)

    async def close(self) -> None:
        pass


class SeveralProcesses(OneProcess):
    """Other processes serve the rooms too: shared presence, each room's events sequenced."""

    def __init__(self, chat: ChatService, shared: SharedPresence) -> None:
        super().__init__(chat)
        self._shared = shared
        self.sequencer = RoomSequencer(self.deliver, self._stored_events)

    def pass_on(self, room_id: int, seq: int | None, data: bytes) -> None:
        """To the sequencer (for the members here), and to activity, which the sequencer
        would not reach for rooms with no member on this process."""
        self.sequencer.offer(room_id, seq, data)
        if seq is not None:
            self._chat.activity.offer(room_id, seq, data)

    async def enter(self, session: Session, room_id: int,
                    first_here: bool) -> tuple[bool, list[str]]:
        """Learn the room's order (from the store) and its members (from the shared presence).

        The session holds the room's events meanwhile, so the join reply and the
        members frame still come first and nothing is missed.
        """
        assert session.user is not None
        username = session.user.username
        chat, sequencer = self._chat, self.sequencer
        if not sequencer.watching(room_id):
            sequencer.open(room_id)  # events from now on are held until the baseline
            sequencer.baseline(room_id, await chat.db.run(chat.store.last_seq, room_id))
        announce = first_here and await self._shared.enter(room_id, username)
        names = await self._shared.members(room_id)
        if names is None or username not in names:  # the shared view is behind, or down
            names = sorted({*(names or ()), *self._presence.usernames(room_id)})
        return announce, names

    def left(self, room_id: int, username: str) -> None:
        # Announced by ``departed`` once no other process has the user there.
        self._shared.leave(room_id, username)
        if not self._presence.sessions(room_id):
            self.sequencer.close_room(room_id)

    def resync(self) -> None:
        self.sequencer.resync()

    async def close(self) -> None:
        await self.sequencer.close()

    async def _stored_events(self, room_id: int, after: int, limit: int) -> list[tuple[int, bytes]]:
        """Stored events of a room after a seq, encoded: the sequencer fills gaps with them."""
        chat = self._chat
        page = await chat.db.run(chat.store.messages_after, room_id, after, limit)
        # These bypass the gate: the changes they may follow reach the sessions first.
        await chat.reconciler.settle()
        return [(message.seq, events.encode(event_frame(message))) for message in page]
