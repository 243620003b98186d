"""How many new connections go through their opening at once: the rest wait, unread.

A connection's opening (the WebSocket handshake, the login, the first join
with its catch-up) is most of the work a client ever costs. When every
client comes back at once (a restart), uvloop accepts all that wait in one
go, and their openings would crowd the loop's turns: every other client's
frames, a ping, would wait seconds, and the handshakes of the last ones
would outlast their timeout. So at most ``OpeningSlots.SLOTS`` connections
are in their opening at a time; the others are accepted, and left unread in
the kernel (``pause_reading``) until a slot frees: when a connection's first
join is done, when it closes, ``FIRST_BYTES`` seconds after it got the
slot if it has sent nothing yet (a client sends its handshake as it
connects: it is in the kernel when the slot comes), or ``HOLD`` seconds
after it got the slot, whichever comes first (a client that dawdles, or
never joins, then goes on without holding anyone up).

Waiting connections are let in by turns of their address, one connection
of each address in turn, so that one address opening many connections
(an attacker, before the handshake's limit per address can count them)
does not make everyone else wait behind all of its own. The handshake's
timeout (``OPEN_TIMEOUT``) and a proxy's PROXY header deadline are counted
from the slot, not from the accept.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Protocol


class Opening(Protocol):
    """A connection as the slots see it."""

    peer_host: str  # the TCP peer: what the turns go by

    def let_in(self) -> None:
        """It has a slot: read it, start its deadlines."""

    def waiting_gone(self) -> bool:
        """Whether it closed while it waited."""


class OpeningSlots:
    """The slots for connections in their opening; one per server (its loop's thread)."""

    SLOTS = 32
    HOLD = 1.0  # seconds a connection may hold its slot
    FIRST_BYTES = 0.25  # seconds it may hold it without sending anything
    OPEN_TIMEOUT = 10.0  # seconds from the slot to a finished handshake

    def __init__(self, slots: int | None = None) -> None:
        self.free = self.SLOTS if slots is None else slots
        self._holders: dict[Opening, asyncio.TimerHandle] = {}
        # Waiting connections by address, addresses in turn order.
        self._waiting: collections.OrderedDict[str, collections.deque[Opening]] = (
            collections.OrderedDict())
        self.waited = 0  # how many connections ever waited (for tests and the log)

    def arrive(self, connection: Opening) -> bool:
        """A connection was accepted: True if it has a slot now, False if it waits."""
        if self.free > 0 and not self._waiting:
            self._take(connection)
            return True
        self.waited += 1
        self._waiting.setdefault(connection.peer_host, collections.deque()).append(connection)
        return False

    def opened(self, connection: Opening) -> None:
        """Its opening is done (or it closed): its slot goes to the next in turn."""
        timer = self._holders.pop(connection, None)
        if timer is None:
            return
        timer.cancel()
        self.free += 1
        self._let_next_in()

    def _take(self, connection: Opening) -> None:
        self.free -= 1
        self._holders[connection] = asyncio.get_running_loop().call_later(
            self.HOLD, self.opened, connection)

    def _let_next_in(self) -> None:
        waiting = self._waiting
        while self.free > 0 and waiting:
            address, queue = next(iter(waiting.items()))
            connection = queue.popleft()
            if queue:
                waiting.move_to_end(address)  # its next one after every other address's
            else:
                del waiting[address]
            if connection.waiting_gone():
                continue
            self._take(connection)
            connection.let_in()
