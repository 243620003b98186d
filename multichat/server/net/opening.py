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
does not make everyone else wait behind all of its own. An address is its
key for the per-address limits (``address_key``: IPv6 by its /64), so a
/64's thousands of addresses take one turn, not one each. The turns go by
the TCP peer: behind a trusted proxy every connection has the proxy's
address, and the queue is first come, first served.

A waiting connection costs a file descriptor and a little memory, and
websockets' own open timeout no longer bounds it, so waiting is bounded:
at most ``per_address`` connections of one address key wait (the server's
``--max-connections-per-address``; a trusted proxy and, unless
``--limit-loopback``, loopback are exempt) and ``MAX_WAITING`` in all, the
excess closed as it arrives; a connection still waiting ``WAIT`` seconds
after its accept (with TLS: after its TLS handshake) is closed; and one
that sends more than ``EARLY_BYTES`` before its slot is closed (uvloop
reads once before a connection is paused, up to 256 KB: what came is kept
for its turn). Each is closed
unanswered, with at most one line in the log every ``LOG_EVERY`` seconds.

The handshake's timeout (``OPEN_TIMEOUT``) and a proxy's PROXY header
deadline are counted from the slot, not from the accept. With TLS the slot
is taken once the TLS handshake is done (``connection_made`` comes after
it): TLS handshakes are not paced by the slots, and are bounded by their
own timeout (``ssl_handshake_timeout``, ``OPEN_TIMEOUT`` seconds from the
accept); only the WebSocket handshake, the login and the first join are
inside the slots.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from typing import Protocol

from multichat.server.chat.limits import address_key

log = logging.getLogger(__name__)


class Opening(Protocol):
    """A connection as the slots see it."""

    peer_host: str  # the TCP peer: what the turns go by

    def let_in(self) -> None:
        """It has a slot: read it, start its deadlines."""

    def waiting_gone(self) -> bool:
        """Whether it closed while it waited."""

    def turn_away(self) -> None:
        """Close it, unread and unanswered (it may not wait)."""


class OpeningSlots:
    """The slots for connections in their opening; one per server (its loop's thread)."""

    SLOTS = 32
    HOLD = 1.0  # seconds a connection may hold its slot
    FIRST_BYTES = 0.25  # seconds it may hold it without sending anything
    OPEN_TIMEOUT = 10.0  # seconds from the slot to a finished handshake
    WAIT = 30.0  # seconds from the accept a connection may wait for its slot
    # Connections waiting at once, all addresses together: above the storm of
    # 10,000 clients the benchmarks bring back at once (docs/benchmarks.md).
    MAX_WAITING = 16_384
    # What a waiting connection may send before its slot: its handshake request
    # (after a proxy's PROXY header). websockets would take up to 128 header lines
    # of 8 KiB; a browser's request with its cookies is a few KiB, so 64 KiB is
    # far above anything a client sends, and far below uvloop's 256 KB first read.
    EARLY_BYTES = 64 * 1024
    LOG_EVERY = 10.0  # seconds between two lines about closed waiting connections

    def __init__(self, slots: int | None = None, *, per_address: int = 0,
                 max_waiting: int | None = None, wait: float | None = None,
                 exempt: Callable[[str], bool] = lambda peer: False) -> None:
        """``per_address``: how many of one address key may wait (0: no limit but the
        total); ``exempt``: peers that limit does not apply to (a trusted proxy)."""
        self.free = self.SLOTS if slots is None else slots
        self._per_address = per_address
        self._max_waiting = self.MAX_WAITING if max_waiting is None else max_waiting
        self._wait = self.WAIT if wait is None else wait
        self._exempt = exempt
        self._holders: dict[Opening, asyncio.TimerHandle] = {}
        # Waiting connections (with their deadlines) by address key, keys in turn order.
        self._waiting: collections.OrderedDict[str, dict[Opening, asyncio.TimerHandle]] = (
            collections.OrderedDict())
        self._key: dict[Opening, str] = {}  # every waiting connection's address key
        self.waited = 0  # how many connections ever waited (for tests and the log)
        self.turned_away = 0  # how many were closed for waiting too long or too many
        self._unlogged = 0
        self._logged_at: float | None = None

    def arrive(self, connection: Opening) -> bool:
        """A connection was accepted: True if it has a slot now, False if it waits
        (or was turned away: too many wait)."""
        if self.free > 0 and not self._waiting:
            self._take(connection)
            return True
        key = address_key(connection.peer_host)
        queue = self._waiting.get(key)
        if len(self._key) >= self._max_waiting:
            self._refuse(connection, f"{self._max_waiting} connections wait in all")
            return False
        if (queue is not None and self._per_address and len(queue) >= self._per_address
                and not self._exempt(connection.peer_host)):
            self._refuse(connection, f"{self._per_address} wait from {key}")
            return False
        self.waited += 1
        if queue is None:
            queue = self._waiting[key] = {}
        queue[connection] = asyncio.get_running_loop().call_later(
            self._wait, self._overdue, connection)
        self._key[connection] = key
        return False

    def opened(self, connection: Opening) -> None:
        """Its opening is done (or it closed): its slot goes to the next in turn."""
        timer = self._holders.pop(connection, None)
        if timer is None:
            self._leave(connection)  # closed while it waited
            return
        timer.cancel()
        self.free += 1
        self._let_next_in()

    def too_early(self, connection: Opening, size: int) -> None:
        """A waiting connection sent ``size`` bytes, more than ``EARLY_BYTES``."""
        self._refuse(connection, f"it sent {size} bytes before its slot")

    def _overdue(self, connection: Opening) -> None:
        self._refuse(connection, f"it waited {self._wait:g} s for a slot")

    def _refuse(self, connection: Opening, why: str) -> None:
        self._leave(connection)
        connection.turn_away()
        self.turned_away += 1
        self._unlogged += 1
        now = asyncio.get_running_loop().time()
        if self._logged_at is None or now - self._logged_at >= self.LOG_EVERY:
            log.info("closed %d connection(s) waiting for an opening slot, the last from "
                     "%s: %s", self._unlogged, connection.peer_host, why)
            self._unlogged, self._logged_at = 0, now

    def _leave(self, connection: Opening) -> None:
        key = self._key.pop(connection, None)
        if key is None:
            return
        queue = self._waiting[key]
        queue.pop(connection).cancel()
        if not queue:
            del self._waiting[key]

    def _take(self, connection: Opening) -> None:
        self.free -= 1
        self._holders[connection] = asyncio.get_running_loop().call_later(
            self.HOLD, self.opened, connection)

    def _let_next_in(self) -> None:
        waiting = self._waiting
        while self.free > 0 and waiting:
            key, queue = next(iter(waiting.items()))
            connection = next(iter(queue))
            self._leave(connection)
            if key in waiting:
                waiting.move_to_end(key)  # its next one after every other key's
            if connection.waiting_gone():
                continue
            self._take(connection)
            connection.let_in()
