"""The interface every broker implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# deliver(room_id, seq or None, frame bytes): hands one event to local members.
DeliverFn = Callable[[int, int | None, bytes], None]


class Broker(Protocol):
    async def start(self, deliver: DeliverFn) -> None:
        """Begin delivering published events to this process's members via ``deliver``."""
        ...

    def publish(self, room_id: int, seq: int | None, data: bytes) -> None:
        """Send one room event to every process, this one included. Never blocks."""
        ...

    async def close(self) -> None: ...
