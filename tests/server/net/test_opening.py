"""At most a few connections are in their opening at once; the rest wait unread, by turns.

Every client back at once must not crowd the loop (net/opening.py): a
connection waits for a slot before its handshake is read, gets it when one
ahead of it has joined its first room, and an address with many connections
waiting does not make another address wait behind all of them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
from collections.abc import Callable, Iterator

import pytest

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net.opening import OpeningSlots
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, BOB, seeded_server
from tests.helpers.timing import TIMEOUT
from tests.server.net.raw_handshake import request, send_raw

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


@pytest.mark.usefixtures("one_slot")
async def test_a_connection_past_the_waiting_cap_of_its_address_is_closed_unanswered(
        server_config: ServerConfig, passwords: Passwords,
        clients: list[ProtocolClient]) -> None:
    """As many connections of one address may wait as it may have open; the rest are
    closed as they arrive, and the one that waits is served in its turn."""
    config = dataclasses.replace(server_config, max_connections_per_address=1,
                                 limit_loopback=True)
    async with seeded_server(config, passwords) as server:
        first = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}")
        clients.append(first)
        await first.login(*ALICE)  # holds the one slot
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port,
                                                       local_addr=("127.0.0.2", 0))
        try:
            writer.write(request())  # waits: the one of its address that may
            excess = await send_raw(server.port, request(), local="127.0.0.2")
            assert excess.status is None  # closed, unanswered
            await first.join(LOBBY)  # the slot goes to the one that waited
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
            assert head.startswith(b"HTTP/1.1 101")
        finally:
            writer.close()


class Waiting:
    """A connection as the slots see it, from an address, recording when it is let in."""

    def __init__(self, address: str, let_in: list[str], name: str) -> None:
        self.peer_host, self._let_in, self.name = address, let_in, name
        self.gone = self.closed = False
        self.on_close: Callable[[], None] = lambda: None

    def let_in(self) -> None:
        self._let_in.append(self.name)

    def turn_away(self) -> None:
        self.closed = self.gone = True
        self.on_close()

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


async def test_an_ipv6_slash_64_takes_one_turn_for_all_its_addresses() -> None:
    """The turns go by the key the per-address limits count (IPv6 by its /64): one /64
    with many addresses does not put everyone else behind one turn of each."""
    slots = OpeningSlots(slots=1)
    order: list[str] = []
    holder = Waiting("192.0.2.1", order, "holder")
    assert slots.arrive(holder)
    flood = [Waiting(f"2001:db8::{n}", order, f"flood-{n}") for n in range(1, 6)]
    for connection in flood:
        assert not slots.arrive(connection)
    newcomer = Waiting("203.0.113.9", order, "newcomer")
    assert not slots.arrive(newcomer)
    slots.opened(holder)
    slots.opened(flood[0])
    assert order == ["flood-1", "newcomer"]


async def test_connections_waiting_past_the_cap_of_their_address_are_closed(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="multichat.server.net.opening")
    slots = OpeningSlots(slots=1, per_address=3)
    order: list[str] = []
    assert slots.arrive(Waiting("192.0.2.1", order, "holder"))
    flood = [Waiting(f"2001:db8::{n}", order, f"flood-{n}") for n in range(1, 6)]
    for connection in flood:
        assert not slots.arrive(connection)
    assert [c.closed for c in flood] == [False, False, False, True, True]
    assert len(caplog.records) == 1  # one line, not one per connection
    other = Waiting("203.0.113.9", order, "other")
    assert not slots.arrive(other)  # another address still waits
    assert not other.closed


async def test_connections_waiting_past_the_total_cap_are_closed() -> None:
    slots = OpeningSlots(slots=1, max_waiting=4)
    order: list[str] = []
    assert slots.arrive(Waiting("192.0.2.1", order, "holder"))
    many = [Waiting(f"198.51.100.{n}", order, f"n{n}") for n in range(6)]
    for connection in many:
        assert not slots.arrive(connection)
    assert [c.closed for c in many] == [False] * 4 + [True] * 2


async def test_the_cap_of_an_address_spares_an_exempt_one() -> None:
    """Behind a trusted proxy every connection has the proxy's address (and loopback
    programs are not limited): those are capped only by the total."""
    slots = OpeningSlots(slots=1, per_address=2, exempt=lambda peer: peer == "10.0.0.1")
    order: list[str] = []
    assert slots.arrive(Waiting("192.0.2.1", order, "holder"))
    proxied = [Waiting("10.0.0.1", order, f"p{n}") for n in range(5)]
    for connection in proxied:
        assert not slots.arrive(connection)
    assert not any(c.closed for c in proxied)


async def test_a_connection_that_waits_past_the_deadline_is_closed() -> None:
    slots = OpeningSlots(slots=1, wait=0.01)
    order: list[str] = []
    assert slots.arrive(Waiting("192.0.2.1", order, "holder"))  # never gives its slot back
    late = Waiting("192.0.2.2", order, "late")
    closed = asyncio.Event()
    late.on_close = closed.set
    assert not slots.arrive(late)
    await asyncio.wait_for(closed.wait(), TIMEOUT)
    assert order == []  # it was never let in


def _on_uvloop() -> bool:
    return type(asyncio.get_running_loop()).__module__.startswith("uvloop")


@pytest.mark.usefixtures("one_slot")
async def test_a_waiting_connection_that_sends_too_much_is_closed(
        server_config: ServerConfig, passwords: Passwords,
        clients: list[ProtocolClient]) -> None:
    """uvloop reads a paused connection once (up to 256 KB) before it is paused:
    what came is kept for its turn, but not past the bound of a handshake."""
    if not _on_uvloop():
        pytest.skip("asyncio reads nothing of a waiting connection")
    async with seeded_server(server_config, passwords) as server:
        first = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}")
        clients.append(first)
        await first.login(*ALICE)  # holds the one slot
        flood = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        try:
            flood.sendall(b"GET / HTTP/1.1\r\nX-Padding: " + b"a" * (OpeningSlots.EARLY_BYTES + 1))
            try:
                answer = await asyncio.to_thread(flood.recv, 1)
            except ConnectionResetError:
                answer = b""
            assert answer == b""  # closed, unanswered
        finally:
            flood.close()


async def test_a_connection_that_closed_while_it_waited_leaves_room_for_another() -> None:
    slots = OpeningSlots(slots=1, per_address=1)
    order: list[str] = []
    assert slots.arrive(Waiting("192.0.2.1", order, "holder"))
    gone = Waiting("198.51.100.7", order, "gone")
    assert not slots.arrive(gone)
    slots.opened(gone)  # its close (connection_lost), before its turn
    again = Waiting("198.51.100.7", order, "again")
    assert not slots.arrive(again)
    assert not again.closed
