"""PostgreSQL: a batch of messages stored in one round trip.

Statement by statement, one message cost the writer thread seven round
trips to PostgreSQL (``BEGIN``, the room's seq, the row, its search words,
the version lock, the version, ``COMMIT``): each a wait on the socket and a
wake-up of the thread, with the batch's room rows locked from the first to
the commit, so the other processes' writers queued on them (bench/cluster.py,
docs/benchmarks.md). Here a plain message (no target, no reply, no files)
is one statement, the seq bump, the row and its search words in one
data-modifying ``WITH``, and the whole transaction, ``BEGIN`` to ``COMMIT``,
goes in psycopg's pipeline mode: sent at once, answered at once.

Nothing another reader can see changes. The statements run in the same
order in the same transaction: the seq still comes from bumping the room's
row (no gaps, no repeats), an ordinal from its ``listed_count``, the search
row is written with the message, a resend (the same author and
``client_id``) is found by the statement that would store it and stores
nothing, and the version is read last, by a statement of its own after the
one that takes the version lock (a statement sees what was committed when
it began, so the lock must be taken by an earlier one). A message that needs
a check first (an edit, deletion or reaction, a reply, files) goes statement
by statement in the same pipeline: its reads wait for their answers as
before. An error aborts the rest of the pipeline; the transaction is rolled
back and the error raised as peewee's, so the store's fallback (each message
in a savepoint of its own, not pipelined) is the same as on the other path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import peewee as pw

from multichat.protocol.codes import LISTED_TYPES
from multichat.server.store import search_index
from multichat.server.store.records import NewMessage

try:
    import psycopg
except ImportError:  # the SQLite-only install: the other path serves
    psycopg = None  # type: ignore[assignment]

# psycopg's errors as peewee's (what peewee itself does around each statement).
_AS_PEEWEE_ERRORS = pw.ExceptionWrapper(pw.EXCEPTIONS)  # type: ignore[attr-defined]


def is_plain(new: NewMessage) -> bool:
    """Whether one statement stores the message: nothing to check before it is written."""
    return new.target is None and new.reply_to is None and not new.files


def pipelined_connection(db: pw.Database) -> Any | None:
    """This thread's psycopg 3 connection if it can pipeline, else None."""
    if psycopg is None or not isinstance(db, pw.PostgresqlDatabase):
        return None
    conn = db.connection()
    if not isinstance(conn, psycopg.Connection) or not psycopg.Pipeline.is_supported():
        return None
    return conn


@contextlib.contextmanager
def one_round_trip(conn: Any) -> Iterator[None]:
    """A transaction whose statements are sent as they are made and answered together
    at the end (``COMMIT`` included). Cursors hold their rows once the block is left;
    a read inside it waits for the answers so far. Rolled back on any error."""
    try:
        with _AS_PEEWEE_ERRORS, conn.pipeline():
            conn.execute("BEGIN")
            yield
            conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):
            conn.rollback()  # out of the aborted pipeline's transaction, if any is left
        raise


@dataclass(frozen=True, slots=True)
class Sent:
    """A plain message's statement, sent: its cursor (answered once the transaction is),
    and whether it checks for a resend."""

    cursor: Any
    resend: bool

    def answer(self) -> tuple[int | None, Sequence[Any] | None]:
        """The new seq, or the stored copy of a resend (the store's message columns);
        (None, None) when the room does not exist."""
        row = self.cursor.fetchone()
        if not self.resend:
            return (int(row[0]), None) if row is not None else (None, None)
        seq, earlier = row[0], row[1:]
        if seq is not None:
            return int(seq), None
        return None, (earlier if earlier[0] is not None else None)


class AppendSql:
    """The one statement that stores a plain message, in its four forms: with or
    without the resend check (a ``client_id``), with or without search words."""

    def __init__(self, db: pw.Database, columns: str) -> None:
        """``columns``: a stored message's, as the store reads them (a resend's copy)."""
        self._db = db
        self._forms = {(resend, indexed): _statement(columns, resend=resend, indexed=indexed)
                       for resend in (False, True) for indexed in (False, True)}

    def queue(self, conn: Any, new: NewMessage) -> Sent:
        """Send the statement that stores ``new`` (in the pipeline: no wait)."""
        resend = new.client_id is not None and new.user_id is not None
        words = (search_index.stored_words(self._db, new.text)
                 if new.msg_type in search_index.INDEXED_TYPES else None)
        listed = new.msg_type in LISTED_TYPES
        params: list[object] = []
        if resend:
            params += [new.user_id, new.client_id]
        params += [1 if listed else 0, new.room_id,
                   new.room_id, new.user_id, new.username, int(new.msg_type), new.text,
                   new.client_id, new.ts_ms, new.reply_to, new.target, new.emoji,
                   None if new.on is None else int(new.on), listed]
        if words is not None:
            params.append(words)
        cursor = conn.cursor()
        cursor.execute(self._forms[(resend, words is not None)], params)
        return Sent(cursor, resend)


def _statement(columns: str, *, resend: bool, indexed: bool) -> str:
    """Bump the room's seq (and ordinal, for a listed type), insert the row, index its
    words; with ``resend``, only if the author has no message with this client_id yet."""
    # Typed: in an INSERT's SELECT an untyped parameter (a None) would be text, which
    # no integer column takes; bigint goes into the smaller integer columns.
    parts = []
    if resend:
        parts.append(f'"earlier" AS (SELECT {columns} FROM "message" '
                     'WHERE "account_id" = %s AND "client_id" = %s)')
    unless = ' AND NOT EXISTS (SELECT 1 FROM "earlier")' if resend else ""
    parts.append('"bump" AS (UPDATE "room" SET "last_seq" = "last_seq" + 1, '
                 '"listed_count" = "listed_count" + %s WHERE "id" = %s' + unless
                 + ' RETURNING "last_seq", "listed_count")')
    parts.append(
        '"stored" AS (INSERT INTO "message" ("room_id", "seq", "account_id", "username", '
        '"msg_type", "text", "client_id", "ts_ms", "reply_to", "target", "emoji", '
        '"reaction_on", "ordinal") SELECT %s::bigint, "last_seq", %s::bigint, %s::text, '
        '%s::bigint, %s::text, %s::text, %s::bigint, %s::bigint, %s::bigint, %s::text, '
        '%s::bigint, CASE WHEN %s::boolean THEN "listed_count" END FROM "bump" '
        'RETURNING "id", "room_id", "seq")')
    if indexed:
        parts.append('"indexed" AS (INSERT INTO "message_search" ("id", "room_id", "words") '
                     'SELECT "id", "room_id", array_to_tsvector(%s::text[]) FROM "stored")')
    if resend:
        # One row whatever happened: the new seq, or the stored copy, or neither.
        answer = ('SELECT (SELECT "seq" FROM "stored"), "earlier".* FROM (SELECT 1) "one" '
                  'LEFT JOIN "earlier" ON TRUE')
    else:
        answer = 'SELECT "seq" FROM "stored"'
    return "WITH " + ", ".join(parts) + " " + answer
