"""Messages written but not yet confirmed stored by the server.

Each gets a ``client_id`` when written. It is sent when the room is open and
sent again after every reconnect until the server's room event carrying that
``client_id`` comes back; the server stores a (user, client_id) once, so a
message is never stored twice however often it is resent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PendingMessage:
    client_id: str
    room: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"client_id": self.client_id, "message": self.text}


class Outbox:
    def __init__(self) -> None:
        self._pending: dict[str, PendingMessage] = {}  # insertion order = writing order

    def add(self, room: str, text: str) -> PendingMessage:
        message = PendingMessage(client_id=uuid.uuid4().hex, room=room, text=text)
        self._pending[message.client_id] = message
        return message

    def get(self, client_id: str) -> PendingMessage | None:
        return self._pending.get(client_id)

    def remove(self, client_id: str) -> PendingMessage | None:
        return self._pending.pop(client_id, None)

    def for_room(self, room: str) -> list[PendingMessage]:
        return [m for m in self._pending.values() if m.room == room]

    def drop_room(self, room: str) -> list[PendingMessage]:
        dropped = self.for_room(room)
        for message in dropped:
            del self._pending[message.client_id]
        return dropped

    def __len__(self) -> int:
        return len(self._pending)
