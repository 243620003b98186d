"""The heap during a burst of connections: full collections held back, the heap frozen,
and both given back, and the garbage collected, once the burst is over.

A frozen object that becomes garbage in a reference cycle is never collected
while frozen, nor one in the oldest generation while full collections are
held: what must hold is that such garbage (a closed connection's state, here
a cycle standing for it) is collected after the burst, burst after burst, so
that memory does not grow.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net.heap import HeapSettler, freeze_start_up
from tests.helpers.servers import seeded_server
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


MakeSettler = Callable[..., HeapSettler]


@pytest.fixture
def settler_with() -> Iterator[MakeSettler]:
    """``settler_with(clock)``: a HeapSettler on that clock (the real one without), thawed
    at the test's end whatever it did, so that no test leaves the heap frozen or held."""
    made: list[HeapSettler] = []

    def make(clock: Callable[[], float] | None = None) -> HeapSettler:
        settler = HeapSettler(clock) if clock is not None else HeapSettler()
        made.append(settler)
        return settler

    try:
        yield make
    finally:
        for settler in made:
            settler.thaw()
        gc.unfreeze()  # freeze_start_up's, where a test froze without a burst after it


async def a_burst(settler: HeapSettler) -> list[weakref.ref[Cycle]]:
    """A burst of connections, each leaving a cycle that lives past the freeze, then dies."""
    cycles = [Cycle() for _ in range(HeapSettler.BURST)]
    for _ in cycles:
        settler.accepted()
    for _ in cycles:
        settler.connected()
    refs = [weakref.ref(cycle) for cycle in cycles]
    del cycles  # garbage now, and frozen
    return refs


def full_collections() -> tuple[list[int], Callable[[str, dict[str, Any]], None]]:
    """A list that the returned gc callback fills with each full collection's generation."""
    seen: list[int] = []

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            seen.append(2)
    return seen, note


