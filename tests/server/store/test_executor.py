"""The store executor: calls after its close, calls whose caller has gone, and loops that
share it."""

from __future__ import annotations

import asyncio
import threading

import pytest

from multichat.server.store import Store
from multichat.server.store.errors import StoreUnavailable
from multichat.server.store.executor import StoreExecutor
from tests.helpers.timing import TIMEOUT


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


async def test_a_loop_closed_with_results_waiting_holds_up_no_other_loop(store: Store) -> None:
    """Two loops share the executor; one stops with a result of its own on the way and
    closes without taking it. The other's results still arrive (before, they queued
    behind the closed loop's, which nobody would ever hand back: every later call of
    every loop waited forever)."""
    pool = StoreExecutor(store, threads=1)  # one thread: the calls run in the order queued
    release = threading.Event()
    mine_ran = threading.Event()
    other = asyncio.new_event_loop()
    # Its caller's task dies with it, never to be told: not worth a line in the log.
    other.set_exception_handler(lambda loop, context: None)

    def blocking() -> str:
        release.wait(30)
        return "other's"

    def mine() -> str:
        mine_ran.set()
        return "mine"

    callers: list[asyncio.Future[str]] = []  # on the other loop, never answered

    async def call_and_stop() -> None:
        callers.append(asyncio.ensure_future(pool.run(blocking)))
        await asyncio.sleep(0)  # queued; the loop stops before its result comes back

    try:
        await asyncio.to_thread(other.run_until_complete, call_and_stop())
        answer = asyncio.ensure_future(pool.run(mine))
        await asyncio.sleep(0)  # queued behind the other loop's call
        release.set()  # the other loop's result comes back first, for a loop not running
        await asyncio.to_thread(mine_ran.wait, 30)
        other.close()
        assert await asyncio.wait_for(answer, TIMEOUT) == "mine"
        assert await asyncio.wait_for(pool.run(mine), TIMEOUT) == "mine"
    finally:
        release.set()
        other.close()
        pool.close()


async def test_a_call_of_a_closed_loop_holds_up_no_other_loop(store: Store) -> None:
    """The other loop closes before its result comes back: the result is dropped, and
    this loop's calls are answered, then and later."""
    pool = StoreExecutor(store, threads=1)
    release = threading.Event()
    other = asyncio.new_event_loop()
    other.set_exception_handler(lambda loop, context: None)

    def blocking() -> str:
        release.wait(30)
        return "other's"

    callers: list[asyncio.Future[str]] = []  # on the other loop, never answered

    async def call_and_stop() -> None:
        callers.append(asyncio.ensure_future(pool.run(blocking)))
        await asyncio.sleep(0)

    try:
        await asyncio.to_thread(other.run_until_complete, call_and_stop())
        answer = asyncio.ensure_future(pool.run(store.schema_version))
        await asyncio.sleep(0)
        other.close()
        release.set()
        assert await asyncio.wait_for(answer, TIMEOUT) == store.schema_version()
        assert await asyncio.wait_for(pool.run(store.schema_version), TIMEOUT) \
            == store.schema_version()
    finally:
        release.set()
        other.close()
        pool.close()
