"""Admin commands: superusers only, answered, and pushed to whoever they affect."""

from __future__ import annotations

import asyncio

import pytest

from multichat.protocol import CloseCode, ErrorCode
from tests.conftest import ADMIN, ALICE, BOB, STAFF
from tests.server.chat.conftest import ChatHarness

LOBBY, STAFF_ROOM = 1, 2


@pytest.mark.parametrize(
    "frame",
    [
        {"command": "room.create", "title": "X"},
        {"command": "room.update", "room": 1, "title": "X"},
        {"command": "room.delete", "room": 1},
        {"command": "user.list"},
        {"command": "user.create", "username": "x", "password": "p"},
        {"command": "user.update", "username": "bob", "is_staff": True},
        {"command": "user.delete", "username": "bob"},
        {"command": "announce", "room": 1, "message": "m", "msg_type": 1},
    ],
)
async def test_admin_commands_are_for_superusers_only(
    harness: ChatHarness, frame: dict[str, object]
) -> None:
    for credentials in (ALICE, STAFF):
        session, _ = await harness.session(credentials)
        error = await harness.run(session, **frame)
        assert error is not None and error.code is ErrorCode.PERMISSION_DENIED


async def test_room_changes_are_answered_and_pushed_to_everyone(harness: ChatHarness) -> None:
    admin, admin_peer = await harness.session(ADMIN)
    _, alice_peer = await harness.session(ALICE)
    await harness.run(admin, command="room.create", title="Garden", ref="c")
    created = await admin_peer.expect_key("room.created")
    assert created == {"room.created": {"id": "3", "title": "Garden", "staff_only": False},
                       "ref": "c"}
    pushed = await alice_peer.expect_key("rooms")
    assert [r["title"] for r in pushed["rooms"]] == ["Garden", "Lobby"]
    error = await harness.run(admin, command="room.create", title="Garden")
    assert error is not None and error.code is ErrorCode.ROOM_TITLE_TAKEN
    await harness.run(admin, command="room.update", room=3, title="Yard")
    assert (await admin_peer.expect_key("room.updated"))["room.updated"]["title"] == "Yard"
    assert [r["title"] for r in (await alice_peer.expect_key("rooms"))["rooms"]] == [
        "Lobby", "Yard"
    ]
    error = await harness.run(admin, command="room.update", room=99, title="Nope")
    assert error is not None and error.code is ErrorCode.ROOM_INVALID


async def test_deleting_a_room_removes_its_members(harness: ChatHarness) -> None:
    admin, admin_peer = await harness.session(ADMIN)
    alice, alice_peer = await harness.joined(ALICE)
    await harness.run(admin, command="room.delete", room=LOBBY)
    assert (await admin_peer.expect_key("room.deleted"))["room.deleted"]["id"] == "1"
    assert await alice_peer.expect_key("leave") == {"leave": "1"}
    assert (await alice_peer.expect_key("rooms"))["rooms"] == []
    assert alice.rooms == set()
    error = await harness.run(alice, command="send", room=LOBBY, message="anyone?")
    assert error is not None and error.code is ErrorCode.ROOM_ACCESS_DENIED


async def test_making_a_room_staff_only_removes_non_staff_members(harness: ChatHarness) -> None:
    admin, _ = await harness.session(ADMIN)
    alice, alice_peer = await harness.joined(ALICE)
    staff, staff_peer = await harness.joined(STAFF)
    await harness.run(admin, command="room.update", room=LOBBY, staff_only=True)
    assert await alice_peer.expect_key("leave") == {"leave": "1"}
    assert LOBBY in staff.rooms and LOBBY not in alice.rooms
    leave = await staff_peer.expect(lambda f: f.get("msg_type") == 5)
    assert leave["username"] == "alice"


async def test_user_management(harness: ChatHarness) -> None:
    admin, peer = await harness.session(ADMIN)
    await harness.run(admin, command="user.create", username="carol", password="carol-password",
                      is_staff=True)
    assert await peer.expect_key("user.created") == {
        "user.created": {"username": "carol", "is_staff": True, "is_superuser": False}
    }
    error = await harness.run(admin, command="user.create", username="carol",
                              password="carol-password")
    assert error is not None and error.code is ErrorCode.USER_EXISTS
    error = await harness.run(admin, command="user.create", username="bad name",
                              password="password-1")
    assert error is not None and error.code is ErrorCode.BAD_REQUEST
    await harness.run(admin, command="user.list")
    users = (await peer.expect_key("users"))["users"]
    assert [u["username"] for u in users] == ["admin", "alice", "bob", "carol", "sam"]
    error = await harness.run(admin, command="user.update", username="nobody", is_staff=True)
    assert error is not None and error.code is ErrorCode.USER_UNKNOWN
    carol, _ = await harness.session(("carol", "carol-password"))
    assert carol.user is not None and carol.user.is_staff


