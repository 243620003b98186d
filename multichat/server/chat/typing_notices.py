"""Typing notices: "alice is typing" to a room's other members, never stored.

A ``typing`` needs the room joined, as a send does. At most one a second per
user and room counts (``TypingLimiter``, on an injectable clock); the others
are dropped without a word, since a client that types sends them all the
time. Each counts toward the connection's command bucket like any command.
A notice that counts goes out like an ENTER/LEAVE notice, through the broker
with no seq, to every process; the fan-out leaves out the typist's own
connections (``Cluster.deliver``).

With several processes each counts its own connections: a user typing in one
room on connections to N processes may be relayed N times a second at most.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from multichat.protocol import commands as cmd
from multichat.protocol.codes import ErrorCode
from multichat.server.chat.errors import ChatError
from multichat.server.chat.limits import Clock
from multichat.server.chat.session import Session

if TYPE_CHECKING:
    from multichat.server.chat.service import ChatService

# PROTOCOL.md: at most one typing notice a second counts (per user and room).
TYPING_INTERVAL = 1.0


class TypingLimiter:
    """Whether a user's typing notice in a room counts: one per ``interval`` seconds.

    Remembers a (user, room) only while it can still refuse one: the entries are
    kept in the order they were counted, so the stale ones are dropped from the
    front as new ones come, and memory follows the people typing now.
    """

    def __init__(self, interval: float = TYPING_INTERVAL, clock: Clock = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._counted: dict[tuple[int, int], float] = {}

    def allow(self, user_id: int, room_id: int) -> bool:
        now = self._clock()
        counted = self._counted
        while counted:
            oldest = next(iter(counted.items()))
            if now - oldest[1] < self.interval:
                break
            del counted[oldest[0]]
        key = (user_id, room_id)
        if key in counted:
            return False
        counted[key] = now
        return True

    def __len__(self) -> int:
        return len(self._counted)


class TypingNotices:
    """Relays ``typing`` to a room's other members, rate-limited per user and room."""

    def __init__(self, chat: ChatService, clock: Clock = time.monotonic) -> None:
        self._chat = chat
        self.limiter = TypingLimiter(clock=clock)

    def typing(self, session: Session, command: cmd.Typing) -> None:
        assert session.user is not None
        if command.room not in session.rooms:
            raise ChatError(ErrorCode.ROOM_ACCESS_DENIED, "join the room before typing in it")
        if self.limiter.allow(session.user.id, command.room):
            self._chat.cluster.publish_typing(command.room, session.user.username)
