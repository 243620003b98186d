"""The browser's one-time login tickets, in the database so every process redeems them.

A page logs in over its WebSocket on one process and fetches ``GET /session`` on
whichever process the load balancer picks (docs/operations.md: no sticky
sessions). A ``web_ticket`` row is keyed by the SHA-256 of the ticket and holds
the login token *sealed* under a key only the ticket itself gives
(``chat/tickets.py`` seals and opens; this module only stores bytes): the
database alone never yields a token.

Redeeming reads the row and deletes it; only the call whose DELETE removed the
row (rowcount 1) gets it, so of two processes that redeem one ticket at once
exactly one wins, on either engine, whatever SQLite version Python bundles
(no ``DELETE ... RETURNING``, which needs SQLite 3.35). A row never changes
after it is written, so what was read before the winning DELETE is the row.

Synchronous, as the rest of the store; the server calls it from its threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import peewee as pw

# Expired rows removed per issue: issuing stays cheap however many expired meanwhile
# (each issue removes more than it adds, so they cannot pile up).
PURGE_ROWS = 100


@dataclass(frozen=True, slots=True)
class TicketRow:
    """A ticket's row as it was taken: the sealed token, whose, and until when."""

    sealed: bytes
    user_id: int
    expires_ms: int


class WebTicketStore:
    """Ticket rows: add one, take one (once)."""

    def __init__(self, db: pw.Database) -> None:
        self.db = db
        self._p = db.param
        self._postgres = isinstance(db, pw.PostgresqlDatabase)

    def _rows(self, sql: str, params: Sequence[object]) -> list[tuple[object, ...]]:
        return list(self.db.execute_sql(sql, tuple(params)).fetchall())

    def add(self, digest: str, sealed: bytes, user_id: int, expires_ms: int, *,
            now_ms: int, per_user: int) -> None:
        """Store a new ticket's row; purge expired rows (a bounded batch), and keep the
        user's ``per_user`` newest tickets at most (their oldest go first). On
        PostgreSQL the account's row is locked first, so the bound holds however
        many processes issue at once (SQLite's write lock serializes them already)."""
        p = self._p
        with self.db.atomic():
            if self._postgres:  # two processes issuing to one user count one after the other
                self._rows(f'SELECT "id" FROM "account" WHERE "id" = {p} FOR UPDATE', (user_id,))
            self.db.execute_sql(
                f'DELETE FROM "web_ticket" WHERE "digest" IN (SELECT "digest" FROM '
                f'"web_ticket" WHERE "expires_ms" <= {p} ORDER BY "expires_ms" LIMIT {p})',
                (now_ms, PURGE_ROWS))
            kept = self._rows(f'SELECT "digest" FROM "web_ticket" WHERE "account_id" = {p} '
                              f'ORDER BY "expires_ms" DESC', (user_id,))
            stale = [str(row[0]) for row in kept[max(per_user - 1, 0):]]
            if stale:
                marks = ", ".join([p] * len(stale))
                self.db.execute_sql(f'DELETE FROM "web_ticket" WHERE "digest" IN ({marks})',
                                    tuple(stale))
            self.db.execute_sql(
                f'INSERT INTO "web_ticket" ("digest", "sealed", "account_id", "expires_ms") '
                f'VALUES ({p}, {p}, {p}, {p})', (digest, sealed, user_id, expires_ms))

    def take(self, digest: str, now_ms: int) -> TicketRow | None:
        """The ticket's row, deleted: None when there is none, it expired, or another
        call (on any process) took it first."""
        p = self._p
        with self.db.atomic():
            found = self._rows(f'SELECT "sealed", "account_id", "expires_ms" FROM "web_ticket" '
                               f'WHERE "digest" = {p}', (digest,))
            if not found:
                return None
            taken = self.db.execute_sql(f'DELETE FROM "web_ticket" WHERE "digest" = {p}',
                                        (digest,)).rowcount
        if taken != 1:
            return None
        sealed, user_id, expires_ms = found[0]
        row = TicketRow(bytes(sealed), int(user_id), int(expires_ms))  # type: ignore[call-overload]
        return row if row.expires_ms > now_ms else None

    def count(self) -> int:
        """Rows stored, expired or not (for tests and the admin's curiosity)."""
        (count,), = self._rows('SELECT COUNT(*) FROM "web_ticket"', ())
        return int(str(count))
