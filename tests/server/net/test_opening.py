"""At most a few connections are in their opening at once; the rest wait unread, by turns.

Every client back at once must not crowd the loop (net/opening.py): a
connection waits for a slot before its handshake is read, gets it when one
ahead of it has joined its first room, and an address with many connections
waiting does not make another address wait behind all of them.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net.opening import OpeningSlots
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, BOB, seeded_server
from tests.helpers.timing import TIMEOUT

LOBBY = 1


@pytest.fixture
def one_slot() -> Iterator[None]:
    """One slot, held long: only the opening of the first connection goes on."""
    saved = OpeningSlots.SLOTS, OpeningSlots.HOLD
    OpeningSlots.SLOTS, OpeningSlots.HOLD = 1, 60.0
    yield
    OpeningSlots.SLOTS, OpeningSlots.HOLD = saved


@pytest.mark.usefixtures("one_slot")
async def test_a_connection_waits_unread_until_the_one_ahead_has_joined(
        server_config: ServerConfig, passwords: Passwords,
        clients: list[ProtocolClient]) -> None:
    async with seeded_server(server_config, passwords) as server:
        url = f"ws://127.0.0.1:{server.port}"
        first = await ProtocolClient.open(url)
        clients.append(first)
        await first.login(*ALICE)  # in its opening: the slot is its own
        second = asyncio.create_task(ProtocolClient.open(url))
        for _ in range(5):  # round trips of the first: the second is not even read
            await first.request(command="ping")
        assert not second.done()
        await first.join(LOBBY)  # its opening is done: the slot goes to the second
        other = await asyncio.wait_for(second, TIMEOUT)
        clients.append(other)
        await other.login(*BOB)
        await other.join(LOBBY)


@pytest.mark.usefixtures("one_slot")
async def test_a_silent_connection_does_not_hold_the_slot(
        server_config: ServerConfig, passwords: Passwords,
        clients: list[ProtocolClient]) -> None:
    async with seeded_server(server_config, passwords) as server:
        silent = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        try:
            client = await asyncio.wait_for(
                ProtocolClient.open(f"ws://127.0.0.1:{server.port}"), TIMEOUT)
            clients.append(client)
            await client.login(*ALICE)
        finally:
            silent.close()


class Waiting:
    """A connection as the slots see it, from an address, recording when it is let in."""

    def __init__(self, address: str, let_in: list[str], name: str) -> None:
        self.peer_host, self._let_in, self.name = address, let_in, name
        self.gone = False

    def let_in(self) -> None:
        self._let_in.append(self.name)

    def waiting_gone(self) -> bool:
        return self.gone


async def test_waiting_connections_are_let_in_by_turns_of_their_address() -> None:
    slots = OpeningSlots(slots=1)
    order: list[str] = []
    holder = Waiting("192.0.2.1", order, "holder")
    assert slots.arrive(holder)
    flood = [Waiting("198.51.100.7", order, f"flood-{n}") for n in range(5)]
    for connection in flood:
        assert not slots.arrive(connection)
    newcomer = Waiting("203.0.113.9", order, "newcomer")
    assert not slots.arrive(newcomer)
    flood[1].gone = True  # closed while it waited: skipped
    slots.opened(holder)
    slots.opened(flood[0])
    slots.opened(newcomer)
    for connection in flood[2:]:
        slots.opened(connection)
    assert order == ["flood-0", "newcomer", "flood-2", "flood-3", "flood-4"]
    assert slots.free == 1


async def test_a_slot_is_given_back_after_hold_seconds() -> None:
    slots = OpeningSlots(slots=1)
    slots.HOLD = 0.01
    order: list[str] = []
    assert slots.arrive(Waiting("192.0.2.1", order, "dawdler"))
    let_in = asyncio.Event()
    late = Waiting("192.0.2.2", order, "next")
    late.let_in = let_in.set  # type: ignore[method-assign]
    assert not slots.arrive(late)
    await asyncio.wait_for(let_in.wait(), TIMEOUT)