async def test_a_deleted_users_sessions_are_closed(harness: ChatHarness) -> None:
    admin, _ = await harness.session(ADMIN)
    alice, alice_peer = await harness.joined(ALICE)
    _, bob_peer = await harness.joined(BOB)
    await harness.run(admin, command="user.delete", username="alice")
    assert await alice_peer.wait_closed() == (CloseCode.SESSION_REVOKED, "login revoked")
    leave = await bob_peer.expect(lambda f: f.get("msg_type") == 5)
    assert leave["username"] == "alice"
    assert alice.user is None


async def test_a_password_reset_closes_the_users_sessions_but_the_resetters_own(
    harness: ChatHarness,
) -> None:
    admin, admin_peer = await harness.session(ADMIN)
    _, other_admin_peer = await harness.session(ADMIN)
    _, alice_peer = await harness.session(ALICE)
    await harness.run(admin, command="user.update", username="alice", password="new-password")
    await alice_peer.wait_closed()
    await harness.run(admin, command="user.update", username="admin", password="admin-password-2")
    await other_admin_peer.wait_closed()
    assert admin_peer.closed is None
    error = await harness.run((await harness.session())[0], command="login",
                              username="alice", password="alice-password")
    assert error is not None and error.code is ErrorCode.LOGIN_FAILED
    await harness.session(("alice", "new-password"))


async def test_flag_changes_reach_the_user(harness: ChatHarness) -> None:
    admin, _ = await harness.session(ADMIN)
    alice, alice_peer = await harness.session(ALICE)
    await harness.run(admin, command="user.update", username="alice", is_staff=True)
    assert await alice_peer.expect_key("account") == {
        "account": {"username": "alice", "is_staff": True, "is_superuser": False}
    }
    assert [r["title"] for r in (await alice_peer.expect_key("rooms"))["rooms"]] == [
        "Lobby", "Staff room"
    ]
    assert await harness.run(alice, command="join", room=STAFF_ROOM) is None


async def test_the_last_superuser_cannot_be_removed(harness: ChatHarness) -> None:
    admin, _ = await harness.session(ADMIN)
    for frame in ({"command": "user.delete", "username": "admin"},
                  {"command": "user.update", "username": "admin", "is_superuser": False}):
        error = await harness.run(admin, **frame)
        assert error is not None and error.code is ErrorCode.PERMISSION_DENIED
    assert [u.username for u in harness.store.users() if u.is_superuser] == ["admin"]


async def test_announcements_are_stored_numbered_and_typed(harness: ChatHarness) -> None:
    admin, admin_peer = await harness.session(ADMIN)
    _, alice_peer = await harness.joined(ALICE)
    await harness.run(admin, command="announce", room=LOBBY, message="Fire drill", msg_type=2,
                      ref="a")
    event = await alice_peer.expect(lambda f: f.get("msg_type") == 2)
    assert (event["message"], event["username"], event["seq"]) == ("Fire drill", "admin", 1)
    reply = await admin_peer.expect_key("announced")
    assert reply["announced"]["seq"] == 1 and reply["ref"] == "a"
    error = await harness.run(admin, command="announce", room=99, message="x", msg_type=1)
    assert error is not None and error.code is ErrorCode.ROOM_INVALID


async def test_changes_made_directly_in_the_database_reach_sessions(harness: ChatHarness) -> None:
    """The admin CLI writes to the database; the running server notices by polling."""
    alice, alice_peer = await harness.joined(ALICE)
    harness.store.create_room("From the CLI")
    pushed = await alice_peer.expect_key("rooms")
    assert "From the CLI" in [r["title"] for r in pushed["rooms"]]
    harness.store.delete_room(LOBBY)
    assert await alice_peer.expect_key("leave") == {"leave": "1"}
    harness.store.delete_user("alice")
    await alice_peer.wait_closed()
    assert alice.user is None


async def test_a_login_during_a_reconcile_is_not_mistaken_for_a_revoked_one(
    harness: ChatHarness,
) -> None:
    """Sessions that log in while the database is being asked keep their login."""
    await harness.session(ADMIN)
    reconcile = asyncio.create_task(harness.chat.reconcile())
    newcomers = [await harness.session(ALICE) for _ in range(5)]
    await reconcile
    await harness.chat.reconcile()
    assert all(peer.closed is None for _, peer in newcomers)
    assert all(session.user is not None for session, _ in newcomers)
