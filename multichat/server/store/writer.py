"""The message writer: appends messages in batched transactions, in order.

Sends queue up while the previous batch commits, then go in one transaction:
under load one commit covers many messages, and an idle server hands each
message to the writer thread the moment it is submitted. Outcomes are
reported in submission order from the event loop, by one callback per batch
(no task, queue or future between), so events are broadcast in seq order.

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
        # Submitted while a batch is being stored: the next batch. On the loop's thread.
        self._waiting: list[tuple[NewMessage, C]] = []
        self._in_flight = False  # a batch is with the writer thread
        self._running = False  # between start() and close()
        self._idle: asyncio.Future[None] | None = None  # close() waits on it
        # Batches to the writer thread. A thread of our own with a SimpleQueue, not an
        # executor, and its outcomes handed back by one callback, no future or task:
        # the hand-over is on the hot path, and an executor's locks and chained futures
        # (or a queue's and a task's wake-ups) cost more than the commit of a small
        # batch (py-spy: bench/profile.py).
        self._batches: queue.SimpleQueue[list[tuple[NewMessage, C]] | None] = (
            queue.SimpleQueue())
        self._thread: threading.Thread | None = None
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
        self._running = True

    def submit(self, message: NewMessage, context: C) -> None:
        """Store ``message``: at once when the writer is idle, else with the next batch."""
        if not self._running:
            raise RuntimeError("the message writer is not running")
        self._waiting.append((message, context))
        if not self._in_flight:
            self._hand_over()

    async def close(self) -> None:
        """Store everything submitted so far, then stop."""
        self._running = False
        if self._in_flight:
            self._idle = asyncio.get_running_loop().create_future()
            await self._idle
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
            while (batch := self._batches.get()) is not None:
                result = self._store_batch([message for message, _ in batch])
                loop.call_soon_threadsafe(self._stored, batch, result)
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

    def _hand_over(self) -> None:
        """The next batch, up to ``max_batch`` of what waits, to the writer thread."""
        waiting = self._waiting
        if len(waiting) <= self._max_batch:
            batch, self._waiting = waiting, []
        else:
            batch, self._waiting = waiting[:self._max_batch], waiting[self._max_batch:]
        self._in_flight = True
        self._batches.put(batch)

    def _stored(self, batch: list[tuple[NewMessage, C]], result: _Result) -> None:
        """On the loop: a batch is stored (or refused); report each outcome, in order."""
        self.batches += 1
        # What queued meanwhile goes to the thread first: stored while this batch is
        # handed out. Its outcomes come back in a later callback, so the order holds.
        self._in_flight = False
        if self._waiting:
            self._hand_over()
        elif self._idle is not None and not self._idle.done():
            self._idle.set_result(None)
        outcomes = result if isinstance(result, list) else [result] * len(batch)
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
