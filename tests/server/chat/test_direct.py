"""Direct conversations over real sockets (PROTOCOL.md Part 2, "Direct conversations"):
the same people get the same room, its members use it like any room, and to anyone
else (a superuser included) its id answers every command as a missing one does."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.conftest import ADMIN, ALICE, BOB, STAFF, ClientFactory
from tests.helpers.client import Frame, ProtocolClient
from tests.helpers.servers import seeded_server

LOBBY = 1
MISSING = 999
JOIN_BURST = 8


NEW_PER_HOUR = 3


@pytest.fixture
async def server(server_config: ServerConfig,
                 passwords: Passwords) -> AsyncIterator[ChatServer]:
    config = dataclasses.replace(server_config, user_join_burst=JOIN_BURST,
                                 user_join_rate=0.01, max_new_direct_per_hour=NEW_PER_HOUR)
    async with seeded_server(config, passwords) as chat_server:
        yield chat_server


async def open_dm(client: ProtocolClient, *users: str) -> Frame:
    await client.send(command="dm.open", users=list(users), ref="dm")
    frame = await client.expect(lambda f: f.get("ref") == "dm")
    assert "dm" in frame, frame
    entry: Frame = frame["dm"]
    return entry


async def handled(client: ProtocolClient) -> None:
    """The server has handled what the client sent so far (it answers in order)."""
    await client.send(command="ping", ref="handled")
    await client.expect(lambda f: f.get("pong") is True)


async def test_the_same_people_get_the_same_room_and_its_members_are_told(
    connect: ClientFactory,
) -> None:
    alice, bob, sam = await connect(ALICE), await connect(BOB), await connect(STAFF)
    entry = await open_dm(alice, "bob")
    assert entry == {"id": entry["id"], "title": "alice, bob", "staff_only": False,
                     "kind": "direct", "last_seq": 0, "read_seq": 0, "unread": 0,
                     "members": ["alice", "bob"]}
    pushed = await bob.expect_key("rooms")
    assert entry in pushed["rooms"]
    assert (await open_dm(bob, "alice", "ALICE", "bob"))["id"] == entry["id"]
    group = await open_dm(sam, "bob", "alice")
    assert group["id"] != entry["id"] and group["members"] == ["alice", "bob", "sam"]
    await handled(sam)
    # sam heard of the group only; alice's list has both.
    assert not [f for f in sam.seen if "rooms" in f and entry in f["rooms"]]
    await alice.send(command="rooms", ref="list")
    listed = await alice.expect(lambda f: f.get("ref") == "list")
    assert {e["id"] for e in listed["rooms"] if e["kind"] == "direct"} == {
        entry["id"], group["id"]}


async def test_members_talk_in_it_like_in_any_room(connect: ClientFactory) -> None:
    alice, bob = await connect(ALICE), await connect(BOB)
    room = (await open_dm(alice, "bob"))["id"]
    await alice.join(room)
    await bob.join(room)
    await alice.send(command="send", room=room, message="just us", client_id="c1")
    said = await bob.expect(lambda f: f.get("message") == "just us")
    await bob.send(command="react", room=room, seq=said["seq"], emoji="👍")
    await alice.expect(lambda f: f.get("emoji") == "👍")
    await bob.send(command="read", room=room, seq=said["seq"])
    await bob.send(command="history", room=room, ref="h")
    page = await bob.expect(lambda f: f.get("ref") == "h")
    assert [m["message"] for m in page["messages"]] == ["just us"]


async def test_to_anyone_else_its_id_is_a_missing_id_on_every_command(
    connect: ClientFactory,
) -> None:
    alice, admin = await connect(ALICE), await connect(ADMIN)
    room = int((await open_dm(alice, "bob"))["id"])
    await alice.join(room)
    await alice.send(command="send", room=room, message="private")
    said = await alice.expect(lambda f: f.get("message") == "private")
    commands: list[dict[str, Any]] = [
        {"command": "join"}, {"command": "join", "since": 0}, {"command": "leave"},
        {"command": "history"}, {"command": "history", "around": 1},
        {"command": "read", "seq": 0}, {"command": "send", "message": "hi"},
        {"command": "typing"}, {"command": "edit", "seq": 1, "message": "x"},
        {"command": "delete", "seq": 1}, {"command": "react", "seq": 1, "emoji": "👍"},
        {"command": "announce", "message": "hear me", "msg_type": 1},
        {"command": "room.update", "title": "Mine now"}, {"command": "room.delete"},
    ]
    for command in commands:
        answers = []
        for target in (room, MISSING):
            await admin.send(**command, room=target, ref="r")
            error = await admin.expect(lambda f: f.get("ref") == "r")
            answers.append(json.dumps(error).replace(str(target), "ID"))
        assert answers[0] == answers[1], command
        assert "error" in json.loads(answers[0]), command
    await handled(admin)
    assert not [f for f in admin.seen if f.get("message") == "private"]
    assert not [f for f in admin.seen
                if "rooms" in f and any(e["kind"] == "direct" for e in f["rooms"])]
    # Nothing the superuser tried reached the conversation.
    await alice.send(command="history", room=room, ref="h")
    page = await alice.expect(lambda f: f.get("ref") == "h")
    assert [(m["seq"], m["message"]) for m in page["messages"]] == [(said["seq"], "private")]


async def test_in_a_direct_room_only_the_author_deletes_even_a_superusers_member(
    connect: ClientFactory,
) -> None:
    alice, admin = await connect(ALICE), await connect(ADMIN)
    room = (await open_dm(admin, "alice"))["id"]
    await alice.join(room)
    await admin.join(room)
    await alice.send(command="send", room=room, message="mine")
    said = await admin.expect(lambda f: f.get("message") == "mine")
    await admin.send(command="delete", room=room, seq=said["seq"], ref="d")
    error = await admin.expect(lambda f: f.get("ref") == "d")
    assert error["error"] == "PERMISSION_DENIED"
    # In a room the same superuser may.
    await alice.join(LOBBY)
    await admin.join(LOBBY)
    await alice.send(command="send", room=LOBBY, message="lobby words")
    said = await admin.expect(lambda f: f.get("message") == "lobby words")
    await admin.send(command="delete", room=LOBBY, seq=said["seq"])
    gone = await alice.expect(lambda f: f.get("msg_type") == 7)
    assert gone["target"] == said["seq"]


async def test_unknown_people_no_one_else_and_too_many_are_refused(
    connect: ClientFactory,
) -> None:
    alice = await connect(ALICE)
    cases: list[tuple[Any, str]] = [
        (["bob", "nobody"], "USER_INVALID"),
        (["alice"], "BAD_REQUEST"),
        ([f"user{n}" for n in range(16)], "BAD_REQUEST"),  # 16 others, before any lookup
        ([], "BAD_REQUEST"),
        ("bob", "BAD_REQUEST"),
    ]
    for users, code in cases:
        await alice.send(command="dm.open", users=users, ref="r")
        error = await alice.expect(lambda f: f.get("ref") == "r")
        assert error.get("error") == code, users
    await alice.send(command="rooms", ref="list")
    listed = await alice.expect(lambda f: f.get("ref") == "list")
    assert [e for e in listed["rooms"] if e["kind"] == "direct"] == []


async def test_repeats_and_the_opener_fold_away_before_counting(connect: ClientFactory) -> None:
    alice = await connect(ALICE)
    entry = await open_dm(alice, *(["bob", "BOB", "alice"] * 6))  # 18 names, one other
    assert entry["members"] == ["alice", "bob"]


async def test_opening_conversations_spends_the_join_bucket_even_across_reconnects(
    connect: ClientFactory,
) -> None:
    alice = await connect(ALICE)
    for _ in range(JOIN_BURST):
        await open_dm(alice, "bob")
    await alice.send(command="dm.open", users=["sam"], ref="over")
    error = await alice.expect(lambda f: f.get("ref") == "over")
    assert error["error"] == "RATE_LIMITED"
    # Closing every connection and logging in again gave a full bucket back (it was
    # shown to make 180 more conversations at once): no more.
    await alice.close()
    again = await connect(ALICE)
    await again.send(command="dm.open", users=["sam"], ref="again")
    error = await again.expect(lambda f: f.get("ref") == "again")
    assert error["error"] == "RATE_LIMITED"


async def test_a_user_starts_a_limited_number_of_conversations_an_hour(
    server: ChatServer, connect: ClientFactory,
) -> None:
    assert server.store is not None
    for n in range(NEW_PER_HOUR + 2):
        server.store.create_user(f"person{n}", "h")
    alice = await connect(ALICE)
    for n in range(NEW_PER_HOUR):
        await open_dm(alice, f"person{n}")
    await alice.send(command="dm.open", users=[f"person{NEW_PER_HOUR}"], ref="over")
    error = await alice.expect(lambda f: f.get("ref") == "over")
    assert (error["error"], "in the last hour" in error["detail"]) == ("RATE_LIMITED", True)
    # Opening one that exists makes nothing, so is not limited; others may start one.
    assert (await open_dm(alice, "person0"))["members"] == ["alice", "person0"]
    bob = await connect(BOB)
    assert (await open_dm(bob, f"person{NEW_PER_HOUR}"))["kind"] == "direct"