def long_lived_growth() -> list[list[int]]:
    """Enough new long-lived objects that the collector, left alone, runs a full pass:
    more than a quarter of the heap, which is what it waits for."""
    return [[n] for n in range(len(gc.get_objects()) // 2 + 100_000)]


async def test_a_burst_freezes_the_heap_and_its_end_thaws_it(settler_with: MakeSettler) -> None:
    clock = Clock()
    settler = settler_with(clock)
    refs = await a_burst(settler)
    assert settler.frozen and gc.get_freeze_count() > 0
    gc.collect()
    assert all(ref() is not None for ref in refs)  # frozen: not collected yet
    clock.now += HeapSettler.QUIET
    settler.thaw()
    assert (settler.frozen, settler.settling, gc.get_freeze_count()) == (False, False, 0)
    assert all(ref() is None for ref in refs)


async def test_connections_that_trickle_in_freeze_nothing(settler_with: MakeSettler) -> None:
    clock = Clock()
    settler = settler_with(clock)
    thresholds = gc.get_threshold()
    for _ in range(HeapSettler.BURST * 3):
        clock.now += HeapSettler.WINDOW / HeapSettler.BURST * 2  # half the burst rate
        settler.accepted()
        settler.connected()
    assert not settler.frozen and settler.freezes == 0
    assert not settler.settling and gc.get_threshold() == thresholds


async def test_a_few_connections_at_once_are_no_burst(settler_with: MakeSettler) -> None:
    settler = settler_with(Clock())
    for _ in range(HeapSettler.START - 1):
        settler.accepted()
    assert not settler.settling


async def test_the_quiet_after_a_burst_thaws_on_its_own(settler_with: MakeSettler) -> None:
    settler = settler_with()  # the real clock: QUIET seconds of nothing, then a thaw
    settler.QUIET = 0.05
    refs = await a_burst(settler)
    assert settler.frozen
    await eventually(lambda: not settler.frozen)
    assert all(ref() is None for ref in refs)


@pytest.mark.skipif(sys.version_info >= (3, 14),
                    reason="3.14's collector is incremental: no full pass to hold back")
async def test_a_burst_holds_full_collections_back_until_it_is_over(
        settler_with: MakeSettler) -> None:
    """From the burst's first connections, however much the heap grows, no full pass
    (each walks the whole heap) until the burst is over; then one, and the collector's
    thresholds are as they were."""
    seen, note = full_collections()
    thresholds = gc.get_threshold()
    gc.callbacks.append(note)
    try:
        gc.collect()
        seen.clear()
        grown = long_lived_growth()  # without a burst: the collector's own full pass
        assert seen, "the collector ran no full pass on its own: the test shows nothing"
        del grown
        gc.collect()
        seen.clear()
        clock = Clock()
        settler = settler_with(clock)
        for _ in range(HeapSettler.START):
            settler.accepted()
        assert settler.settling and not settler.frozen  # no freeze before BURST
        grown = long_lived_growth()
        assert grown and seen == []
        clock.now += HeapSettler.QUIET
        settler.thaw()
        assert seen == [2] and gc.get_threshold() == thresholds
    finally:
        gc.callbacks.remove(note)


async def test_two_servers_bursts_overlapping_give_the_thresholds_back_in_any_order(
        settler_with: MakeSettler) -> None:
    """The thresholds are the process's: A's burst begins, then B's, A ends, B ends.
    Before, B saved A's raised threshold and put it back at its end, which left full
    collections off for the rest of the process."""
    thresholds = gc.get_threshold()
    first, second = settler_with(Clock()), settler_with(Clock())
    for settler in (first, second):
        for _ in range(HeapSettler.START):
            settler.accepted()
        assert settler.settling
    first.thaw()
    assert gc.get_threshold() != thresholds  # B's burst still holds them
    second.thaw()
    assert gc.get_threshold() == thresholds


async def test_garbage_held_during_a_burst_is_collected_once_it_is_over(
        settler_with: MakeSettler) -> None:
    """Cyclic garbage that reached the oldest generation waits for no full pass past the
    burst's end."""
    settler = settler_with()  # the real clock
    settler.QUIET = 0.05
    for _ in range(HeapSettler.START):
        settler.accepted()
    cycles = [Cycle() for _ in range(100)]
    gc.collect(1)  # now in the oldest generation, where only a full pass looks
    refs = [weakref.ref(cycle) for cycle in cycles]
    del cycles
    gc.collect(1)
    assert all(ref() is not None for ref in refs)
    await eventually(lambda: not settler.settling)
    assert all(ref() is None for ref in refs)


async def test_endless_churn_is_thawed_within_most_frozen(settler_with: MakeSettler) -> None:
    """An attacker connecting and leaving without pause cannot keep garbage frozen."""
    clock = Clock()
    settler = settler_with(clock)
    settler.QUIET = 0.02
    settler.MOST_FROZEN = 0.2
    refs = await a_burst(settler)
    while settler.frozen:
        clock.now += 0.01  # never quiet: a connection every 10 ms
        settler.accepted()
        settler.connected()
        await asyncio.sleep(0.005)
    assert clock.now - 1000.0 <= 0.3
    assert not settler.settling
    assert all(ref() is None for ref in refs)


async def test_repeated_bursts_do_not_grow_the_heap(settler_with: MakeSettler) -> None:
    clock = Clock()
    settler = settler_with(clock)
    sizes = []
    for _ in range(5):
        await a_burst(settler)
        clock.now += HeapSettler.QUIET
        settler.thaw()
        sizes.append(len(gc.get_objects()))
    assert max(sizes[1:]) - min(sizes[1:]) < HeapSettler.BURST // 4


def test_start_up_is_frozen_without_its_garbage(settler_with: MakeSettler) -> None:
    """What start-up leaves alive is out of the collector's walks; its cyclic garbage was
    collected first, not frozen for the life of the process."""
    alive, dead = Cycle(), weakref.ref(Cycle())
    freeze_start_up()
    assert dead() is None
    assert not any(each is alive for each in gc.get_objects())  # not walked any more


async def test_a_bursts_end_gives_start_up_back(settler_with: MakeSettler) -> None:
    alive = Cycle()
    freeze_start_up()
    clock = Clock()
    settler = settler_with(clock)
    await a_burst(settler)
    clock.now += HeapSettler.QUIET
    settler.thaw()
    assert gc.get_freeze_count() == 0
    assert any(each is alive for each in gc.get_objects())


@pytest.mark.skipif(sys.version_info >= (3, 14),
                    reason="3.14's collector is incremental: no full pass to hold back")
async def test_a_server_holds_full_collections_back_from_a_storms_first_accepts(
        server_config: ServerConfig, passwords: Passwords) -> None:
    """Counted as they are accepted, before any is read: a storm's connections all wait
    for their opening, and their objects are on the heap meanwhile."""
    thresholds = gc.get_threshold()
    async with seeded_server(server_config, passwords) as server:
        sockets = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", server.port)
                                         for _ in range(HeapSettler.START * 3)))
        try:
            await eventually(lambda: gc.get_threshold()[2] > thresholds[2])
        finally:
            for _reader, writer in sockets:
                writer.close()
    assert gc.get_threshold() == thresholds  # its stop gave the collector back
