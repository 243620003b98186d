"""The message writer: appends messages in batched transactions, in order.

Sends queue up while the previous batch commits, then go in one transaction:
under load one commit covers many messages, and an idle server commits each
message at once. Outcomes are reported in submission order from the event
loop, so events are broadcast in seq order.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from multichat.server.store.checkpoints import CHECKPOINT_INTERVAL, WalCheckpointer
from multichat.server.store.errors import StoreError, StoreUnavailable
from multichat.server.store.records import Appended, NewMessage
from multichat.server.store.repository import Store

log = logging.getLogger(__name__)

C = TypeVar("C")
Outcome = Appended | StoreError
_Job = tuple[Sequence[NewMessage], "asyncio.Future[list[Outcome]]"]

# Enough to amortise one commit over many messages, small enough to keep the
# first message of a batch from waiting long for the last.
MAX_BATCH = 256


class MessageWriter(Generic[C]):
    """Stores messages on a thread of its own and reports each outcome in order.

    ``on_outcome(context, outcome)`` runs on the event loop for every
    submitted message, in submission order; ``context`` is whatever the
    submitter passed along (the chat layer passes the sending session).
    """

    def __init__(
        self,
        store: Store,
        on_outcome: Callable[[C, Outcome], None],
        *,
        max_batch: int = MAX_BATCH,
        checkpoint_interval: float = CHECKPOINT_INTERVAL,
    ) -> None:
        self._store = store
        self._on_outcome = on_outcome
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[NewMessage, C] | None] = asyncio.Queue()
        # Batches to the writer thread, each with the future its outcomes go to. A
        # thread of our own with a SimpleQueue, not an executor: the hand-over is on
        # the hot path, and an executor's locks and chained futures cost more than
        # the commit of a small batch (py-spy: bench/profile.py).
        self._batches: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # committed transactions, for tests and benchmarks
        # SQLite: the WAL is checkpointed on a thread of its own, not in our commits.
        self._committed = threading.Event()
        self.checkpointer = (WalCheckpointer(store, self._committed, checkpoint_interval)
                             if store.is_sqlite else None)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._write, args=(asyncio.get_running_loop(),), name="store-writer",
            daemon=True,
        )
        self._thread.start()
        if self.checkpointer is not None:
            self.checkpointer.start()
        self._task = asyncio.create_task(self._run(), name="message-writer")

    def submit(self, message: NewMessage, context: C) -> None:
        if self._task is None or self._task.done():
            raise RuntimeError("the message writer is not running")
        self._queue.put_nowait((message, context))

    @property
    def pending(self) -> int:
        return self._queue.qsize()

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

    def _write(self, loop: asyncio.AbstractEventLoop) -> None:
        """The writer thread: store each batch, hand its outcomes back to the loop."""
        try:
            if self.checkpointer is not None:
                self._store.defer_checkpoints()
            while (job := self._batches.get()) is not None:
                messages, done = job
                result: list[Outcome] | BaseException
                try:
                    result = self._store.append_messages(messages)
                except Exception as exc:  # the whole transaction failed: disk, lock, engine
                    result = exc
                loop.call_soon_threadsafe(_settle, done, result)
                self._committed.set()
        finally:
            self._store.close_thread_connection()

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
            done: asyncio.Future[list[Outcome]] = loop.create_future()
            self._batches.put(([message for message, _ in batch], done))
            try:
                outcomes = await done
            except Exception as exc:  # the whole transaction failed: disk, lock, engine
                log.error("storing %d message(s) failed: %s", len(batch), exc)
                failure = StoreUnavailable(f"the message could not be stored: {exc}")
                outcomes = [failure] * len(batch)
            self.batches += 1
            for (_, context), outcome in zip(batch, outcomes, strict=True):
                try:
                    self._on_outcome(context, outcome)
                except Exception:
                    log.exception("delivering a stored message failed")


def _settle(done: asyncio.Future[list[Outcome]], result: list[Outcome] | BaseException) -> None:
    if done.cancelled():
        return
    if isinstance(result, BaseException):
        done.set_exception(result)
    else:
        done.set_result(result)
