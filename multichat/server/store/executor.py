"""Running blocking store calls off the event loop.

peewee is synchronous, so every store call runs on a database thread: the
``MessageWriter`` has one thread of its own for message appends (the hot
path), and ``StoreExecutor`` a few for everything else (logins, joins,
history, admin). SQLite in WAL mode lets those readers run beside the writer.
A write the database refuses (disk full, read-only, locked past the busy
timeout) comes out as the ``WriteRefused`` that says so in words; a call whose
connection to PostgreSQL broke under it as ``ConnectionLost`` (the thread's
next call opens a new connection: store/postgres_connection.py).

The threads take calls from one queue and hand results back in batches: the
loop is woken once for all the results that came back while it was busy, not
once per call. When every client comes back at once (a restart), thousands
of logins and joins queue here; ``ThreadPoolExecutor``'s future, lock and
condition per call, and a wake-up of the loop per result, cost about as much
as the queries themselves.

Results wait per loop, as an executor's futures each go to their own loop: one
loop's results never wait for another loop to run (one stopped or closed with
results of its own on the way held up every later call of every loop), and a
loop that has closed drops only its own.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from multichat.server.store.database import write_refusal
from multichat.server.store.errors import ConnectionLost, StoreError, StoreUnavailable
from multichat.server.store.repository import Store

P = ParamSpec("P")
T = TypeVar("T")

# Two readers: history and logins overlap, and SQLite WAL serves readers in parallel.
READER_THREADS = 2
# What the client is told when the connection broke under its request (ConnectionLost).
RETRY = ("carrying out the request: it may or may not have been done; try again (a change "
         "done already answers as such)")

# A call as it waits: the loop's future for its result, and what to run.
_Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]
# A call done: its future, and its result or its exception.
_Done = tuple["asyncio.Future[Any]", Any, BaseException | None]


class StoreExecutor:
    """Awaitable store calls on a few database threads."""

    def __init__(self, store: Store, threads: int = READER_THREADS) -> None:
        self.store = store
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        # Results not yet handed back, per loop, under _lock: a loop has a list here
        # exactly when it has been told to take them (``_hand_back``).
        self._done: dict[asyncio.AbstractEventLoop, list[_Done]] = {}
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._serve, name=f"store-reader-{n}",
                                          daemon=True) for n in range(threads)]
        self._started = False
        self._closed = False

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        if self._closed:  # no thread would ever answer
            raise StoreUnavailable("the server is shutting down")
        if not self._started:
            self._started = True
            for thread in self._threads:
                thread.start()
        future: asyncio.Future[T] = loop.create_future()
        call = functools.partial(self._call, functools.partial(fn, *args, **kwargs))
        self._calls.put((loop, future, call))
        try:
            return await future
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
        """Wait for the calls queued, then close each thread's connection; later calls
        raise ``StoreUnavailable``."""
        self._closed = True
        if not self._started:
            return
        for _ in self._threads:
            self._calls.put(None)
        for thread in self._threads:
            thread.join()

    def _serve(self) -> None:
        """A database thread: run calls until told to stop."""
        try:
            while (call := self._calls.get()) is not None:
                loop, future, fn = call
                if future.cancelled():  # its caller has gone: not run, as an executor does
                    continue
                try:
                    done: _Done = (future, fn(), None)
                except BaseException as exc:  # handed to the caller, as an executor does
                    done = (future, None, exc)
                with self._lock:
                    waiting = self._done.get(loop)
                    first = waiting is None
                    if waiting is None:
                        self._done[loop] = [done]
                    else:
                        waiting.append(done)
                if first:  # the loop is told once for all that come back before it looks
                    try:
                        loop.call_soon_threadsafe(self._hand_back, loop)
                    except RuntimeError:  # the loop has closed: nobody waits there any more
                        with self._lock:
                            self._done.pop(loop, None)
        finally:
            self.store.close_thread_connection()

    def _hand_back(self, loop: asyncio.AbstractEventLoop) -> None:
        """On ``loop``: every result of its calls that came back, to its caller."""
        with self._lock:
            done = self._done.pop(loop, [])
        for future, result, exc in done:
            _settle(future, result, exc)


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is None:
        future.set_result(result)
    else:
        future.set_exception(exc)
