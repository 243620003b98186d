"""The message writer: appends messages in batched transactions, in order.

Sends queue up while the previous batch commits, then go in one transaction:
under load one commit covers many messages, and an idle server commits each
message at once. Outcomes are reported in submission order from the event
loop, so events are broadcast in seq order.

When the database refuses a batch, its messages fail with a ``WriteRefused``
whose text tells the sender why (disk full, read-only) and the writer goes on
with the next batch: nothing is retried but a lock. A SQLite database locked
by another program (the admin CLI, a VACUUM, a backup tool writing) is tried
again, in ``lock_attempt`` steps, for up to ``lock_give_up`` seconds; the log
gets one line when trouble starts and one when it ends, not one per batch.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from multichat.server.store.checkpoints import CHECKPOINT_INTERVAL, WalCheckpointer
from multichat.server.store.database import Refusal, write_refusal
from multichat.server.store.errors import StillLocked, StoreError, StoreUnavailable
from multichat.server.store.records import Appended, NewMessage, Unchanged
from multichat.server.store.repository import Store
from multichat.server.store.search_purge import SearchPurger

log = logging.getLogger(__name__)

C = TypeVar("C")
Outcome = Appended | Unchanged | StoreError
_Result = list[Outcome] | StoreError  # a batch's outcomes, or one failure for all of it
_Job = tuple[Sequence[NewMessage], "asyncio.Future[_Result]"]

# Enough to amortise one commit over many messages, small enough to keep the
# first message of a batch from waiting long for the last.
MAX_BATCH = 256

# SQLite: seconds one attempt of the writer waits for a write lock another
# program holds (its connection's busy timeout, instead of SQLITE_BUSY_TIMEOUT)
# before it warns in the log and tries again. Short, so an operator hears of a
# stuck lock within seconds: the admin CLI's and migrations' commits take
# milliseconds.
LOCK_ATTEMPT = 2.0
# Seconds the writer keeps trying a locked database (15 attempts) before the
# waiting messages fail with StillLocked: long enough for an admin's
# transaction or a VACUUM of a big chat to end, short enough that a sender
# hears back. Until a commit ends the lock, each later batch then gets one
# attempt, so a queue of batches fails in seconds, not in half-minutes each.
LOCK_GIVE_UP = 30.0
# Least time between two attempts on a locked database, should SQLite report
# the lock without waiting its busy timeout: no spinning.
LOCK_RETRY_PAUSE = 0.05

# What the sender is told did not happen, before the reason.
NOT_STORED = "the message was not stored"


class Bracket(Protocol):
    """Told before and after the outcomes of a batch of two or more are reported.

    The server holds each connection's frames in between and writes them in one
    go at ``end`` (net/peer.py, ``HeldWrites``); a batch of one is not bracketed,
    so a lightly loaded server pays nothing for it.
    """

    def begin(self) -> None: ...

    def end(self) -> None: ...


class MessageWriter(Generic[C]):
    """Stores messages on a thread of its own and reports each outcome in order.

    ``on_outcome(context, outcome)`` runs on the event loop for every
    submitted message, in submission order; ``context`` is whatever the
    submitter passed along (the chat layer passes the sending session).
    ``bracket`` is told when the outcomes of a batch of several start and end.
    """

    def __init__(
        self,
        store: Store,
        on_outcome: Callable[[C, Outcome], None],
        *,
        max_batch: int = MAX_BATCH,
        bracket: Bracket | None = None,
        checkpoint_interval: float = CHECKPOINT_INTERVAL,
        lock_attempt: float = LOCK_ATTEMPT,
        lock_give_up: float = LOCK_GIVE_UP,
    ) -> None:
        self._store = store
        self._on_outcome = on_outcome
        self._bracket = bracket
        self._max_batch = max_batch
        self._lock_attempt = lock_attempt
        self._lock_give_up = lock_give_up
        # Trouble, as the writer thread alone sees it: since when the database has
        # been locked (monotonic), the failure being reported, messages it failed.
        self._locked_since: float | None = None
        self._failing: str | None = None
        self._failed = 0
        self._queue: asyncio.Queue[tuple[NewMessage, C] | None] = asyncio.Queue()
        # Batches to the writer thread, each with the future its outcomes go to. A
        # thread of our own with a SimpleQueue, not an executor: the hand-over is on
        # the hot path, and an executor's locks and chained futures cost more than
        # the commit of a small batch (py-spy: bench/profile.py).
        self._batches: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # committed transactions, for tests and benchmarks
        self.locked_attempts = 0  # attempts that found the database locked, for tests
        # SQLite: the WAL is checkpointed on a thread of its own, not in our commits.
        self._committed = threading.Event()
        self.checkpointer = (WalCheckpointer(store, self._committed, checkpoint_interval)
                             if store.is_sqlite else None)
        # SQLite before 3.42: deleted words merged out of the search index, also apart.
        self._committed_for_purge = threading.Event()
        self.search_purger = (SearchPurger(store, self._committed_for_purge)
                              if store.is_sqlite else None)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._write, args=(asyncio.get_running_loop(),), name="store-writer",
            daemon=True,
        )
        self._thread.start()
        if self.checkpointer is not None:
            self.checkpointer.start()
        if self.search_purger is not None:
            self.search_purger.start()
        self._task = asyncio.create_task(self._run(), name="message-writer")

    def submit(self, message: NewMessage, context: C) -> None:
        if self._task is None or self._task.done():
            raise RuntimeError("the message writer is not running")
        self._queue.put_nowait((message, context))

    async def close(self) -> None:
        """Store everything submitted so far, then stop."""
        if self._task is not None and not self._task.done():
            self._queue.put_nowait(None)
            await self._task
        if self._thread is not None:
            self._batches.put(None)
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        if self.checkpointer is not None:
            await asyncio.to_thread(self.checkpointer.stop)
        if self.search_purger is not None:
            await asyncio.to_thread(self.search_purger.stop)

    def _write(self, loop: asyncio.AbstractEventLoop) -> None:
        """The writer thread: store each batch, hand its outcomes back to the loop."""
        try:
            if self.checkpointer is not None:
                self._store.defer_checkpoints()
            self._store.set_busy_timeout(self._lock_attempt)
            while (job := self._batches.get()) is not None:
                messages, done = job
                result = self._store_batch(messages)
                loop.call_soon_threadsafe(_settle, done, result)
        finally:
            self._store.close_thread_connection()

    def _store_batch(self, messages: Sequence[NewMessage]) -> _Result:
        """Store one batch; while the database is locked elsewhere, try again, within bounds."""
        while True:
            started = time.monotonic()
            try:
                outcomes = self._store.append_messages(messages)
            except Exception as exc:  # the whole transaction failed: disk, lock, engine
                refusal = write_refusal(exc)
                locked = refusal is not None and refusal.kind is StillLocked
                if locked:
                    self.locked_attempts += 1
                if locked and self._may_wait_for_lock(started):
                    time.sleep(max(0.0, LOCK_RETRY_PAUSE - (time.monotonic() - started)))
                    continue
                return self._failure(exc, refusal, len(messages))
            self._stored_again()
            self._committed.set()
            self._committed_for_purge.set()
            return outcomes

    def _may_wait_for_lock(self, attempt_started: float) -> bool:
        """The database was locked: whether to try again (the lock is young enough)."""
        if self._locked_since is None:
            self._locked_since = attempt_started
            log.warning("database is locked by another program; retrying for up to %g s",
                        self._lock_give_up)
        return time.monotonic() - self._locked_since < self._lock_give_up

    def _failure(self, exc: Exception, refusal: Refusal | None, count: int) -> StoreError:
        """The error each message of a failed batch gets; logged when new trouble starts."""
        # The sender gets words, never the engine's message: PostgreSQL's quotes the
        # failing row, which may be another sender's text in the same batch.
        failure = refusal.kind(NOT_STORED) if refusal is not None else StoreUnavailable(
            f"{NOT_STORED}: the database failed; the server's log says why")
        if str(failure) != self._failing:
            self._failing = str(failure)
            if refusal is not None:
                log.error("storing %d message(s) failed: %s [%s]; until messages are stored "
                          "again, further failures like it are counted, not logged", count,
                          refusal.kind.reason, refusal)
            else:
                log.error("storing %d message(s) failed: %s; until messages are stored again, "
                          "further failures like it are counted, not logged", count, exc,
                          exc_info=exc)
        self._failed += count
        return failure

    def _stored_again(self) -> None:
        """A batch committed: whatever trouble there was is over; say so once."""
        if self._locked_since is not None:
            log.info("the database lock went after %.1f s",
                     time.monotonic() - self._locked_since)
            self._locked_since = None
        if self._failing is not None:
            log.info("messages are stored again; %d failed meanwhile", self._failed)
            self._failing = None
            self._failed = 0

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            item = await self._queue.get()
            batch: list[tuple[NewMessage, C]] = []
            while item is not None:
                batch.append(item)
                if len(batch) >= self._max_batch or self._queue.empty():
                    break
                item = self._queue.get_nowait()
            stopping = item is None
            if not batch:
                continue
            done: asyncio.Future[_Result] = loop.create_future()
            self._batches.put(([message for message, _ in batch], done))
            result = await done
            outcomes = result if isinstance(result, list) else [result] * len(batch)
            self.batches += 1
            bracket = self._bracket if len(batch) > 1 else None
            if bracket is not None:
                bracket.begin()
            for (_, context), outcome in zip(batch, outcomes, strict=True):
                try:
                    self._on_outcome(context, outcome)
                except Exception:
                    log.exception("delivering a stored message failed")
            if bracket is not None:
                try:
                    bracket.end()
                except Exception:
                    log.exception("writing a batch's events failed")


def _settle(done: asyncio.Future[_Result], result: _Result) -> None:
    if not done.cancelled():
        done.set_result(result)
