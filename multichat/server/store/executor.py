"""Running blocking store calls off the event loop.

peewee is synchronous, so every store call runs on a database thread: the
``MessageWriter`` has one thread of its own for message appends (the hot
path), and ``StoreExecutor`` a small pool for everything else (logins,
history, admin). SQLite in WAL mode lets those readers run beside the writer.
A write the database refuses (disk full, read-only, locked past the busy
timeout) comes out as the ``WriteRefused`` that says so in words; a call whose
connection to PostgreSQL broke under it as ``ConnectionLost`` (the thread's
next call opens a new connection: store/postgres_connection.py).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from multichat.server.store.database import write_refusal
from multichat.server.store.errors import ConnectionLost, StoreError
from multichat.server.store.repository import Store

P = ParamSpec("P")
T = TypeVar("T")

# Two readers: history and logins overlap, and SQLite WAL serves readers in parallel.
READER_THREADS = 2
# What the client is told when the connection broke under its request (ConnectionLost).
RETRY = "carrying out the request; try again"


class StoreExecutor:
    """Awaitable store calls on a pool of database threads."""

    def __init__(self, store: Store, threads: int = READER_THREADS) -> None:
        self.store = store
        self._threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="store-reader")

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        call = functools.partial(self._call, functools.partial(fn, *args, **kwargs))
        try:
            return await loop.run_in_executor(self._pool, call)
        except StoreError:
            raise
        except Exception as exc:
            refusal = write_refusal(exc)
            if refusal is None:
                raise
            raise refusal.kind() from exc

    def _call(self, call: Callable[[], T]) -> T:
        """On a database thread: ``call()``; ConnectionLost if the connection broke under it
        (the thread's next call opens a new one)."""
        try:
            return call()
        except StoreError:
            raise
        except Exception as exc:
            if self.store.connection_lost():
                raise ConnectionLost(RETRY) from exc
            raise

    def close(self) -> None:
        """Wait for running calls, then close each thread's connection."""
        for _ in range(self._threads):
            self._pool.submit(self.store.close_thread_connection)
        self._pool.shutdown(wait=True)
