"""Opening a database from a URL: SQLite (WAL) by default, PostgreSQL to scale out."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import peewee as pw
from playhouse.db_url import connect as connect_url

from multichat.server.store.errors import (
    DiskError,
    DiskFull,
    ReadOnly,
    StillLocked,
    StoreUnavailable,
    WriteRefused,
)

DATABASE_FILENAME = "multichat.sqlite3"
POSTGRES_SCHEMES = ("postgres", "postgresql")
SYNCHRONOUS_MODES = ("normal", "full")

# SQLite's primary result codes (the low byte of an extended code) that refuse a write.
_SQLITE_REFUSALS: dict[int, type[WriteRefused]] = {
    5: StillLocked,  # SQLITE_BUSY: "database is locked", after the busy timeout
    8: ReadOnly,  # SQLITE_READONLY: "attempt to write a readonly database"
    10: DiskError,  # SQLITE_IOERR: e.g. SQLITE_IOERR_WRITE, write() failed (EFBIG, EDQUOT, EIO)
    13: DiskFull,  # SQLITE_FULL: "database or disk is full", write() failed with ENOSPC
}
# Read errors are not refusals of a write: SQLITE_IOERR_READ, SQLITE_IOERR_SHORT_READ.
_SQLITE_READ_ERRORS = {266, 522}
# PostgreSQL's SQLSTATEs that refuse a write.
_POSTGRES_REFUSALS: dict[str, type[WriteRefused]] = {
    "25006": ReadOnly,  # read_only_sql_transaction: a standby, default_transaction_read_only
    "53100": DiskFull,  # disk_full
    "58030": DiskError,  # io_error
    "55P03": StillLocked,  # lock_not_available: past an operator's lock_timeout
}

# Seconds a connection waits for another writer (a second process, the admin CLI)
# before giving up with "database is locked".
SQLITE_BUSY_TIMEOUT = 10.0


def url_for_data_dir(data_dir: Path) -> str:
    """The SQLite URL of the database kept in a data directory."""
    return "sqlite:///" + str((data_dir / DATABASE_FILENAME).resolve())


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other engines.

    As in peewee and SQLAlchemy: ``sqlite:///name.db`` is relative to the
    working directory, ``sqlite:////abs/name.db`` (four slashes) is absolute.
    """
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        return None
    if parts.netloc or not parts.path[1:]:
        raise StoreUnavailable(f"use sqlite:///PATH (three slashes), not {url!r}")
    return Path(parts.path[1:])


def open_database(url: str, *, synchronous: str = "normal") -> pw.Database:
    """Connect to the database at ``url``; raise StoreUnavailable with a reason if we can't.

    ``synchronous`` picks SQLite's trade-off: ``normal`` survives a crash of the
    process (kill -9) but may lose the last commits on power loss; ``full``
    syncs every commit to disk.
    """
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}")
    path = sqlite_path(url)
    try:
        if path is not None:
            if not path.parent.is_dir():
                raise StoreUnavailable(f"no such directory: {path.parent}")
            db: pw.Database = pw.SqliteDatabase(
                str(path),
                timeout=SQLITE_BUSY_TIMEOUT,
                # Transactions take the write lock when they begin. A deferred one that
                # reads first and writes later fails at once ("database is locked", no
                # busy wait) if another connection wrote in between, which WAL allows.
                lock_type="IMMEDIATE",
                pragmas={
                    "journal_mode": "wal",
                    "synchronous": synchronous,
                    "foreign_keys": 1,
                },
            )
        elif urlsplit(url).scheme in POSTGRES_SCHEMES:
            # psycopg 3 (the maintained driver), even where psycopg2 is installed too.
            db = connect_url(url, prefer_psycopg3=True)
        else:
            db = connect_url(url)
        db.connect(reuse_if_open=True)
    except StoreUnavailable:
        raise
    except (pw.PeeweeException, sqlite3.Error, OSError, RuntimeError, ValueError) as exc:
        raise StoreUnavailable(f"cannot open database {redact(url)}: {exc}") from exc
    return db


@dataclass(frozen=True, slots=True)
class Refusal:
    """A write the database refused: the kind, and the engine's own error that says so."""

    kind: type[WriteRefused]
    cause: BaseException  # e.g. sqlite3.OperationalError("database or disk is full")

    def __str__(self) -> str:
        """The engine's words and code, for the log: "disk I/O error, SQLITE_IOERR_WRITE"."""
        name = getattr(self.cause, "sqlite_errorname", None)
        sqlstate = getattr(self.cause, "sqlstate", None) or getattr(self.cause, "pgcode", None)
        code = name if isinstance(name, str) else f"SQLSTATE {sqlstate}" if sqlstate else None
        words = str(self.cause).strip()
        return f"{words}, {code}" if code else words


def write_refusal(exc: BaseException) -> Refusal | None:
    """The refusal behind ``exc``, or None if it is any other failure.

    The engine's error may lie deep: peewee wraps the driver's exception (in
    ``args``, or as the context of its own), and when SQLite has rolled back
    a failed commit by itself peewee's rollback fails too ("cannot rollback -
    no transaction is active"), with the real error as its context. So the
    whole chain is searched for an error with an engine code that refuses a
    write: sqlite3's ``sqlite_errorcode``, psycopg's ``sqlstate``.
    """
    for cause in _causes(exc):
        kind: type[WriteRefused] | None = None
        code = getattr(cause, "sqlite_errorcode", None)
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(code, int) and code not in _SQLITE_READ_ERRORS:
            kind = _SQLITE_REFUSALS.get(code & 0xFF)
        elif isinstance(sqlstate, str):
            kind = _POSTGRES_REFUSALS.get(sqlstate)
        if kind is not None:
            return Refusal(kind, cause)
    return None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions behind it: its cause, its context, exceptions in its args."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(e for e in (current.__cause__, current.__context__, *current.args)
                       if isinstance(e, BaseException))


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
