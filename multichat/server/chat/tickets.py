"""One-time tickets that turn a WebSocket login into the browser's session cookie.

websockets' HTTP side answers GET requests only, so a browser cannot POST its
password to get a cookie. The page logs in over the WebSocket instead, asks
there for a ticket (``session.ticket``, with the token it logged in with), and
fetches ``GET /session?ticket=T``, whose answer sets the HttpOnly cookie.

The fetch may reach another process than the WebSocket did (several behind a
load balancer, no sticky sessions), so tickets live in the database
(``store/web_tickets.py``), not in one process's memory. A ticket is 256 random
bits, good once on whichever process redeems it first and for ``TICKET_TTL``
seconds, and bound to the token of the connection that asked: it never buys a
cookie for anyone else. Its row is keyed by the ticket's SHA-256 and holds the
token sealed with AES-GCM under a key derived from the ticket (HKDF-SHA256), so
whoever reads the database (a backup, a replica, a stolen disk) learns no
token from it, and cannot make a row that opens for another ticket.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from multichat.server.chat.limits import Clock
from multichat.server.store.executor import StoreExecutor

# Long enough for a page to fetch /session right after its login reply, even on a
# slow phone; short enough that a ticket seen in a log or a history is dead.
TICKET_TTL = 60
# Tickets one user may hold at once (each a row of a few hundred bytes): a flood of
# session.ticket commands costs at most this many rows per account, and never
# evicts another user's ticket. The user's oldest go first.
MAX_TICKETS_PER_USER = 16
_NONCE_BYTES = 12  # AES-GCM's standard nonce, random per ticket
_KEY_INFO = b"multichat web ticket v1"


@dataclass(frozen=True, slots=True)
class Redeemed:
    """What a good ticket buys: the token the cookie will hold, and whose it is."""

    token: str
    user_id: int


class TicketBook:
    """Issuing and redeeming tickets, through the store on its database threads."""

    def __init__(self, db: StoreExecutor, clock: Clock = time.time, ttl: float = TICKET_TTL,
                 per_user: int = MAX_TICKETS_PER_USER) -> None:
        self._db = db
        self._clock = clock  # wall-clock seconds: every process must agree on expiry
        self._ttl = ttl
        self._per_user = per_user

    async def issue(self, token: str, user_id: int) -> str:
        """A new ticket for the cookie that will hold ``token`` (``user_id``'s)."""
        ticket = secrets.token_urlsafe(32)
        now_ms = int(self._clock() * 1000)
        expires_ms = now_ms + int(self._ttl * 1000)
        digest = ticket_digest(ticket)
        sealed = seal(ticket, token, user_id)
        rows = self._db.store.web_tickets
        await self._db.run(rows.add, digest, sealed, user_id, expires_ms,
                           now_ms=now_ms, per_user=self._per_user)
        return ticket

    async def redeem(self, ticket: str) -> Redeemed | None:
        """What ``ticket`` buys, once: None when unknown, used already or expired."""
        if len(ticket) > 100:  # not one of ours; spare the hashing and the query
            return None
        rows = self._db.store.web_tickets
        row = await self._db.run(rows.take, ticket_digest(ticket), int(self._clock() * 1000))
        if row is None:
            return None
        token = unseal(ticket, row.sealed, row.user_id)
        return None if token is None else Redeemed(token, row.user_id)


def ticket_digest(ticket: str) -> str:
    """The ticket's key in the database (hex SHA-256)."""
    return hashlib.sha256(ticket.encode()).hexdigest()


def _key(ticket: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=_KEY_INFO).derive(ticket.encode())


def _bound_to(ticket: str, user_id: int) -> bytes:
    """What the seal authenticates besides the token: the row's key and owner."""
    return f"{ticket_digest(ticket)}:{user_id}".encode()


def seal(ticket: str, token: str, user_id: int) -> bytes:
    """``token`` encrypted under the ticket's key: nonce, then ciphertext and tag."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return nonce + AESGCM(_key(ticket)).encrypt(nonce, token.encode(), _bound_to(ticket, user_id))


def unseal(ticket: str, sealed: bytes, user_id: int) -> str | None:
    """The token sealed for ``ticket`` and ``user_id``; None for anything else."""
    nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
    try:
        plain = AESGCM(_key(ticket)).decrypt(nonce, body, _bound_to(ticket, user_id))
    except (InvalidTag, ValueError):
        return None
    return plain.decode()
