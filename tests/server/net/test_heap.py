"""The heap frozen during a burst of connections is thawed and collected once it is over.

A frozen object that becomes garbage in a reference cycle is never collected
while frozen: what must hold is that such garbage (a closed connection's
state, here a cycle standing for it) is collected after the thaw, burst
after burst, so that memory does not grow.
"""

from __future__ import annotations

import asyncio
import gc
import weakref

from multichat.server.net.heap import HeapSettler
from tests.helpers.waiting import eventually


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Cycle:
    """A connection's state, as far as the collector sees it: objects in a cycle."""

    def __init__(self) -> None:
        self.me = self


async def a_burst(settler: HeapSettler) -> list[weakref.ref[Cycle]]:
    """A burst of connections, each leaving a cycle that lives past the freeze, then dies."""
    cycles = [Cycle() for _ in range(HeapSettler.BURST)]
    for _ in cycles:
        settler.connected()
    refs = [weakref.ref(cycle) for cycle in cycles]
    del cycles  # garbage now, and frozen
    return refs


async def test_a_burst_freezes_the_heap_and_its_end_thaws_it() -> None:
    clock = Clock()
    settler = HeapSettler(clock)
    try:
        refs = await a_burst(settler)
        assert settler.frozen and gc.get_freeze_count() > 0
        gc.collect()
        assert all(ref() is not None for ref in refs)  # frozen: not collected yet
        clock.now += HeapSettler.QUIET
        settler.thaw()
        assert (settler.frozen, gc.get_freeze_count()) == (False, 0)
        assert all(ref() is None for ref in refs)
    finally:
        settler.thaw()


async def test_connections_that_trickle_in_freeze_nothing() -> None:
    clock = Clock()
    settler = HeapSettler(clock)
    for _ in range(HeapSettler.BURST * 3):
        clock.now += HeapSettler.WINDOW / HeapSettler.BURST * 2  # half the burst rate
        settler.connected()
    assert not settler.frozen and settler.freezes == 0


async def test_the_quiet_after_a_burst_thaws_on_its_own() -> None:
    settler = HeapSettler()  # the real clock: QUIET seconds of nothing, then a thaw
    settler.QUIET = 0.05
    try:
        refs = await a_burst(settler)
        assert settler.frozen
        await eventually(lambda: not settler.frozen)
        assert all(ref() is None for ref in refs)
    finally:
        settler.thaw()


async def test_endless_churn_is_thawed_within_most_frozen() -> None:
    """An attacker connecting and leaving without pause cannot keep garbage frozen."""
    clock = Clock()
    settler = HeapSettler(clock)
    settler.QUIET = 0.02
    settler.MOST_FROZEN = 0.2
    try:
        refs = await a_burst(settler)
        while settler.frozen:
            clock.now += 0.01  # never quiet: a connection every 10 ms
            settler.connected()
            await asyncio.sleep(0.005)
        assert clock.now - 1000.0 <= 0.3
        assert all(ref() is None for ref in refs)
    finally:
        settler.thaw()


async def test_repeated_bursts_do_not_grow_the_heap() -> None:
    clock = Clock()
    settler = HeapSettler(clock)
    try:
        sizes = []
        for _ in range(5):
            await a_burst(settler)
            clock.now += HeapSettler.QUIET
            settler.thaw()
            sizes.append(len(gc.get_objects()))
        assert max(sizes[1:]) - min(sizes[1:]) < HeapSettler.BURST // 4
    finally:
        settler.thaw()
