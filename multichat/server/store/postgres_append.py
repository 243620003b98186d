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

psycopg's pipeline still writes each statement to the socket as it is
queued, so the backend, on the same core, was woken five times a message.
A batch of plain messages (the hot path) therefore goes as one ``Packet``
instead: the same statements, queued on psycopg's libpq connection without
a flush between them, one sync and one write: the backend wakes once and
answers once.
"""

from __future__ import annotations

import contextlib
import hashlib
import select
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import peewee as pw

from multichat.protocol.codes import LISTED_TYPES
from multichat.server.store import search_index
from multichat.server.store.records import NewMessage

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import pq
    from psycopg.adapt import PyFormat, Transformer
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
    """A plain message's statement, sent: its cursor (answered once the transaction is;
    in a ``Packet``, its ``Answer``), and whether it checks for a resend."""

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
        sql, params, resend = self._statement_for(new)
        cursor = conn.cursor()
        cursor.execute(sql, params)
        return Sent(cursor, resend)

    def add_to(self, packet: Packet, new: NewMessage) -> Sent:
        """Add the statement that stores ``new`` to ``packet`` (answered once it is sent)."""
        sql, params, resend = self._statement_for(new)
        return Sent(packet.add(sql, params), resend)

    def _statement_for(self, new: NewMessage) -> tuple[str, list[object], bool]:
        """The statement that stores ``new``, its parameters, and whether it checks for a
        resend."""
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
        return self._forms[(resend, words is not None)], params, resend


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


class Answer:
    """One statement's rows in a ``Packet``, there once the packet has been answered."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def fetchone(self) -> tuple[Any, ...] | None:
        """The first row (as a cursor's), or None."""
        return self.rows[0] if self.rows else None


# Each connection's statements prepared by a Packet (by name): a prepared statement
# lasts as long as its session, so a new connection starts with none.
_PREPARED: weakref.WeakKeyDictionary[Any, set[bytes]] = weakref.WeakKeyDictionary()
# The server-side form of each statement: its name, and its text with $1, $2 ...
_FORMS: dict[str, tuple[bytes, bytes]] = {}


