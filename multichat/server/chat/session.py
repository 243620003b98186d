"""A client's connection as the rules see it: who it is, which rooms it has open.

The chat layer talks to the socket only through ``Peer``; the ``net`` layer
provides one per WebSocket connection (tests provide a recording one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from multichat.protocol import events
from multichat.protocol.events import Frame
from multichat.server.chat.limits import TokenBucket
from multichat.server.store.records import User

# A room event as it travels: its room, its seq (None for ENTER/LEAVE) and its bytes.
Delivery = tuple[int, int | None, bytes]


class Peer(Protocol):
    """The sending half of a connection."""

    @property
    def address(self) -> str:
        """The client's network address, for throttling and logs."""
        ...

    def send(self, data: bytes) -> None:
        """Queue one text frame without waiting.

        A peer whose unsent output passes its bound is disconnected instead:
        its client catches up with ``since`` when it comes back.
        """
        ...

    def send_frames(self, datas: Sequence[bytes]) -> None:
        """Queue several text frames, in this order, in one write (``send`` for each,
        but one system call: activity for many rooms at once)."""
        ...

    def send_soon(self, data: bytes) -> None:
        """Queue a frame that may wait a moment (a presence notice): ``send``, but under
        a burst it may go out a little later, with the next frame sent (never after it)."""
        ...

    async def drain(self) -> None:
        """Wait until the queued output is down to a reasonable size."""
        ...

    def close(self, code: int, reason: str) -> None:
        """Close the connection (in the background)."""
        ...


class Session:
    """One connection's state. Identity-hashed: two sessions of one user are distinct.

    A logged-in session *is* the token it logged in with: ``token_hash`` is
    what the server checks it by, never an id a database may hand out again.
    """

    __slots__ = ("_after_writes", "_held", "_writes", "command_bucket", "join_bucket", "peer",
                 "rooms", "send_bucket", "token_hash", "user", "user_bucket")

    def __init__(self, peer: Peer, send_bucket: TokenBucket, command_bucket: TokenBucket) -> None:
        self.peer = peer
        self.send_bucket = send_bucket
        self.command_bucket = command_bucket
        self.user: User | None = None
        self.token_hash: str | None = None
        # Shared by the user's sessions: sends, and joins and leaves (which others see).
        self.user_bucket: TokenBucket | None = None
        self.join_bucket: TokenBucket | None = None
        self.rooms: set[int] = set()
        # Live events of rooms being caught up, held until the backlog has gone out.
        self._held: dict[int, list[Delivery]] = {}
        # Messages and changes handed to the writer and not yet stored or refused, and
        # the frames (pongs) that wait for them.
        self._writes = 0
        self._after_writes: list[bytes] = []

    @property
    def address(self) -> str:
        return self.peer.address

    def send(self, frame: Frame) -> None:
        self.peer.send(events.encode(frame))

    def deliver(self, delivery: Delivery) -> None:
        """Hand over a room event, unless its room is being caught up (then hold it)."""
        if self._held:
            held = self._held.get(delivery[0])
            if held is not None:
                held.append(delivery)
                return
        if delivery[1] is None:  # a notice (ENTER, LEAVE, typing): it may wait a moment
            self.peer.send_soon(delivery[2])
        else:
            self.peer.send(delivery[2])

    def writing(self) -> None:
        """A message or change of this session went to the writer."""
        self._writes += 1

    def written(self) -> None:
        """One of them was stored or refused: what waited for the last goes out."""
        self._writes -= 1
        if self._writes <= 0:
            self._writes = 0
            waiting, self._after_writes = self._after_writes, []
            for data in waiting:
                self.peer.send(data)

    def send_after_writes(self, frame: Frame) -> None:
        """Send ``frame`` once everything this session sent before is stored or refused:
        a ``pong`` then means what came before it was carried out."""
        data = events.encode(frame)
        if self._writes:
            self._after_writes.append(data)
        else:
            self.peer.send(data)

    def hold(self, room_id: int) -> None:
        self._held[room_id] = []

    def release(self, room_id: int, after_seq: int) -> None:
        """Send the held events the catch-up did not already send (seq > after_seq)."""
        datas = [data for _, seq, data in self._held.pop(room_id, ())
                 if seq is None or seq > after_seq]
        if datas:
            self.peer.send_frames(datas)  # in one write

    def __repr__(self) -> str:
        who = self.user.username if self.user else "anonymous"
        return f"<Session {who} from {self.address}>"
