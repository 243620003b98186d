"""Turns at the Argon2 work: one per key, first come first served."""

from __future__ import annotations

import asyncio

import pytest

from multichat.server.chat.hash_slots import HashSlots


class Turns:
    """Callers holding turns until the test lets them go, and the order they got them in."""

    def __init__(self, slots: HashSlots) -> None:
        self.slots = slots
        self.order: list[str] = []
        self._done: dict[str, asyncio.Event] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def ask(self, name: str, *keys: str) -> None:
        self._done[name] = asyncio.Event()
        self.tasks[name] = asyncio.create_task(self._hold(name, keys))

    async def _hold(self, name: str, keys: tuple[str, ...]) -> None:
        async with self.slots.turn(keys):
            self.order.append(name)
            await self._done[name].wait()

    def finish(self, name: str) -> None:
        self._done[name].set()

    async def settle(self) -> None:
        for _ in range(5):
            await asyncio.sleep(0)


async def test_one_address_holds_one_slot_however_many_connections_it_opens() -> None:
    turns = Turns(HashSlots(2))
    for n in range(5):  # five connections of one attacker
        turns.ask(f"attacker-{n}", f"connection:{n}", "address:10.0.0.66")
    await turns.settle()
    assert turns.order == ["attacker-0"]  # the second slot stays free
    turns.ask("alice", "connection:9", "address:10.0.0.7", "account:alice")
    await turns.settle()
    assert turns.order == ["attacker-0", "alice"]  # at once, without waiting for anyone
    for name in list(turns.tasks):
        turns.finish(name)
    await asyncio.gather(*turns.tasks.values())


async def test_a_newcomer_is_served_before_those_who_come_back_for_more() -> None:
    """Three attacking addresses looping logins can't keep a fourth person waiting."""
    turns = Turns(HashSlots(2))
    for n in range(3):
        turns.ask(f"attacker-{n}-0", f"address:{n}")
    await turns.settle()
    turns.ask("alice", "address:alice")
    for round_ in range(1, 3):  # each attacker finishes and asks again at once
        for n in range(3):
            previous = f"attacker-{n}-{round_ - 1}"
            if previous in turns.order:
                turns.finish(previous)
                await turns.settle()
                turns.ask(f"attacker-{n}-{round_}", f"address:{n}")
        await turns.settle()
    # alice waited for those queued before her, never for anyone who came back after her
    assert turns.order[:4] == ["attacker-0-0", "attacker-1-0", "attacker-2-0", "alice"]
    for name in list(turns.tasks):
        turns.finish(name)
    await asyncio.gather(*turns.tasks.values())


async def test_one_account_is_checked_once_at_a_time_from_anywhere() -> None:
    turns = Turns(HashSlots(2))
    turns.ask("guess-1", "address:1", "account:alice")
    turns.ask("guess-2", "address:2", "account:alice")
    turns.ask("bob", "address:3", "account:bob")
    await turns.settle()
    assert turns.order == ["guess-1", "bob"]
    turns.finish("guess-1")
    await turns.settle()
    assert turns.order == ["guess-1", "bob", "guess-2"]
    turns.finish("bob")
    turns.finish("guess-2")
    await asyncio.gather(*turns.tasks.values())


async def test_a_cancelled_waiter_gives_up_its_place_and_a_cancelled_holder_its_slot() -> None:
    slots = HashSlots(1)
    turns = Turns(slots)
    turns.ask("first", "a")
    turns.ask("second", "b")
    turns.ask("third", "c")
    await turns.settle()
    turns.tasks["second"].cancel()
    await turns.settle()
    assert slots.waiting == 1
    turns.tasks["first"].cancel()
    await turns.settle()
    assert turns.order == ["first", "third"]
    turns.finish("third")
    await turns.tasks["third"]
    for name in ("first", "second"):
        with pytest.raises(asyncio.CancelledError):
            await turns.tasks[name]


async def test_a_newcomer_goes_before_the_queues_of_those_already_served() -> None:
    """Three attacking addresses with four connections each queued: the next free slot
    goes to someone who has not had a turn, not to their fourth connection."""
    turns = Turns(HashSlots(2))
    for n in range(3):
        for connection in range(4):
            turns.ask(f"attacker-{n}-{connection}", f"address:{n}",
                      f"connection:{n}-{connection}")
    await turns.settle()
    assert turns.order == ["attacker-0-0", "attacker-1-0"]
    turns.ask("alice", "address:alice", "connection:alice")
    turns.finish("attacker-0-0")
    await turns.settle()
    # attacker-2-0 had never had a turn either, and asked first
    assert turns.order[2:] == ["attacker-2-0"]
    turns.finish("attacker-1-0")
    await turns.settle()
    assert turns.order[3:] == ["alice"]  # before attacker-0-1, -1-1, ...: they had turns
    for name in list(turns.tasks):
        turns.finish(name)
    await asyncio.gather(*turns.tasks.values())
    assert len(turns.order) == 13