class Packet:
    """Statements sent to PostgreSQL in one write, answered together.

    Queued on psycopg's libpq connection in pipeline mode with one sync at the end
    and no flush between them, which psycopg's own pipeline does after every
    statement: the backend reads them all at one wake-up. Each statement is
    prepared once per connection (in the packet that first uses it), as psycopg
    prepares a statement it runs often. Every parameter is sent as text, dumped by
    psycopg as a cursor would, for the server to type as the statement says; rows
    come back as a cursor's would.

    The statements must make a whole transaction (``BEGIN`` ... ``COMMIT``): on
    the first error the server skips the rest, and ``send`` rolls back what is
    left open and raises the error as peewee's, as psycopg's pipeline would. A
    connection lost meanwhile raises peewee's OperationalError and is left broken
    for the store to see (store/postgres_connection.py).
    """

    def __init__(self) -> None:
        self._statements: list[tuple[str, Sequence[object], Answer]] = []

    def add(self, sql: str, params: Sequence[object] = ()) -> Answer:
        """Queue ``sql`` (psycopg's ``%s`` placeholders) with ``params``."""
        answer = Answer()
        self._statements.append((sql, params, answer))
        return answer

    def send(self, conn: Any) -> None:
        """Send every statement in one write, wait for the answers, fill each ``Answer``."""
        with _AS_PEEWEE_ERRORS:
            failure = self._exchange(conn)
            if isinstance(failure, pg_errors.InvalidSqlStatementName):
                # Our statements were dropped behind our back: psycopg sends DEALLOCATE
                # ALL after a rollback once it has prepared statements of its own (the
                # other path's, a reader's). Nothing ran: prepare them again, once.
                with contextlib.suppress(Exception):
                    conn.rollback()
                _PREPARED.pop(conn, None)
                failure = self._exchange(conn)
            if failure is not None:
                with contextlib.suppress(Exception):
                    conn.rollback()  # the transaction the error left open, if any
                raise failure

    def _exchange(self, conn: Any) -> BaseException | None:
        """Send and read; returns the first statement's error (the rest were skipped)."""
        pgconn = conn.pgconn
        dumper = Transformer(conn)
        prepared = _PREPARED.setdefault(conn, set())
        # Everything dumped before anything is sent: a value psycopg refuses (a NUL in a
        # text) raises here, with the connection untouched.
        queued: list[tuple[bytes, bytes | None, list[Any], Answer]] = []
        preparing: set[bytes] = set()
        for sql, params, answer in self._statements:
            name, server_text = _server_form(sql)
            values = (list(dumper.dump_sequence(params, [PyFormat.TEXT] * len(params)))
                      if params else [])
            first = name not in prepared and name not in preparing
            if first:
                preparing.add(name)
            queued.append((name, server_text if first else None, values, answer))
        pgconn.enter_pipeline_mode()
        try:
            for name, text, values, _ in queued:
                if text is not None:
                    pgconn.send_prepare(name, text)
                pgconn.send_query_prepared(name, values)
            pgconn.pipeline_sync()
            results = _answers(pgconn, sum(2 if text is not None else 1
                                            for _, text, _, _ in queued))
            pgconn.exit_pipeline_mode()
        except BaseException:
            if pgconn.status == pq.ConnStatus.OK:
                # Not lost, but left mid-pipeline (an error of our own making): closed,
                # so that the store counts it lost and opens another.
                pgconn.finish()
            raise
        failure: BaseException | None = None
        at = iter(results)
        encoding = conn.info.encoding
        for name, text, _, answer in queued:
            if text is not None:
                made = next(at)
                if made.status == pq.ExecStatus.COMMAND_OK:
                    prepared.add(name)
                elif failure is None and made.status == pq.ExecStatus.FATAL_ERROR:
                    failure = pg_errors.error_from_result(made, encoding=encoding)
            result = next(at)
            if result.status == pq.ExecStatus.TUPLES_OK:
                dumper.set_pgresult(result)
                answer.rows = dumper.load_rows(0, result.ntuples, tuple)
            elif failure is None and result.status == pq.ExecStatus.FATAL_ERROR:
                failure = pg_errors.error_from_result(result, encoding=encoding)
        return failure


def _server_form(sql: str) -> tuple[bytes, bytes]:
    """A statement's name for the server and its text with numbered placeholders."""
    form = _FORMS.get(sql)
    if form is None:
        pieces = sql.split("%s")
        text = pieces[0] + "".join(f"${i}{piece}" for i, piece in enumerate(pieces[1:], 1))
        name = "multichat_" + hashlib.blake2b(sql.encode(), digest_size=10).hexdigest()
        form = _FORMS[sql] = (name.encode(), text.encode())
    return form


def _answers(pgconn: Any, commands: int) -> list[Any]:
    """Flush what was queued and read every command's result up to the sync (one each:
    a pipeline's statement returns one result). Raises if the connection is lost."""
    fd = pgconn.socket
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLOUT)
    while pgconn.flush():  # more to send than the socket took: wait, reading meanwhile
        poller.poll()
        pgconn.consume_input()
    poller.modify(fd, select.POLLIN)
    results: list[Any] = []
    ends = 0  # the ends of commands' results seen (a None from get_result)
    while True:
        while pgconn.is_busy():
            poller.poll()
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            ends += 1
            if pgconn.status != pq.ConnStatus.OK or ends > commands:
                raise psycopg.OperationalError(
                    "the connection to PostgreSQL broke while a packet was answered: "
                    + pgconn.get_error_message())
            continue
        if result.status == pq.ExecStatus.PIPELINE_SYNC:
            return results
        if result.status == pq.ExecStatus.FATAL_ERROR and pgconn.status != pq.ConnStatus.OK:
            raise pg_errors.error_from_result(result)
        results.append(result)
