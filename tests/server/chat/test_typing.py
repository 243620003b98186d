"""Typing notices over real sockets (PROTOCOL.md Part 2, "Typing"), on a clock the test
moves by hand."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.conftest import ALICE, BOB, STAFF, ClientFactory
from tests.helpers.client import Frame, ProtocolClient
from tests.helpers.servers import seeded_server
from tests.server.chat.test_limits import FakeClock

LOBBY = 1
STAFF_ROOM = 2
COMMAND_BURST = 12


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def server(server_config: ServerConfig, passwords: Passwords,
                 clock: FakeClock) -> AsyncIterator[ChatServer]:
    config = dataclasses.replace(server_config, command_burst=COMMAND_BURST, command_rate=0.01)
    async with seeded_server(config, passwords, clock=clock) as chat_server:
        yield chat_server


async def marker(sender: ProtocolClient, *readers: ProtocolClient, text: str) -> None:
    """A message after the typing: each reader has seen everything sent before it."""
    await sender.send(command="send", room=LOBBY, message=text)
    for reader in readers:
        await reader.expect(lambda f: f.get("message") == text)


async def handled(client: ProtocolClient) -> None:
    """The server has handled what the client sent so far (it answers in order)."""
    await client.send(command="ping", ref="handled")
    await client.expect(lambda f: f.get("pong") is True)


def typings(client: ProtocolClient) -> list[Frame]:
    return [frame for frame in client.seen if "typing" in frame]


async def test_typing_reaches_the_other_members_not_the_typists_own_connections(
    connect: ClientFactory,
) -> None:
    alice, alice_phone, bob = await connect(ALICE), await connect(ALICE), await connect(BOB)
    outsider = await connect(STAFF)  # logged in, not in the room
    for client in (alice, alice_phone, bob):
        await client.join(LOBBY)
    await alice.send(command="typing", room=LOBBY)
    assert await bob.expect_key("typing") == {"typing": "1", "username": "alice"}
    await marker(bob, alice, alice_phone, bob, text="after")
    assert typings(alice) == typings(alice_phone) == []
    await outsider.send(command="ping", ref="p")
    await outsider.expect_key("pong")
    assert typings(outsider) == []
    # Not stored: history holds the message alone, with seq 1.
    page = await bob.request(command="history", room=LOBBY)
    assert [(m["seq"], m["message"]) for m in page["messages"]] == [(1, "after")]


async def test_one_typing_a_second_counts_the_rest_are_dropped_silently(
    connect: ClientFactory, clock: FakeClock,
) -> None:
    alice, bob = await connect(ALICE), await connect(BOB)
    await alice.join(LOBBY)
    await bob.join(LOBBY)
    for _ in range(3):
        await alice.send(command="typing", room=LOBBY)
    await handled(alice)
    clock.now += 0.5
    await alice.send(command="typing", room=LOBBY)
    await handled(alice)
    await marker(alice, alice, bob, text="one")
    assert len(typings(bob)) == 1
    assert not [f for f in alice.seen if "error" in f]  # dropped without a word
    clock.now += 0.5  # a second after the one that counted
    await alice.send(command="typing", room=LOBBY)
    await bob.send(command="typing", room=LOBBY)  # bob's own count is apart from alice's
    await marker(alice, alice, bob, text="two")
    assert len(typings(bob)) == 2 and len(typings(alice)) == 1


async def test_typing_needs_the_room_joined_as_send_does(connect: ClientFactory) -> None:
    anonymous = await connect()
    assert (await anonymous.request(command="typing", room=LOBBY))["error"] == \
        "USER_HAS_TO_LOGIN"
    alice = await connect(ALICE)
    bob = await connect(BOB)
    await bob.join(LOBBY)
    for room in (LOBBY, STAFF_ROOM, 99):
        typing = await alice.request(command="typing", room=room, ref="t")
        await alice.send(command="send", room=room, message="hi", ref="s")
        send = await alice.expect_key("error")
        assert typing["error"] == send["error"] == "ROOM_ACCESS_DENIED"
        assert typing["ref"] == "t"
    assert (await alice.request(command="typing"))["error"] == "BAD_REQUEST"
    await marker(bob, bob, text="nothing before")
    assert typings(bob) == []


async def test_a_typing_flood_spends_the_command_bucket(
    connect: ClientFactory, clock: FakeClock,
) -> None:
    alice, bob = await connect(ALICE), await connect(BOB)
    await alice.join(LOBBY)
    await bob.join(LOBBY)
    spent = 2  # the login and the join
    for _ in range(COMMAND_BURST - spent):
        await alice.send(command="typing", room=LOBBY)
    await alice.send(command="typing", room=LOBBY, ref="over")
    assert (await alice.expect_key("error")) == {
        "error": "RATE_LIMITED", "detail": "too many commands; slow down", "ref": "over"}
    await alice.send(command="rooms", ref="rooms")
    assert (await alice.expect_key("error"))["ref"] == "rooms"
    await handled(alice)
    clock.now += 5.0  # the typing limit is over; the command bucket still is not
    await alice.send(command="typing", room=LOBBY, ref="later")
    assert (await alice.expect_key("error"))["ref"] == "later"
    await marker(alice, bob, text="flooded")  # sends have their own bucket
    assert len(typings(bob)) == 1
