"""Replies, edits, deletions and reactions over real sockets (PROTOCOL.md Part 2)."""

from __future__ import annotations

from typing import Any

import pytest

from multichat.server.net import ChatServer
from tests.conftest import ADMIN, ALICE, BOB, STAFF, ClientFactory
from tests.helpers.client import Frame, ProtocolClient

LOBBY = 1
STAFF_ROOM = 2


def of_type(msg_type: int) -> Any:
    return lambda frame: frame.get("msg_type") == msg_type


async def say(client: ProtocolClient, text: str, room: int = LOBBY, **extra: Any) -> Frame:
    """Send a message and return its stored event as the sender gets it."""
    await client.send(command="send", room=room, message=text, **extra)
    return await client.expect(lambda f: (f.get("msg_type") == 0 and f.get("message") == text)
                               or "error" in f)


def username(client: ProtocolClient) -> str:
    name: str = next(f["login"]["username"] for f in client.seen if "login" in f)
    return name


async def answer(client: ProtocolClient, **command: Any) -> Frame:
    """Send a command; return the next change (msg_type 6-8) this client made, or error."""
    me = username(client)
    await client.send(**command)
    return await client.expect(
        lambda f: (f.get("msg_type") in (6, 7, 8) and f["username"] == me) or "error" in f)


async def history(client: ProtocolClient, **extra: Any) -> list[Frame]:
    await client.send(command="history", room=LOBBY, **extra)
    page = await client.expect(lambda f: "history" in f or "error" in f)
    assert "history" in page, page
    messages: list[Frame] = page["messages"]
    return messages


async def two_members(connect: ClientFactory) -> tuple[ProtocolClient, ProtocolClient]:
    alice = await connect(ALICE)
    bob = await connect(BOB)
    await alice.join(LOBBY)
    await bob.join(LOBBY)
    return alice, bob


async def test_a_reply_carries_reply_to_to_every_member_and_in_history(
    connect: ClientFactory,
) -> None:
    alice, bob = await two_members(connect)
    first = await say(alice, "question?")
    reply = await say(bob, "answer", reply_to=first["seq"])
    assert reply["reply_to"] == first["seq"]
    seen = await alice.expect(lambda f: f.get("message") == "answer")
    assert seen["reply_to"] == first["seq"] and seen["seq"] == reply["seq"]
    assert [m.get("reply_to") for m in await history(alice)] == [None, first["seq"]]


async def test_reply_to_must_name_a_message_of_the_same_room(
    connect: ClientFactory, server: ChatServer,
) -> None:
    admin = await connect(ADMIN)
    await admin.join(STAFF_ROOM)
    await say(admin, "staff only", room=STAFF_ROOM)  # seq 1 of the staff room
    alice = await connect(ALICE)
    await alice.join(LOBBY)
    # seq 1 exists in another room, not in the lobby; 0 and strings are not seqs
    error = await say(alice, "hi", reply_to=1)
    assert error["error"] == "MESSAGE_INVALID"
    await alice.send(command="send", room=LOBBY, message="hi", reply_to="1")
    assert (await alice.expect_key("error"))["error"] == "BAD_REQUEST"
    await admin.send(command="announce", room=LOBBY, message="notice", msg_type=1)
    announced = await admin.expect_key("announced")
    error = await say(alice, "re: notice", reply_to=announced["announced"]["seq"])
    assert error["error"] == "MESSAGE_INVALID"  # an announcement is no message
    assert server.store is not None and server.store.last_seq(LOBBY) == 1


async def test_an_edit_reaches_every_member_and_history_shows_the_current_text(
    connect: ClientFactory,
) -> None:
    alice, bob = await two_members(connect)
    original = await say(alice, "helo")
    edit = await answer(alice, command="edit", room=LOBBY, seq=original["seq"],
                        message="hello", client_id="e1")
    assert {k: edit[k] for k in ("room", "seq", "username", "msg_type", "target", "message",
                                 "client_id")} == {
        "room": "1", "seq": original["seq"] + 1, "username": "alice", "msg_type": 6,
        "target": original["seq"], "message": "hello", "client_id": "e1"}
    assert edit["ts"].endswith("Z")
    assert await bob.expect(of_type(6)) == edit
    (message,) = await history(bob)
    assert message["message"] == "hello" and message["edited"] is True
    assert message["seq"] == original["seq"] and "deleted" not in message


async def test_only_the_author_edits(connect: ClientFactory) -> None:
    alice, bob = await two_members(connect)
    admin = await connect(ADMIN)
    await admin.join(LOBBY)
    original = await say(alice, "mine")
    for other in (bob, admin):
        error = await answer(other, command="edit", room=LOBBY, seq=original["seq"],
                             message="yours now")
        assert error["error"] == "PERMISSION_DENIED", error
    (message,) = await history(alice)
    assert message["message"] == "mine" and "edited" not in message


