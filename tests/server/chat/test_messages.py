"""Sending, storing, numbering, deduplicating, catching up."""

from __future__ import annotations

import asyncio

import pytest

from multichat.protocol import ErrorCode
from multichat.server.chat import Session
from multichat.server.chat.limits import TokenBucket
from multichat.server.store.errors import StoreUnavailable
from tests.conftest import ALICE, BOB
from tests.server.chat.conftest import ChatHarness

LOBBY = 1


def unlimited(session: Session) -> None:
    """Lift a session's send rate limit, for tests that need volume."""
    session.send_bucket = TokenBucket(burst=100_000, rate=100_000)
    session.user_bucket = TokenBucket(burst=100_000, rate=100_000)


def is_message(frame: dict[str, object]) -> bool:
    return frame.get("msg_type") == 0


async def test_a_message_reaches_every_member_with_seq_ts_and_client_id(
    harness: ChatHarness,
) -> None:
    alice, alice_peer = await harness.joined(ALICE)
    _, bob_peer = await harness.joined(BOB)
    await harness.run(alice, command="send", room=LOBBY, message="hello", client_id="c-1")
    for peer in (alice_peer, bob_peer):
        event = await peer.expect(is_message)
        assert {k: event[k] for k in ("room", "message", "username", "msg_type", "seq",
                                      "client_id")} == {
            "room": "1", "message": "hello", "username": "alice", "msg_type": 0, "seq": 1,
            "client_id": "c-1",
        }
        assert event["ts"].endswith("Z")


async def test_send_rules(harness: ChatHarness) -> None:
    alice, _ = await harness.session(ALICE)
    error = await harness.run(alice, command="send", room=LOBBY, message="x")
    assert error is not None and error.code is ErrorCode.ROOM_ACCESS_DENIED
    await harness.run(alice, command="join", room=LOBBY)
    error = await harness.run(alice, command="send", room=LOBBY, message="x" * 10_001)
    assert error is not None and error.code is ErrorCode.MESSAGE_TOO_LONG
    assert await harness.run(alice, command="send", room=LOBBY, message="x" * 10_000) is None


async def test_a_flood_is_rate_limited_and_not_stored(harness: ChatHarness) -> None:
    alice, peer = await harness.joined(ALICE)  # the harness allows a burst of 5
    errors = [await harness.run(alice, command="send", room=LOBBY, message=f"m{i}")
              for i in range(7)]
    assert [e.code if e else None for e in errors] == [None] * 5 + [ErrorCode.RATE_LIMITED] * 2
    stored = [await peer.expect(is_message) for _ in range(5)]
    assert [e["seq"] for e in stored] == [1, 2, 3, 4, 5]
    assert harness.store.last_seq(LOBBY) == 5


async def test_a_resent_client_id_is_answered_to_the_sender_alone(harness: ChatHarness) -> None:
    alice, alice_peer = await harness.joined(ALICE)
    _, bob_peer = await harness.joined(BOB)
    await harness.run(alice, command="send", room=LOBBY, message="once", client_id="same")
    first = await alice_peer.expect(is_message)
    await bob_peer.expect(is_message)
    await harness.run(alice, command="send", room=LOBBY, message="once", client_id="same")
    again = await alice_peer.expect(is_message)
    assert again == first
    await harness.run(alice, command="send", room=LOBBY, message="next")
    assert (await bob_peer.expect(is_message))["seq"] == 2  # bob never saw the resend
    assert harness.store.last_seq(LOBBY) == 2


async def test_history_returns_the_newest_before_a_seq_oldest_first(harness: ChatHarness) -> None:
    alice, peer = await harness.joined(ALICE)
    for i in range(1, 5):
        await harness.run(alice, command="send", room=LOBBY, message=f"m{i}")
    await peer.expect(lambda f: f.get("seq") == 4)
    await harness.run(alice, command="history", room=LOBBY, before=4, limit=2, ref="h")
    reply = await peer.expect_key("history")
    assert reply["history"] == "1" and reply["ref"] == "h"
    assert [(m["seq"], m["message"]) for m in reply["messages"]] == [(2, "m2"), (3, "m3")]
    await harness.run(alice, command="history", room=LOBBY)
    assert [m["seq"] for m in (await peer.expect_key("history"))["messages"]] == [1, 2, 3, 4]


