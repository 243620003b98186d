"""Opening a database from a URL: SQLite (WAL) by default, PostgreSQL to scale out.

What the data dir holds (Argon2 hashes, token hashes, staff-only messages, the
TLS key) is for its owner alone: the directory is 0700 and every file in it
0600, whatever the umask. The process umask is left alone (threads share it);
files and directories are made with explicit modes instead, and ones an older
version left readable by others are tightened when they are opened, with one
warning that says so.
"""

from __future__ import annotations

import itertools
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import peewee as pw
from playhouse.db_url import connect as connect_url
from playhouse.db_url import parse as parse_url

from multichat.server.redact import redact
from multichat.server.store.errors import (
    DiskError,
    DiskFull,
    ReadOnly,
    StillLocked,
    StoreUnavailable,
    WriteRefused,
)
from multichat.server.store.postgres_connection import PostgresDatabase

log = logging.getLogger(__name__)

DATABASE_FILENAME = "multichat.sqlite3"
# The files SQLite keeps beside a database. It creates them with the database
# file's own mode (not through the umask), so a database made 0600 keeps them 0600.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_GROUP_AND_OTHERS = 0o077
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


def make_private_dir(path: Path) -> None:
    """Create the directory 0700, or tighten it if it exists.

    Missing parents are made 0700 too (as XDG asks of a data dir's), so that
    the TLS dir made first does not leave the data dir open. mkdir's mode goes
    through the umask, which only takes bits away: a new directory is 0700 or
    stricter. An existing one loses its group and other bits.
    """
    missing = list(itertools.takewhile(lambda p: not p.exists(), (path, *path.parents)))
    for directory in reversed(missing):
        directory.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    make_private(path)


def make_private(*paths: Path) -> None:
    """Take group and other permissions off each of the paths that exist; say so once.

    Only bits are taken away, never added: a file its owner made read-only stays
    read-only. One that cannot be changed (another owner, a read-only file
    system) is logged and left as it is, rather than refusing to serve.
    """
    tightened: list[str] = []
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & _GROUP_AND_OTHERS:
                path.chmod(mode & ~_GROUP_AND_OTHERS)
                tightened.append(f"{path} ({mode:04o} -> {mode & ~_GROUP_AND_OTHERS:04o})")
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("others may read %s and it cannot be made private: %s", path,
                        exc.strerror or exc)
    if tightened:
        log.warning("made private what others could read: %s", ", ".join(tightened))


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists; tighten it if it does."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        make_private(path)


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
            # Made 0600 before SQLite opens it: SQLite gives the -wal and -shm it
            # creates the database's mode. Ones left by an older version are tightened.
            if path.name != ":memory:":
                create_private_file(path)
                make_private(*(path.with_name(path.name + side) for side in SQLITE_SIDE_FILES))
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
                    # A deleted message's text is overwritten, not left in a free page.
                    "secure_delete": 1,
                },
            )
        elif urlsplit(url).scheme in POSTGRES_SCHEMES:
            # psycopg 3 (the maintained driver), even where psycopg2 is installed too;
            # a lost connection is replaced (store/postgres_connection.py).
            db = _postgres_database(url)
        else:
            db = connect_url(url)
        db.connect(reuse_if_open=True)
    except StoreUnavailable:
        raise
    except (pw.PeeweeException, sqlite3.Error, OSError, RuntimeError, ValueError) as exc:
        raise StoreUnavailable(f"cannot open database {redact(url)}: {exc}") from exc
    return db


def _postgres_database(url: str) -> PostgresDatabase:
    """peewee's PostgreSQL database for ``url``, as ``playhouse.db_url.connect`` makes it."""
    params = parse_url(url)
    if not params.get("database"):
        raise ValueError(f"{redact(url)!r} has no database name: postgresql://host/dbname")
    return PostgresDatabase(prefer_psycopg3=True, **params)


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


