"""Opening a database from a URL: SQLite (WAL) by default, PostgreSQL to scale out."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import peewee as pw
from playhouse.db_url import connect as connect_url

from multichat.server.store.errors import StoreUnavailable

DATABASE_FILENAME = "multichat.sqlite3"
POSTGRES_SCHEMES = ("postgres", "postgresql")
SYNCHRONOUS_MODES = ("normal", "full")

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


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
