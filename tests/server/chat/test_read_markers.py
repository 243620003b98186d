"""Room kinds, last_seq and read markers over real sockets (PROTOCOL.md Part 2, "Room
kinds, read markers, activity")."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.conftest import ADMIN, ALICE, BOB, ClientFactory
from tests.helpers.client import Frame, ProtocolClient
from tests.helpers.servers import seeded_server

LOBBY = 1
STAFF_ROOM = 2
COMMAND_BURST = 12


@pytest.fixture
async def server(server_config: ServerConfig,
                 passwords: Passwords) -> AsyncIterator[ChatServer]:
    config = dataclasses.replace(server_config, command_burst=COMMAND_BURST, command_rate=0.01)
    async with seeded_server(config, passwords) as chat_server:
        yield chat_server


async def say(client: ProtocolClient, *texts: str) -> int:
    """Send messages to the lobby; return the seq of the last."""
    frame: Frame = {}
    for text in texts:
        await client.send(command="send", room=LOBBY, message=text)
        frame = await client.expect(lambda f, t=text: f.get("message") == t)  # type: ignore[misc]
    seq: int = frame["seq"]
    return seq


async def rooms(client: ProtocolClient) -> dict[str, Frame]:
    await client.send(command="rooms", ref="list")
    frame = await client.expect(lambda f: f.get("ref") == "list")
    assert "rooms" in frame, frame
    return {entry["title"]: entry for entry in frame["rooms"]}


async def handled(client: ProtocolClient) -> None:
    """The server has handled what the client sent so far (it answers in order)."""
    await client.send(command="ping", ref="handled")
    await client.expect(lambda f: f.get("pong") is True)


def markers(client: ProtocolClient) -> list[Frame]:
    return [frame for frame in client.seen if "read" in frame]


async def test_room_entries_carry_kind_last_seq_and_this_users_read_seq(
    connect: ClientFactory,
) -> None:
    alice, bob = await connect(ALICE), await connect(BOB)
    assert (await rooms(alice))["Lobby"] == {"id": "1", "title": "Lobby", "staff_only": False,
                                             "kind": "room", "last_seq": 0, "read_seq": 0,
                                             "unread": 0}
    await alice.join(LOBBY)
    last = await say(alice, "one", "two", "three")
    await alice.send(command="read", room=LOBBY, seq=2)
    lobby = (await rooms(alice))["Lobby"]
    assert (lobby["last_seq"], lobby["read_seq"]) == (last, 2) == (3, 2)
    lobby = (await rooms(bob))["Lobby"]
    assert (lobby["last_seq"], lobby["read_seq"]) == (3, 0)


async def test_a_read_reaches_the_users_other_connections_only_when_it_moves(
    connect: ClientFactory,
) -> None:
    alice, alice_phone, bob = await connect(ALICE), await connect(ALICE), await connect(BOB)
    await alice.join(LOBBY)
    await say(alice, "one", "two", "three")
    await alice.send(command="read", room=LOBBY, seq=3)  # no room joined on the phone
    assert await alice_phone.expect_key("read") == {"read": "1", "seq": 3, "unread": 0}
    await alice_phone.send(command="read", room=LOBBY, seq=1)  # behind: kept, not pushed
    await alice_phone.send(command="read", room=LOBBY, seq=3)  # the same: not pushed
    for client in (alice, alice_phone, bob):
        await handled(client)
    assert markers(alice) == [] and markers(bob) == []  # not the reader, nor anyone else
    assert markers(alice_phone) == [{"read": "1", "seq": 3, "unread": 0}]
    assert (await rooms(alice_phone))["Lobby"]["read_seq"] == 3


async def test_a_read_needs_a_room_one_may_see_and_a_seq_it_has(
    connect: ClientFactory,
) -> None:
    admin, alice = await connect(ADMIN), await connect(ALICE)
    await admin.join(STAFF_ROOM)
    await admin.send(command="send", room=STAFF_ROOM, message="staff news")
    await admin.expect(lambda f: f.get("message") == "staff news")
    await alice.join(LOBBY)
    await say(alice, "one")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"room": STAFF_ROOM, "seq": 1}, "ROOM_ACCESS_DENIED"),
        ({"room": 99, "seq": 0}, "ROOM_INVALID"),
        ({"room": LOBBY, "seq": 2}, "BAD_REQUEST"),  # past the lobby's last_seq
        ({"room": LOBBY, "seq": -1}, "BAD_REQUEST"),
        ({"room": LOBBY, "seq": "1"}, "BAD_REQUEST"),
        ({"room": LOBBY}, "BAD_REQUEST"),
    ]
    for command, code in cases:
        await alice.send(command="read", ref="r", **command)
        error = await alice.expect_key("error")
        assert (error["error"], error["ref"]) == (code, "r"), command
    # Nothing was stored for the staff room, or past the lobby's newest seq.
    assert (await rooms(admin))["Staff room"]["read_seq"] == 0
    assert (await rooms(alice))["Lobby"]["read_seq"] == 0
    await alice.send(command="read", room=LOBBY, seq=1)  # a room not joined is fine too
    await alice.send(command="leave", room=LOBBY)
    await alice.expect_key("leave")
    assert (await rooms(alice))["Lobby"]["read_seq"] == 1


async def test_a_read_flood_spends_the_command_bucket(connect: ClientFactory) -> None:
    alice, alice_phone = await connect(ALICE), await connect(ALICE)
    await alice.join(LOBBY)
    last = await say(alice, *(f"m{n}" for n in range(20)))
    spent = 2  # the login and the join
    for seq in range(1, COMMAND_BURST - spent + 1):
        await alice.send(command="read", room=LOBBY, seq=seq)
    await alice.send(command="read", room=LOBBY, seq=last, ref="over")
    error = await alice.expect_key("error")
    assert (error["error"], error["ref"]) == ("RATE_LIMITED", "over")
    await handled(alice)
    await handled(alice_phone)
    pushed = [frame["seq"] for frame in markers(alice_phone)]
    assert pushed == list(range(1, COMMAND_BURST - spent + 1))  # the refused one stored nothing
    assert (await rooms(alice_phone))["Lobby"]["read_seq"] == COMMAND_BURST - spent


async def test_a_pushed_room_list_carries_each_users_own_read_seq(
    connect: ClientFactory,
) -> None:
    admin, alice, bob = await connect(ADMIN), await connect(ALICE), await connect(BOB)
    await alice.join(LOBBY)
    await say(alice, "one", "two")
    await alice.send(command="read", room=LOBBY, seq=2)
    await handled(alice)
    await admin.send(command="room.create", title="Garden")
    await admin.expect_key("room.created")
    pushed = {}
    for client in (alice, bob):
        frame = await client.expect(lambda f: "rooms" in f and "ref" not in f)
        pushed[username(client)] = {e["title"]: (e["kind"], e["last_seq"], e["read_seq"])
                                    for e in frame["rooms"]}
    assert pushed == {
        "alice": {"Garden": ("room", 0, 0), "Lobby": ("room", 2, 2)},
        "bob": {"Garden": ("room", 0, 0), "Lobby": ("room", 2, 0)},
    }


def username(client: ProtocolClient) -> str:
    name: str = next(f["login"]["username"] for f in client.seen if "login" in f)
    return name


async def test_unread_leaves_out_edits_deletions_and_reactions(connect: ClientFactory) -> None:
    """A client shows ``unread``: last_seq - read_seq counted each reaction as a message."""
    alice, bob, bob_phone = await connect(ALICE), await connect(BOB), await connect(BOB)
    await alice.join(LOBBY)
    first = await say(alice, "one")
    for emoji in ("👍", "🎉", "👀"):
        await alice.send(command="react", room=LOBBY, seq=first, emoji=emoji)
        await alice.expect(lambda f, e=emoji: f.get("emoji") == e)  # type: ignore[misc]
    await alice.send(command="edit", room=LOBBY, seq=first, message="one!")
    await alice.expect(lambda f: f.get("msg_type") == 6)
    last = await say(alice, "two")
    lobby = (await rooms(bob))["Lobby"]
    assert (lobby["last_seq"], lobby["read_seq"], lobby["unread"]) == (last, 0, 2)
    await bob.send(command="read", room=LOBBY, seq=first + 2)  # up to a reaction
    assert await bob_phone.expect_key("read") == {"read": "1", "seq": first + 2, "unread": 1}
    assert (await rooms(bob_phone))["Lobby"]["unread"] == 1
