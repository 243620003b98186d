"""The message writer: appends messages in batched transactions, in order.

Sends queue up while the previous batch commits, then go in one transaction:
under load one commit covers many messages, and an idle server commits each
message at once. Outcomes are reported in submission order from the event
loop, so events are broadcast in seq order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from multichat.server.store.errors import StoreError, StoreUnavailable
from multichat.server.store.records import Appended, NewMessage
from multichat.server.store.repository import Store

log = logging.getLogger(__name__)

C = TypeVar("C")
Outcome = Appended | StoreError

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
    ) -> None:
        self._store = store
        self._on_outcome = on_outcome
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[NewMessage, C] | None] = asyncio.Queue()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="store-writer")
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # committed transactions, for tests and benchmarks

    def start(self) -> None:
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
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._store.close_thread_connection)
        self._thread.shutdown(wait=True)

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
            messages = [message for message, _ in batch]
            try:
                outcomes = await loop.run_in_executor(
                    self._thread, self._store.append_messages, messages
                )
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
