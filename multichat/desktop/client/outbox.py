"""What the person did that the server has not confirmed yet: messages, edits,
deletions and reactions, in the order they were done.

Each gets a ``client_id`` when made. It goes out when its room is open, and
again after every reconnect, until the server confirms it; the server stores
a (user, client_id) once, so however often it is resent nothing is stored
twice. A message is confirmed by its room event (which carries the
``client_id``). A change is confirmed the same way or, since a reaction that
changes nothing is answered by nothing, by the answer to a ``ping`` sent right
behind it (the server carries out one connection's commands in order): once
that comes, the change was carried out or had nothing to do.

Everything leaves in the order it was made, so a change always follows the
message it targets. A change to a message still in the outbox (it has no
``seq`` yet) is worked into that message where it never left this app: an edit
rewrites the pending text, a deletion drops it, and the server never hears of
either. Once the message may have reached the server (sent on a connection
that was lost before the confirmation came), the change waits behind it
(``after``) and takes the ``seq`` from the confirmation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from multichat.protocol import commands as cmd

OutgoingCommand = cmd.Send | cmd.Edit | cmd.Delete | cmd.React


@dataclass(slots=True)
class Pending:
    """One unconfirmed command, with its ``client_id`` set."""

    client_id: str
    room: str
    command: OutgoingCommand
    sent: bool = False  # went out on some connection: the server may have it
    # A change to a message still pending: that message's client_id, until its seq is known.
    after: str | None = None
    # The ref of the ping whose answer confirms this change; None while not in flight.
    barrier: str | None = None

    @property
    def is_message(self) -> bool:
        return isinstance(self.command, cmd.Send)

    @property
    def text(self) -> str:
        return self.command.message if isinstance(self.command, cmd.Send | cmd.Edit) else ""

    def as_dict(self) -> dict[str, str]:
        return {"client_id": self.client_id, "message": self.text}


def new_client_id() -> str:
    return uuid.uuid4().hex


class Outbox:
    def __init__(self) -> None:
        self._pending: dict[str, Pending] = {}  # insertion order = the order things were done

    def add(self, room: str, text: str, reply_to: int | None = None) -> Pending:
        """A new message."""
        client_id = new_client_id()
        command = cmd.Send(room=int(room), message=text, client_id=client_id, reply_to=reply_to)
        return self._put(Pending(client_id, room, command))

    def add_change(self, room: str, command: cmd.Edit | cmd.Delete | cmd.React,
                   after: str | None = None) -> Pending:
        """An edit, deletion or reaction of a stored message (or, with ``after``, of the
        pending message with that client_id, once it is stored)."""
        client_id = new_client_id()
        return self._put(Pending(client_id, room, replace(command, client_id=client_id),
                                 after=after))

    def _put(self, item: Pending) -> Pending:
        self._pending[item.client_id] = item
        return item

    def amend(self, client_id: str, text: str) -> bool:
        """Rewrite a pending message that never left; False if it may have (or is gone)."""
        item = self._pending.get(client_id)
        if item is None or item.sent or not isinstance(item.command, cmd.Send):
            return False
        item.command = replace(item.command, message=text)
        return True

    def resolve(self, client_id: str, seq: int) -> list[Pending]:
        """The message ``client_id`` was stored as ``seq``: the changes waiting behind it
        now target that seq; they are returned, ready to go."""
        ready = []
        for item in self._pending.values():
            if item.after == client_id:
                assert not isinstance(item.command, cmd.Send)
                item.command = replace(item.command, seq=seq)
                item.after = None
                ready.append(item)
        return ready

    def get(self, client_id: str) -> Pending | None:
        return self._pending.get(client_id)

    def remove(self, client_id: str) -> Pending | None:
        """Confirmed or refused: gone, and the changes waiting behind a refused message
        with it (they target nothing). The removed item, or None."""
        item = self._pending.pop(client_id, None)
        if item is not None:
            for dependent in [i for i in self._pending.values() if i.after == client_id]:
                del self._pending[dependent.client_id]
        return item

    def confirmed_by(self, barrier: str) -> list[Pending]:
        """The ping ``barrier`` was answered: the changes it follows are done; removed."""
        done = [item for item in self._pending.values() if item.barrier == barrier]
        for item in done:
            del self._pending[item.client_id]
        return done

    def for_room(self, room: str) -> list[Pending]:
        """Everything pending in a room, in the order it was done."""
        return [item for item in self._pending.values() if item.room == room]

    def messages(self, room: str) -> list[Pending]:
        return [item for item in self.for_room(room) if item.is_message]

    def drop_room(self, room: str) -> list[Pending]:
        dropped = self.for_room(room)
        for item in dropped:
            del self._pending[item.client_id]
        return dropped

    def __len__(self) -> int:
        return len(self._pending)
