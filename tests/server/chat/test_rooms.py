"""Rooms: listing, joining, leaving, presence counted per user."""

from __future__ import annotations

from multichat.protocol import ErrorCode
from tests.conftest import ADMIN, ALICE, BOB, STAFF
from tests.server.chat.conftest import ChatHarness

LOBBY, STAFF_ROOM = 1, 2


async def test_staff_only_rooms_are_listed_to_staff_and_superusers_only(
    harness: ChatHarness,
) -> None:
    for credentials, expected in ((ALICE, ["Lobby"]), (STAFF, ["Lobby", "Staff room"]),
                                  (ADMIN, ["Lobby", "Staff room"])):
        session, peer = await harness.session(credentials)
        await harness.run(session, command="rooms", ref="r")
        (reply,) = peer.take()
        assert [room["title"] for room in reply["rooms"]] == expected
        assert reply["ref"] == "r"
        assert all(isinstance(room["id"], str) for room in reply["rooms"])


async def test_join_errors(harness: ChatHarness) -> None:
    session, _ = await harness.session(ALICE)
    for room, code in ((999, ErrorCode.ROOM_INVALID), (0, ErrorCode.ROOM_INVALID),
                       (STAFF_ROOM, ErrorCode.ROOM_ACCESS_DENIED)):
        error = await harness.run(session, command="join", room=room)
        assert error is not None and error.code is code
    assert session.rooms == set()
    staff, _ = await harness.session(STAFF)
    assert await harness.run(staff, command="join", room=STAFF_ROOM) is None


async def test_join_answers_title_then_members_then_enter(harness: ChatHarness) -> None:
    _, alice_peer = await harness.joined(ALICE)
    bob, bob_peer = await harness.session(BOB)
    await harness.run(bob, command="join", room="1", ref="j")
    frames = bob_peer.take()
    assert frames == [
        {"join": "1", "title": "Lobby", "ref": "j"},
        {"members": "1", "users": ["alice", "bob"]},
        {"room": "1", "message": None, "username": "bob", "msg_type": 4, "ts": frames[2]["ts"]},
    ]
    enter = await alice_peer.expect(lambda f: f.get("msg_type") == 4 and f["username"] == "bob")
    assert "seq" not in enter


async def test_a_user_with_two_connections_enters_once_and_leaves_once(
    harness: ChatHarness,
) -> None:
    _, watcher = await harness.joined(BOB)
    first, _ = await harness.joined(ALICE)
    second, _ = await harness.joined(ALICE)
    notices = [f for f in watcher.take() if f.get("msg_type") in (4, 5) and f["username"] != "bob"]
    assert [(f["username"], f["msg_type"]) for f in notices] == [("alice", 4)]
    await harness.run(first, command="leave", room=LOBBY)
    assert [f for f in watcher.take() if f.get("msg_type") == 5] == []
    await harness.chat.disconnect(second)  # the last connection drops
    leave = await watcher.expect(lambda f: f.get("msg_type") == 5)
    assert leave["username"] == "alice" and leave["message"] is None
    assert harness.chat.presence.usernames(LOBBY) == ["bob"]


async def test_leave_replies_and_is_harmless_when_not_joined(harness: ChatHarness) -> None:
    session, peer = await harness.joined(ALICE)
    peer.take()
    await harness.run(session, command="leave", room=LOBBY, ref="l1")
    assert peer.take() == [{"leave": "1", "ref": "l1"}]
    await harness.run(session, command="leave", room=LOBBY)
    assert peer.take() == [{"leave": "1"}]
    error = await harness.run(session, command="leave", room=999)
    assert error is not None and error.code is ErrorCode.ROOM_INVALID


async def test_joining_twice_replies_again_without_a_second_enter(harness: ChatHarness) -> None:
    _, watcher = await harness.joined(BOB)
    session, peer = await harness.joined(ALICE)
    await harness.run(session, command="join", room=LOBBY)
    assert [next(iter(f)) for f in peer.take()][-2:] == ["join", "members"]
    enters = [f for f in watcher.take() if f.get("msg_type") == 4 and f["username"] == "alice"]
    assert len(enters) == 1
