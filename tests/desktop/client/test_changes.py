"""Edits, deletions, reactions and replies through the ChatClient, against a real server:
made offline they wait in the outbox and go out once, in order, after the reconnect."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient, State
from multichat.desktop.services.hosting import ServerThread
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent
from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from tests.conftest import ALICE, BOB, seed_accounts
from tests.desktop.helpers import WAIT_MS, close_clients, log_in
from tests.helpers.servers import hashing_with

Events = list[RoomEvent]


def record(client: ChatClient) -> Events:
    """The stored events the client delivers (ENTER/LEAVE left out)."""
    events: Events = []
    client.messageReceived.connect(
        lambda _room, event: events.append(event) if event.seq is not None else None)
    return events


def of_type(events: Events, msg_type: MsgType) -> Events:
    return [e for e in events if e.msg_type is msg_type]


def joined_both(qtbot: QtBot, *clients: ChatClient) -> None:
    for client in clients:
        client.join("1")
        qtbot.waitUntil(lambda c=client: c.rooms["1"].joined, timeout=WAIT_MS)  # type: ignore[misc]


def test_changes_and_replies_reach_the_others_and_history_folds_them(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    alice, bob = make_client(), make_client()
    log_in(qtbot, alice, hosted_server, ALICE)
    log_in(qtbot, bob, hosted_server, BOB)
    joined_both(qtbot, alice, bob)
    bob_events = record(bob)
    alice.send("1", "teh plan")
    qtbot.waitUntil(lambda: len(bob_events) == 1, timeout=WAIT_MS)
    original = bob_events[0].seq
    assert original is not None
    bob.send("1", "which plan?", reply_to=original)
    alice.edit("1", original, "the plan")
    bob.react("1", original, "👍")
    qtbot.waitUntil(lambda: len(bob_events) == 4, timeout=WAIT_MS)
    # Bob's reply and reaction and Alice's edit cross at the server in either order.
    reply, = of_type(bob_events, MsgType.MESSAGE)[1:]
    edit, = of_type(bob_events, MsgType.EDIT)
    reaction, = of_type(bob_events, MsgType.REACTION)
    assert reply.reply_to == original
    assert (edit.msg_type, edit.target, edit.message) == (MsgType.EDIT, original, "the plan")
    assert (reaction.target, reaction.emoji, reaction.on) == (original, "👍", True)
    qtbot.waitUntil(lambda: len(alice.outbox) == 0 and len(bob.outbox) == 0, timeout=WAIT_MS)

    with qtbot.waitSignal(alice.historyLoaded, timeout=WAIT_MS) as page:
        alice.request_history("1", before=None)
    first = page.args[1][0]
    assert (first.message, first.edited, first.reactions) == ("the plan", True,
                                                              (("👍", ("bob",)),))

    with qtbot.waitSignal(bob.errorOccurred, timeout=WAIT_MS) as refused:
        bob.edit("1", original, "not mine")
    assert refused.args == ["1", "PERMISSION_DENIED", "You can edit only your own messages."]
    qtbot.waitUntil(lambda: len(bob.outbox) == 0, timeout=WAIT_MS)  # refused: not kept
    with qtbot.waitSignal(alice.errorOccurred, timeout=WAIT_MS) as invalid:
        alice.delete("1", 999)
    assert invalid.args[:2] == ["1", "MESSAGE_INVALID"]

    with qtbot.waitSignal(alice.aroundLoaded, timeout=WAIT_MS) as around:
        alice.request_history_around("1", original, limit=3)
    assert around.args[0] == "1" and original in [e.seq for e in around.args[1]]


def test_a_reaction_that_changes_nothing_still_leaves_the_outbox(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    """The server answers a no-op react with nothing: the ping behind it confirms it."""
    alice = make_client()
    log_in(qtbot, alice, hosted_server, ALICE)
    joined_both(qtbot, alice)
    events = record(alice)
    alice.send("1", "hello")
    qtbot.waitUntil(lambda: len(events) == 1, timeout=WAIT_MS)
    seq = events[0].seq
    assert seq is not None
    alice.react("1", seq, "🎉", False)  # was never on: nothing to take back
    assert len(alice.outbox) == 1
    qtbot.waitUntil(lambda: len(alice.outbox) == 0, timeout=WAIT_MS)
    assert of_type(events, MsgType.REACTION) == []


def seeded_server(config: ServerConfig, passwords: Passwords) -> ServerThread:
    server = ServerThread(config, make_server=hashing_with(passwords))
    server.start()

    async def seed(chat_server: Any) -> None:
        await asyncio.to_thread(seed_accounts, chat_server.store, passwords)

    server.call(seed)
    return server


def test_changes_made_offline_go_out_once_in_order_after_the_reconnect(
    qtbot: QtBot, make_client: Callable[[], ChatClient], tmp_path: Path, passwords: Passwords
) -> None:
    config = ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "srv", poll_interval=0.2)
    server = seeded_server(config, passwords)
    port = server.port
    alice, bob = make_client(), make_client()
    log_in(qtbot, alice, server, ALICE)
    log_in(qtbot, bob, server, BOB)
    joined_both(qtbot, alice, bob)
    bob_events = record(bob)
    for text in ("typo", "doomed", "liked"):
        alice.send("1", text)
    qtbot.waitUntil(lambda: len(bob_events) == 3, timeout=WAIT_MS)
    typo, doomed, liked = (e.seq or 0 for e in bob_events)

    stopping = asyncio.get_event_loop().create_task(asyncio.to_thread(server.stop))
    qtbot.waitUntil(stopping.done, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: alice.state is State.RECONNECTING, timeout=WAIT_MS)
    alice.edit("1", typo, "fixed")
    alice.delete("1", doomed)
    alice.react("1", liked, "👍")
    pending = alice.send("1", "written offline")
    alice.edit_pending("1", pending, "written offline, then edited")  # never left: rewritten
    dropped = alice.send("1", "second thoughts")
    alice.delete_pending("1", dropped)  # never left: never sent
    assert len(alice.outbox) == 4

    restarted = ServerThread(config.replace(port=port), make_server=hashing_with(passwords))
    restarted.start()
    try:
        qtbot.waitUntil(lambda: len(bob_events) == 7, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: len(alice.outbox) == 0, timeout=WAIT_MS)
        after = bob_events[3:]
        assert [e.msg_type for e in after] == [MsgType.EDIT, MsgType.DELETE, MsgType.REACTION,
                                              MsgType.MESSAGE]  # in the order done
        assert [e.target for e in after[:3]] == [typo, doomed, liked]
        assert after[3].message == "written offline, then edited"
        assert [e.seq for e in bob_events] == [1, 2, 3, 4, 5, 6, 7]  # each stored once

        # One more reconnect: nothing is sent again.
        alice.cancel()
        with qtbot.waitSignal(alice.roomJoined, timeout=WAIT_MS):
            alice.open(alice.url, alice.username, token=alice.token)
        bob.send("1", "still seven before this")
        qtbot.waitUntil(lambda: len(bob_events) == 8, timeout=WAIT_MS)
        assert bob_events[-1].seq == 8
        with qtbot.waitSignal(bob.historyLoaded, timeout=WAIT_MS) as page:
            bob.request_history("1", before=None)
        shown = {e.seq: e for e in page.args[1]}
        assert (shown[typo].message, shown[typo].edited) == ("fixed", True)
        assert (shown[doomed].message, shown[doomed].deleted) == (None, True)
        assert shown[liked].reactions == (("👍", ("alice",)),)
    finally:
        close_clients(qtbot, [alice, bob])
        restarted.stop()