async def test_history_needs_access_but_not_membership(harness: ChatHarness) -> None:
    bob, peer = await harness.session(BOB)
    await harness.run(bob, command="history", room=LOBBY)
    assert (await peer.expect_key("history"))["messages"] == []
    error = await harness.run(bob, command="history", room=2)
    assert error is not None and error.code is ErrorCode.ROOM_ACCESS_DENIED
    error = await harness.run(bob, command="history", room=77)
    assert error is not None and error.code is ErrorCode.ROOM_INVALID


async def test_long_history_is_cut_to_fit_one_frame(harness: ChatHarness) -> None:
    alice, peer = await harness.session(ALICE)
    unlimited(alice)
    await harness.run(alice, command="join", room=LOBBY)
    for _ in range(80):
        await harness.run(alice, command="send", room=LOBBY, message="x" * 9_000)
    await peer.expect(lambda f: f.get("seq") == 80)
    await harness.run(alice, command="history", room=LOBBY, limit=200)
    messages = (await peer.expect_key("history"))["messages"]
    assert 40 < len(messages) < 80
    assert messages[-1]["seq"] == 80  # the newest are kept; page on with before=oldest


async def test_join_since_catches_up_then_goes_live_without_gaps_or_repeats(
    harness: ChatHarness,
) -> None:
    """Messages keep arriving while a member catches up; each reaches it exactly once."""
    sender, sender_peer = await harness.joined(BOB)
    unlimited(sender)
    for i in range(450):  # more than two catch-up pages
        await harness.run(sender, command="send", room=LOBBY, message=f"early {i}")
    await sender_peer.expect(lambda f: f.get("seq") == 450)  # stored: a client may have seen it
    reader, peer = await harness.session(ALICE)

    async def keep_sending() -> None:
        for i in range(150):
            await harness.run(sender, command="send", room=LOBBY, message=f"live {i}")
            await asyncio.sleep(0)

    live = asyncio.create_task(keep_sending())
    await harness.run(reader, command="join", room=LOBBY, since=100)
    await live
    await peer.expect(lambda f: "room" in f and f.get("seq") == 600)
    # Room events only: before its join the reader may also hear of the room as activity.
    seqs = [f["seq"] for f in peer.frames if "room" in f and "seq" in f]
    assert seqs == list(range(101, 601))


async def test_sends_are_committed_in_batches_under_load(harness: ChatHarness) -> None:
    alice, peer = await harness.joined(ALICE)
    unlimited(alice)
    before = harness.chat.writer.batches
    for i in range(300):
        await harness.run(alice, command="send", room=LOBBY, message=f"m{i}")
    await peer.expect(lambda f: f.get("seq") == 300)
    assert harness.chat.writer.batches - before < 300
    assert [f["seq"] for f in peer.frames if "seq" in f] == list(range(1, 301))


async def test_a_catch_up_that_fails_undoes_the_join_instead_of_leaving_the_member_deaf(
    harness: ChatHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store failing mid-join (a fault injected at the store's edge)."""
    sender, _ = await harness.joined(BOB)
    await harness.run(sender, command="send", room=LOBBY, message="before")
    reader, peer = await harness.session(ALICE)

    def broken(*_: object) -> list[object]:
        raise StoreUnavailable("the database is locked")

    monkeypatch.setattr(harness.store, "messages_after", broken)
    error = await harness.run(reader, command="join", room=LOBBY, since=0)
    assert error is not None and error.code is ErrorCode.SERVER_ERROR  # the store's words
    assert error.detail == "the database is locked"
    assert {"leave": "1"} in peer.take() and LOBBY not in reader.rooms
    monkeypatch.undo()
    assert await harness.run(reader, command="join", room=LOBBY, since=0) is None
    assert (await peer.expect(lambda f: f.get("seq") == 1))["message"] == "before"
    await harness.run(sender, command="send", room=LOBBY, message="after")
    assert (await peer.expect(lambda f: f.get("seq") == 2))["message"] == "after"
