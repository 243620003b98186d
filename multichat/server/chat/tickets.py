"""One-time tickets that turn a WebSocket login into the browser's session cookie.

websockets' HTTP side answers GET requests only, so a browser cannot POST its
password to get a cookie. The page logs in over the WebSocket instead, asks
there for a ticket (``session.ticket``, with the token it logged in with), and
fetches ``GET /session?ticket=T``, whose answer sets the HttpOnly cookie. A
ticket is 256 random bits, good once and for ``TICKET_TTL`` seconds, kept in
this process's memory only as its SHA-256 (a process that dies forgets them:
the page just logs in again), and bound to the token of the connection that
asked: it never buys a cookie for anyone else.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from multichat.server.chat.limits import Clock

# Long enough for a page to fetch /session right after its login reply, even on a
# slow phone; short enough that a ticket seen in a log or a history is dead.
TICKET_TTL = 60
# Tickets outstanding at once (each a few hundred bytes): a bound on what a flood of
# session.ticket commands can make the server hold. The oldest go first.
MAX_TICKETS = 10_000


@dataclass(frozen=True, slots=True)
class Redeemed:
    """What a good ticket buys: the token the cookie will hold, and whose it is."""

    token: str
    user_id: int


class TicketBook:
    """Tickets issued and not yet redeemed or expired."""

    def __init__(self, clock: Clock = time.monotonic, ttl: float = TICKET_TTL,
                 capacity: int = MAX_TICKETS) -> None:
        self._clock = clock
        self._ttl = ttl
        self._capacity = capacity
        # ticket digest -> (expiry, what it buys); dicts keep insertion (= expiry) order
        self._open: dict[str, tuple[float, Redeemed]] = {}

    def issue(self, token: str, user_id: int) -> str:
        """A new ticket for the cookie that will hold ``token`` (``user_id``'s)."""
        now = self._clock()
        self._forget_expired(now)
        while len(self._open) >= self._capacity:
            del self._open[next(iter(self._open))]
        ticket = secrets.token_urlsafe(32)
        self._open[_digest(ticket)] = (now + self._ttl, Redeemed(token, user_id))
        return ticket

    def redeem(self, ticket: str) -> Redeemed | None:
        """What ``ticket`` buys, once: None when unknown, used already or expired."""
        entry = self._open.pop(_digest(ticket), None)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def __len__(self) -> int:
        return len(self._open)

    def _forget_expired(self, now: float) -> None:
        while self._open:
            digest, (expiry, _) = next(iter(self._open.items()))
            if expiry > now:
                return
            del self._open[digest]


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()