async def test_a_deletion_removes_the_text_and_nothing_changes_it_after(
    connect: ClientFactory, server: ChatServer,
) -> None:
    alice, bob = await two_members(connect)
    original = await say(alice, "regrettable")
    await answer(alice, command="edit", room=LOBBY, seq=original["seq"], message="still bad")
    await answer(bob, command="react", room=LOBBY, seq=original["seq"], emoji="👍", on=True)
    deletion = await answer(alice, command="delete", room=LOBBY, seq=original["seq"])
    assert deletion["msg_type"] == 7 and deletion["target"] == original["seq"]
    assert deletion["message"] is None
    (message,) = await history(bob)
    assert message["message"] is None and message["deleted"] is True
    assert "reactions" not in message
    for command in ({"command": "edit", "message": "again"}, {"command": "delete"},
                    {"command": "react", "emoji": "👍", "on": False}):
        error = await answer(alice, room=LOBBY, seq=original["seq"], **command)
        assert error["error"] == "MESSAGE_INVALID", (command, error)
    error = await say(bob, "re", reply_to=original["seq"])
    assert error["error"] == "MESSAGE_INVALID"
    # A client that catches up sees the message deleted, then what happened to it.
    late = await connect(BOB)
    await late.join(LOBBY, since=0)
    replay = [await late.recv() for _ in range(4)]
    assert [f["msg_type"] for f in replay] == [0, 6, 8, 7]
    assert [f["seq"] for f in replay] == [1, 2, 3, 4]
    assert replay[0]["message"] is None and replay[0]["deleted"] is True
    assert replay[1]["message"] is None  # the edit's text went with the message
    assert server.store is not None


async def test_a_superuser_deletes_anyones_message_and_others_may_not(
    connect: ClientFactory,
) -> None:
    alice, bob = await two_members(connect)
    first = await say(alice, "one")
    second = await say(alice, "two")
    error = await answer(bob, command="delete", room=LOBBY, seq=first["seq"])
    assert error["error"] == "PERMISSION_DENIED"
    admin = await connect(ADMIN)
    await admin.join(LOBBY)
    deletion = await answer(admin, command="delete", room=LOBBY, seq=second["seq"])
    assert deletion["msg_type"] == 7 and deletion["username"] == "admin"
    assert [m.get("deleted", False) for m in await history(alice)] == [False, True]


async def test_changes_need_the_room_joined_and_a_room_one_may_see(
    connect: ClientFactory,
) -> None:
    staff = await connect(STAFF)
    await staff.join(STAFF_ROOM)
    secret = await say(staff, "staff secret", room=STAFF_ROOM)
    alice = await connect(ALICE)
    for command in ({"command": "delete"}, {"command": "edit", "message": "x"},
                    {"command": "react", "emoji": "👍", "on": True}):
        error = await answer(alice, room=STAFF_ROOM, seq=secret["seq"], **command)
        assert error["error"] == "ROOM_ACCESS_DENIED"
    await alice.send(command="join", room=STAFF_ROOM)
    assert (await alice.expect_key("error"))["error"] == "ROOM_ACCESS_DENIED"
    await alice.join(LOBBY)
    for seq in (secret["seq"], 99):  # the staff room's seq means nothing in the lobby
        error = await answer(alice, command="delete", room=LOBBY, seq=seq)
        assert error["error"] == "MESSAGE_INVALID"


async def test_reactions_toggle_and_a_no_op_stores_nothing_and_says_nothing(
    connect: ClientFactory, server: ChatServer,
) -> None:
    alice, bob = await two_members(connect)
    original = await say(alice, "lunch?")
    seq = original["seq"]
    on = await answer(bob, command="react", room=LOBBY, seq=seq, emoji="🍕", on=True)
    assert {k: on[k] for k in ("msg_type", "target", "emoji", "on", "username")} == {
        "msg_type": 8, "target": seq, "emoji": "🍕", "on": True, "username": "bob"}
    assert await alice.expect(of_type(8)) == on
    await answer(alice, command="react", room=LOBBY, seq=seq, emoji="🍕", on=True)
    await answer(alice, command="react", room=LOBBY, seq=seq, emoji="👨‍👩‍👧‍👦", on=True)
    (message,) = await history(bob)
    assert message["reactions"] == {"🍕": ["bob", "alice"], "👨‍👩‍👧‍👦": ["alice"]}
    assert server.store is not None
    stored = server.store.last_seq(LOBBY)
    # Again on, and off for one never given: nothing stored, no answer; a ping gets through.
    await bob.send(command="react", room=LOBBY, seq=seq, emoji="🍕", on=True)
    await bob.send(command="react", room=LOBBY, seq=seq, emoji="🎉", on=False)
    assert await bob.request(command="ping", ref="after") == {"pong": True, "ref": "after"}
    off = await answer(bob, command="react", room=LOBBY, seq=seq, emoji="🍕", on=False)
    assert off["seq"] == stored + 1 and off["on"] is False
    (message,) = await history(alice)
    assert message["reactions"] == {"🍕": ["alice"], "👨‍👩‍👧‍👦": ["alice"]}
    assert "edited" not in message


