"""PostgreSQL: a connection the server lost is replaced before it is used again.

peewee keeps one connection per thread (the writer's, each reader's) for as long
as the thread lives, and would hand a dead one out forever: after PostgreSQL
restarted, a failover, a network cut or ``pg_terminate_backend``, every later
statement on that thread failed until the server was restarted.

Here, whenever a thread is about to use its connection outside a transaction
(a batch's ``BEGIN``, a read, a login), the connection is looked at first: one
libpq knows to be broken (a statement failed on it), or one whose server has
closed it while it sat idle (its socket readable with no query out, and
reading it finds the server's FATAL farewell or the end of the stream), is
closed and a new one opened, on the spot. The
look costs no round trip: a status flag and a ``poll()`` of the socket with no
wait. A connection is never replaced inside a transaction, nor under its
COMMIT or ROLLBACK: what the transaction did is the caller's to settle
(store/writer.py fails the batch's messages in words, docs/operations.md).

One warning goes to the log per outage, not one per thread: a connection
opened before the outage was first noticed is counted as part of it.
"""

from __future__ import annotations

import functools
import logging
import select
import threading
from collections.abc import Callable
from typing import Any

import peewee as pw

try:
    import psycopg
    from psycopg import pq
except ImportError:  # the SQLite-only install
    psycopg = None  # type: ignore[assignment]
    pq = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

# Reads of an idle connection's socket while it stays readable: the server's last words
# (a FATAL error), then the end of the stream.
_READS = 3


class PostgresDatabase(pw.PostgresqlDatabase):
    """peewee's PostgreSQL database, whose threads open a new connection for a lost one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Before peewee's __init__, which may close (and so look at) the connection.
        self._outages = 0  # outages noticed so far
        self._outage_lock = threading.Lock()
        # This thread's connection: .outages, the count when it was opened; .farewell, the
        # server's last words on it (_note_farewell); .ending, a transaction is ending.
        self._opened = threading.local()
        super().__init__(*args, **kwargs)

    def connect(self, reuse_if_open: bool = False) -> bool:
        outages = self._outages  # read first: an outage noticed meanwhile is this one's
        opened = super().connect(reuse_if_open)
        if opened:
            self._opened.outages = outages
            farewell: list[str] = []
            self._opened.farewell = farewell
            conn = pw.PostgresqlDatabase.connection(self)
            if psycopg is not None and isinstance(conn, psycopg.Connection):
                conn.add_notice_handler(functools.partial(_note_farewell, farewell))
        return opened

    def connection(self) -> Any:
        self._replace_if_lost()
        return super().connection()

    # peewee ends a transaction with a COMMIT or ROLLBACK through cursor(), after it has
    # left its books: never on a new connection, where a COMMIT would commit nothing and
    # say nothing of it (PostgreSQL only warns), and the loss would go unseen.

    def commit(self) -> Any:
        return self._on_the_same_connection(super().commit)

    def rollback(self) -> Any:
        return self._on_the_same_connection(super().rollback)

    def cursor(self, named_cursor: Any = None) -> Any:
        self._replace_if_lost()
        return super().cursor(named_cursor)

    def connection_lost(self) -> bool:
        """Whether the calling thread's connection is open but broken (a statement on it
        found the server gone): what it was doing has an outcome nobody knows."""
        conn = self._open_connection()
        return conn is not None and _broken(conn)

    def _open_connection(self) -> Any | None:
        """This thread's connection if it has one open (none is opened), else None."""
        if self.is_closed():
            return None
        return pw.PostgresqlDatabase.connection(self)  # open: returned as it is

    def _on_the_same_connection(self, end: Callable[[], Any]) -> Any:
        self._opened.ending = True
        try:
            return end()
        finally:
            self._opened.ending = False

    def _replace_if_lost(self) -> None:
        """Close this thread's connection if it is lost, so that peewee opens a new one."""
        conn = self._open_connection()
        if conn is None or self.in_transaction() or getattr(self._opened, "ending", False):
            return
        why = _why_lost(conn, getattr(self._opened, "farewell", []))
        if why is None:
            return
        with self._outage_lock:
            new_outage = getattr(self._opened, "outages", 0) == self._outages
            if new_outage:
                self._outages += 1
        if new_outage:
            log.warning("the connection to PostgreSQL was lost (%s); opening new ones", why)
        else:
            log.debug("another connection to PostgreSQL lost in the same outage (%s)", why)
        try:
            self.close()
        except pw.PeeweeException:  # closing a dead connection may complain: it is gone
            self.dispose()


def _broken(conn: Any) -> bool:
    """libpq knows ``conn`` is lost: a statement on it found the server gone."""
    return (psycopg is not None and isinstance(conn, psycopg.Connection)
            and conn.pgconn.transaction_status == pq.TransactionStatus.UNKNOWN)


def _why_lost(conn: Any, farewell: list[str]) -> str | None:
    """Why ``conn`` cannot be used any more, or None if it can (or is busy: in a
    transaction or a pipeline, it is not ours to judge). ``farewell``: the server's
    last words on it, once they have been read (``_note_farewell``)."""
    if psycopg is None or not isinstance(conn, psycopg.Connection):
        return None
    if _broken(conn):
        return _error_words(conn) or "it broke"
    pgconn = conn.pgconn
    if (pgconn.transaction_status != pq.TransactionStatus.IDLE
            or pgconn.pipeline_status != pq.PipelineStatus.OFF
            or not _readable(pgconn.socket)):
        return None
    # Idle, yet the server wrote: a notice or a parameter change (kept for the next
    # query, as libpq does), or its last words (a FATAL error, which libpq hands to the
    # notice handlers) and the end of the stream, which a second read finds.
    for _ in range(_READS):
        try:
            pgconn.consume_input()
        except psycopg.OperationalError as exc:
            return " ".join(str(exc).split()) or "the server closed it"
        if pgconn.status == pq.ConnStatus.BAD:
            return _error_words(conn) or "the server closed it"
        pgconn.is_busy()  # parses what came in: a FATAL goes to _note_farewell
        if farewell:
            return farewell[0]
        if not _readable(pgconn.socket):
            return None
    return None


def _note_farewell(farewell: list[str], diagnostic: Any) -> None:
    """A notice handler: keep the words of an error that ends the session (a FATAL one
    arrives outside any query, as a notice: the server closes the connection after it)."""
    if diagnostic.severity_nonlocalized in ("FATAL", "PANIC"):
        farewell.append(f"{diagnostic.message_primary} ({diagnostic.sqlstate})")


def _readable(fd: int) -> bool:
    """Whether the socket has something to read, without waiting."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def _error_words(conn: Any) -> str:
    """libpq's last error on ``conn``, in one line."""
    pgconn = getattr(conn, "pgconn", None)
    message = getattr(pgconn, "error_message", b"")
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return " ".join(text.split())
