"""The store executor: calls after its close, and calls whose caller has gone."""

from __future__ import annotations

import asyncio
import threading

import pytest

from multichat.server.store import Store
from multichat.server.store.errors import StoreUnavailable
from multichat.server.store.executor import StoreExecutor


async def test_a_call_after_close_is_refused_at_once(store: Store) -> None:
    pool = StoreExecutor(store, threads=1)
    assert await pool.run(store.schema_version) == store.schema_version()
    pool.close()
    # Before, the call waited forever on a thread that had stopped.
    with pytest.raises(StoreUnavailable):
        await asyncio.wait_for(pool.run(store.schema_version), 30)


async def test_a_queued_call_whose_caller_has_gone_is_not_run(store: Store) -> None:
    pool = StoreExecutor(store, threads=1)
    release = threading.Event()
    started = threading.Event()
    ran: list[str] = []

    def blocking() -> None:
        started.set()
        release.wait(30)

    def note(name: str) -> str:
        ran.append(name)
        return name

    try:
        first = asyncio.ensure_future(pool.run(blocking))
        await asyncio.to_thread(started.wait, 30)
        gone = asyncio.ensure_future(pool.run(note, "gone"))
        await asyncio.sleep(0)  # the call is queued behind the first
        gone.cancel()
        release.set()
        await first
        assert await pool.run(note, "after") == "after"  # one thread: in order
        assert ran == ["after"]
    finally:
        release.set()
        pool.close()