@pytest.mark.parametrize("emoji", ["👍👍", "ab", "🇫🇷🇩🇪", "x" * 10, "😀" * 10, "", " ",
                                   "\u0000", "a" * 1_000_000])
async def test_an_emoji_is_one_grapheme_of_at_most_32_bytes(
    connect: ClientFactory, emoji: str,
) -> None:
    alice, _ = await two_members(connect)
    original = await say(alice, "react to me")
    error = await answer(alice, command="react", room=LOBBY, seq=original["seq"], emoji=emoji,
                         on=True)
    assert error["error"] == "BAD_REQUEST", error


async def test_client_id_is_once_only_across_sends_edits_deletions_and_reactions(
    connect: ClientFactory, server: ChatServer,
) -> None:
    alice, bob = await two_members(connect)
    original = await say(alice, "typo", client_id="a1")
    edit = await answer(alice, command="edit", room=LOBBY, seq=original["seq"],
                        message="fixed", client_id="a2")
    await bob.expect(of_type(6))
    # The edit sent again, and a send reusing its client_id: the stored edit, to alice alone.
    again = await answer(alice, command="edit", room=LOBBY, seq=original["seq"],
                         message="fixed", client_id="a2")
    assert again == edit
    await alice.send(command="send", room=LOBBY, message="other", client_id="a2")
    assert await alice.expect(of_type(6)) == edit
    # A reaction and a deletion sent twice are stored once.
    for command in ({"command": "react", "emoji": "✅", "on": True, "client_id": "a3"},
                    {"command": "delete", "client_id": "a4"}):
        first = await answer(alice, room=LOBBY, seq=original["seq"], **command)
        assert await answer(alice, room=LOBBY, seq=original["seq"], **command) == first
    assert server.store is not None and server.store.last_seq(LOBBY) == 4
    await say(bob, "next")
    seen = [f["seq"] for f in bob.seen if "seq" in f]
    assert seen == [1, 2, 3, 4, 5]  # bob saw each once


async def test_history_around_a_seq_centres_on_it_and_skips_changes(
    connect: ClientFactory,
) -> None:
    alice, _ = await two_members(connect)
    for index in range(1, 11):
        message = await say(alice, f"m{index}")
        await answer(alice, command="react", room=LOBBY, seq=message["seq"], emoji="👀")
    # messages are seqs 1, 3, 5, ..., 19; reactions 2, 4, ..., 20
    page = await history(alice, around=9, limit=4)
    assert [m["message"] for m in page] == ["m4", "m5", "m6", "m7"]
    assert all(m["reactions"] == {"👀": ["alice"]} for m in page)
    assert [m["message"] for m in await history(alice, around=19, limit=4)] == [
        "m7", "m8", "m9", "m10"]
    assert [m["message"] for m in await history(alice, around=1, limit=3)] == [
        "m1", "m2", "m3"]
    assert [m["message"] for m in await history(alice, before=7, limit=2)] == ["m2", "m3"]


@pytest.mark.parametrize("round_", range(5))
async def test_a_pong_comes_after_the_outcome_of_every_change_before_it(
    connect: ClientFactory, round_: int,
) -> None:
    """A client empties its outbox by the pong behind a change (a reaction that changes
    nothing is answered by nothing): the pong must not overtake the change's outcome.
    It did: edit, ping, react, ping gave pong, PERMISSION_DENIED, pong, REACTION (five
    rounds: it depends on the writer's timing)."""
    alice, bob = await connect(ALICE), await connect(BOB)
    for client in (alice, bob):
        await client.join(LOBBY)
    said = await say(alice, f"alice's words {round_}")
    await bob.send(command="edit", room=LOBBY, seq=said["seq"], message="not mine")
    await bob.send(command="ping", ref="p1")
    await bob.send(command="react", room=LOBBY, seq=said["seq"], emoji="👍", client_id="r")
    await bob.send(command="ping", ref="p2")
    await bob.send(command="react", room=LOBBY, seq=said["seq"], emoji="👍", client_id="r2")
    await bob.send(command="ping", ref="p3")  # behind a reaction that changes nothing
    await bob.expect(lambda f: f.get("ref") == "p3")
    kinds = [("pong " + f["ref"]) if "pong" in f else f.get("error") or f.get("client_id")
             for f in bob.seen
             if "pong" in f or "error" in f or f.get("client_id") in ("r", "r2")]
    # Each pong after the outcomes of all before it (it may wait for later ones too).
    assert kinds.index("PERMISSION_DENIED") < kinds.index("pong p1")
    assert kinds.index("r") < kinds.index("pong p2") < kinds.index("pong p3")
    assert "r2" not in kinds  # the second 👍 changed nothing: answered by nothing
