"""Activity frames over real sockets (PROTOCOL.md Part 2, "Room kinds, read markers,
activity"): new events of rooms a connection may see but has not joined.

The server coalesces with its real window (a second): the tests wait until
every room's window has closed (``quiet``), never for a length of time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable

import pytest

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.conftest import ADMIN, ALICE, BOB, STAFF, ClientFactory
from tests.helpers.client import Frame, ProtocolClient
from tests.helpers.servers import seeded_server
from tests.helpers.waiting import eventually

LOBBY = 1
STAFF_ROOM = 2
BURST = 50


@pytest.fixture
async def server(server_config: ServerConfig,
                 passwords: Passwords) -> AsyncIterator[ChatServer]:
    # Bursts of BURST messages from one connection, and a few rounds of them.
    config = dataclasses.replace(server_config, send_burst=1000, user_send_burst=1000)
    async with seeded_server(config, passwords) as chat_server:
        yield chat_server


async def quiet(server: ChatServer, *clients: ProtocolClient) -> None:
    """Every activity frame due has gone out (each room's window closed), and reached
    ``clients`` (the server answers a client's frames in order)."""
    assert server.chat is not None
    coalescer = server.chat.activity.coalescer
    await eventually(lambda: coalescer.busy_rooms == 0)
    for client in clients:
        await client.send(command="ping", ref="quiet")
        await client.expect(lambda f: f.get("ref") == "quiet")


async def say(client: ProtocolClient, text: str, room: int = LOBBY) -> int:
    """Send a message to a room the client has joined; return its seq."""
    await client.send(command="send", room=room, message=text)
    frame = await client.expect(lambda f: f.get("message") == text)
    seq: int = frame["seq"]
    return seq


def activity_at(seq: int, room: int = LOBBY) -> Callable[[Frame], bool]:
    return lambda frame: frame.get("activity") == str(room) and frame["seq"] == seq


def of_type(msg_type: int) -> Callable[[Frame], bool]:
    return lambda frame: frame.get("msg_type") == msg_type


def activity(client: ProtocolClient, room: int = LOBBY) -> list[Frame]:
    return [frame for frame in client.seen if frame.get("activity") == str(room)]


async def test_a_viewer_outside_the_room_hears_of_a_message_a_member_does_not(
    server: ChatServer, connect: ClientFactory,
) -> None:
    alice, bob, carol_like = await connect(ALICE), await connect(BOB), await connect(STAFF)
    await alice.join(LOBBY)
    seq = await say(alice, "hello")
    expected = {"activity": "1", "seq": seq, "username": "alice", "mention": False, "count": 1}
    assert await bob.expect_key("activity") == expected
    assert await carol_like.expect_key("activity") == expected
    await quiet(server, alice, bob)
    assert activity(alice) == [] and activity(bob) == [expected]


async def test_a_staff_only_rooms_activity_never_reaches_non_staff(
    server: ChatServer, connect: ClientFactory,
) -> None:
    admin, sam, alice = await connect(ADMIN), await connect(STAFF), await connect(ALICE)
    await admin.join(STAFF_ROOM)
    seq = await say(admin, "staff news, alice", STAFF_ROOM)
    assert await sam.expect_key("activity") == {"activity": "2", "seq": seq,
                                                "username": "admin", "mention": False, "count": 1}
    await quiet(server, sam, alice)
    assert [f for f in alice.seen if "activity" in f] == []


async def test_edits_deletions_reactions_and_presence_make_no_activity(
    server: ChatServer, connect: ClientFactory,
) -> None:
    alice, bob, sam = await connect(ALICE), await connect(BOB), await connect(STAFF)
    await alice.join(LOBBY)
    seq = await say(alice, "typo")
    await quiet(server, bob)
    assert [f["seq"] for f in activity(bob)] == [seq]
    for msg_type, command in ((6, {"command": "edit", "message": "fixed"}),
                              (8, {"command": "react", "emoji": "👍", "on": True}),
                              (7, {"command": "delete"})):
        await alice.send(room=LOBBY, seq=seq, **command)
        await alice.expect(of_type(msg_type))
    await sam.join(LOBBY)  # ENTER, then LEAVE
    await sam.send(command="leave", room=LOBBY)
    await alice.expect(of_type(5))
    await quiet(server, bob)
    assert [f["seq"] for f in activity(bob)] == [seq]


async def test_a_burst_is_folded_and_its_last_seq_always_arrives(
    server: ChatServer, connect: ClientFactory,
) -> None:
    alice, bob = await connect(ALICE), await connect(BOB)
    await alice.join(LOBBY)
    for round_ in range(5):
        for i in range(BURST):
            await alice.send(command="send", room=LOBBY, message=f"round {round_} #{i}")
        last = await say(alice, f"round {round_}, the last")
        before = len(activity(bob))
        await bob.expect(activity_at(last))
        frames = activity(bob)[before:]
        seqs = [f["seq"] for f in frames]
        assert seqs == sorted(set(seqs)) and seqs[-1] == last
        assert len(frames) < BURST, seqs
        assert frames[-1]["username"] == "alice"
        # Each frame says how many messages it stands for: together, every one of them
        # (an unread count of a room not open stays exact, edits and reactions aside).
        assert sum(f["count"] for f in frames) == BURST + 1
        await quiet(server, bob)
        assert activity(bob)[-1]["seq"] == last  # nothing after the last


async def test_a_viewer_outside_several_busy_rooms_hears_the_last_of_each(
    server: ChatServer, connect: ClientFactory,
) -> None:
    """Frames of several rooms due at one tick go to a connection in one write."""
    admin, alice, sam = await connect(ADMIN), await connect(ALICE), await connect(STAFF)
    await admin.join(STAFF_ROOM)
    await alice.join(LOBBY)
    for i in range(BURST):
        await admin.send(command="send", room=STAFF_ROOM, message=f"staff {i}")
        await alice.send(command="send", room=LOBBY, message=f"lobby {i}")
    lobby, staff = await say(alice, "lobby, the last"), await say(admin, "staff, the last",
                                                                   STAFF_ROOM)
    lasts = (activity_at(lobby), activity_at(staff, STAFF_ROOM))
    while not all(any(last(frame) for frame in sam.seen) for last in lasts):
        await sam.recv()  # in either order
    await quiet(server, sam)
    for room, last in ((LOBBY, lobby), (STAFF_ROOM, staff)):
        seqs = [f["seq"] for f in activity(sam, room)]
        assert seqs == sorted(set(seqs)) and seqs[-1] == last and len(seqs) < BURST


async def test_a_mention_is_true_only_for_the_named_user(
    server: ChatServer, connect: ClientFactory,
) -> None:
    alice, bob, sam = await connect(ALICE), await connect(BOB), await connect(STAFF)
    await alice.join(LOBBY)
    seq = await say(alice, "@BOB, lunch?")
    assert (await bob.expect_key("activity"))["mention"] is True
    assert (await sam.expect_key("activity"))["mention"] is False
    await quiet(server)
    # Folded: a mention in the middle of a burst still reaches bob, and only bob.
    for text in ("one", "bob: two", "three", "bobby four", "five"):
        seq = await say(alice, text)
    await bob.expect(activity_at(seq))
    await sam.expect(activity_at(seq))
    await quiet(server, bob, sam)
    assert [f["mention"] for f in activity(bob)].count(True) == 2
    assert all(f["mention"] is False for f in activity(sam))
    # "bobby" alone names nobody called bob.
    seq = await say(alice, "bobby was here")
    last = await bob.expect(activity_at(seq))
    assert last["mention"] is False


async def test_joining_stops_activity_and_leaving_brings_it_back(
    server: ChatServer, connect: ClientFactory,
) -> None:
    alice, bob = await connect(ALICE), await connect(BOB)
    await alice.join(LOBBY)
    first = await say(alice, "before")
    await bob.expect_key("activity")
    await bob.join(LOBBY)
    await quiet(server)
    second = await say(alice, "while bob is in")
    await bob.expect(lambda f: f.get("seq") == second and f.get("msg_type") == 0)
    await quiet(server, bob)
    assert [f["seq"] for f in activity(bob)] == [first]
    await bob.send(command="leave", room=LOBBY)
    await bob.expect_key("leave")
    third = await say(alice, "after")
    assert (await bob.expect_key("activity"))["seq"] == third


async def test_a_connection_not_logged_in_or_logged_out_gets_none(
    server: ChatServer, connect: ClientFactory,
) -> None:
    alice, anonymous, bob = await connect(ALICE), await connect(), await connect(BOB)
    await bob.send(command="logout", ref="out")
    await bob.expect(lambda f: f.get("ref") == "out")
    await alice.join(LOBBY)
    await say(alice, "anyone?")
    await quiet(server, anonymous, bob)
    assert [f for f in (*anonymous.seen, *bob.seen) if "activity" in f] == []


async def test_a_room_made_staff_only_tells_non_staff_nothing_more(
    server: ChatServer, connect: ClientFactory,
) -> None:
    """The change is applied before any event stored after it is told (the VersionGate), and
    a folded frame due after it goes only to those who may see the room then."""
    admin, sam, bob = await connect(ADMIN), await connect(STAFF), await connect(BOB)
    await sam.join(LOBBY)
    for attempt in range(5):
        before = await say(sam, f"public {attempt}")
        await bob.expect(activity_at(before))
        await admin.send(command="room.update", room=LOBBY, staff_only=True, ref="up")
        assert "room.updated" in await admin.expect(lambda f: f.get("ref") == "up")
        after = await say(sam, f"staff only {attempt}")
        await admin.expect(activity_at(after))
        await quiet(server, bob)
        assert max(f["seq"] for f in activity(bob)) == before, f"try {attempt}"
        await admin.send(command="room.update", room=LOBBY, staff_only=False, ref="down")
        await admin.expect(lambda f: f.get("ref") == "down")


async def test_a_direct_conversation_tells_its_members_outside_it_and_no_one_else(
    server: ChatServer, connect: ClientFactory,
) -> None:
    alice, bob, admin = await connect(ALICE), await connect(BOB), await connect(ADMIN)
    await alice.send(command="dm.open", users=["bob"], ref="dm")
    room = int((await alice.expect(lambda f: f.get("ref") == "dm"))["dm"]["id"])
    await alice.join(room)
    seq = await say(alice, "just for you, bob", room)
    assert await bob.expect(activity_at(seq, room)) == {
        "activity": str(room), "seq": seq, "username": "alice", "mention": True, "count": 1}
    await quiet(server, alice, bob, admin)
    assert activity(admin, room) == [] and activity(alice, room) == []
