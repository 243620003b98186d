"""The interface every broker implements.

``LocalBroker`` (one process) delivers every event at once and in order, and
has no presence of its own: the chat layer counts members itself. A broker
between processes (``RedisBroker``) may hand events over out of seq order,
may miss some while its connection is down (it then says ``resync``), shares
room presence between processes and carries "something changed" notices, and
frames for one user's connections on other processes (``publish_user``: read
markers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# deliver(room_id, seq or None, frame bytes, version): hands one event to local members.
# ``version`` is the store's change counter the event was made at (its message's
# transaction's, for a stored event): the receiving process delivers it only once
# its sessions reflect that version, so no change is overtaken by an event.
DeliverFn = Callable[[int, int | None, bytes, int], None]


class BrokerListener(Protocol):
    """What a broker between processes tells the chat layer, besides events."""

    def resync(self) -> None:
        """Events may have been missed (a reconnect): fill every room from the store."""

    def changed(self) -> None:
        """Another process changed users, rooms or tokens: reconcile now."""

    def departed(self, room_id: int, username: str) -> None:
        """A dead process's user was the room's last connection of that user: announce LEAVE."""

    def to_user(self, user_id: int, data: bytes) -> None:
        """Another process sent a frame to every connection of one user (``publish_user``)."""


class SharedPresence(Protocol):
    """Room members counted over every process: a user enters once, leaves once.

    Each process reports a (room, user) when its first local connection of
    that user enters the room and when its last one leaves.
    """

    async def enter(self, room_id: int, username: str) -> bool:
        """Count this process in; True when no other process had the user in the room."""
        ...

    def leave(self, room_id: int, username: str) -> None:
        """Count this process out (queued in call order, never blocks); a last leave is
        announced through the listener's ``departed``."""

    async def members(self, room_id: int) -> list[str] | None:
        """Usernames in the room on any process, or None when that cannot be known now."""
        ...


class Broker(Protocol):
    @property
    def ordered(self) -> bool:
        """False when events may arrive out of seq order or go missing (between processes):
        the chat layer then puts each room's events in order and fills gaps from the store."""
        ...

    @property
    def presence(self) -> SharedPresence | None:
        """Presence shared between processes, or None when the chat layer's own suffices."""
        ...

    async def start(self, deliver: DeliverFn, listener: BrokerListener | None = None) -> None:
        """Begin delivering published events to this process's members via ``deliver``."""
        ...

    def publish(self, room_id: int, seq: int | None, data: bytes, version: int) -> None:
        """Send one room event to every process, this one included. Never blocks."""
        ...

    def notify_changes(self) -> None:
        """Tell the other processes that users, rooms or tokens changed."""

    def publish_user(self, user_id: int, data: bytes) -> None:
        """Send one frame to every connection of one user on the *other* processes (their
        listener's ``to_user``); the caller delivers to this process's own. Never blocks.

        Like room events, a notification: a process that misses one (Redis down) leaves
        its connections to read the store again (the room list's ``read_seq``)."""

    async def close(self) -> None: ...
