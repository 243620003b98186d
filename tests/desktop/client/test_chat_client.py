"""ChatClient against a real server on its own thread: signals, rooms, outbox, reconnects."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient, State
from multichat.desktop.services.hosting import ServerThread
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent, UserInfo
from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from tests.conftest import ALICE, BOB, seed_accounts
from tests.desktop.helpers import WAIT_MS, close_clients, log_in, url_of
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import hashing_with

Events = list[tuple[str, RoomEvent]]


def record(client: ChatClient) -> Events:
    events: Events = []
    client.messageReceived.connect(lambda room, event: events.append((room, event)))
    return events


def texts(events: Events) -> list[str]:
    return [e.message or "" for _, e in events if e.msg_type is MsgType.MESSAGE]


def test_login_gives_account_and_token(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[..., ChatClient]
) -> None:
    client = make_client()
    states: list[str] = []
    client.stateChanged.connect(lambda state, _: states.append(state))
    with qtbot.waitSignal(client.loggedIn, timeout=WAIT_MS) as blocker:
        client.open(url_of(hosted_server), "alice", password="alice-password")
    account, token = blocker.args
    assert account == UserInfo("alice", is_staff=False, is_superuser=False)
    assert len(token) >= 43 and client.token == token
    assert states[0] == "connecting" and states[-1] == "online"
    with qtbot.waitSignal(client.roomsChanged, timeout=WAIT_MS) as rooms:
        client.refresh_rooms()
    assert [r.title for r in rooms.args[0]] == ["Lobby"]


def test_a_wrong_password_is_reported_in_words_and_not_retried(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[..., ChatClient]
) -> None:
    client = make_client()
    with qtbot.waitSignal(client.loginFailed, timeout=WAIT_MS) as blocker:
        client.open(url_of(hosted_server), "alice", password="wrong")
    assert blocker.args == ["Wrong username or password."]
    assert client.state is State.OFFLINE


def test_a_token_logs_in_without_the_password(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[..., ChatClient]
) -> None:
    first = make_client()
    log_in(qtbot, first, hosted_server, ALICE)
    second = make_client()
    with qtbot.waitSignal(second.loggedIn, timeout=WAIT_MS) as blocker:
        second.open(url_of(hosted_server), "alice", token=first.token)
    assert blocker.args[0].username == "alice"


def test_messages_between_two_clients(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[..., ChatClient]
) -> None:
    alice, bob = make_client(), make_client()
    log_in(qtbot, alice, hosted_server, ALICE)
    log_in(qtbot, bob, hosted_server, BOB)
    alice_events, bob_events = record(alice), record(bob)
    for client in (alice, bob):
        with qtbot.waitSignal(client.roomJoined, timeout=WAIT_MS) as joined:
            client.join("1")
        assert joined.args == ["1", "Lobby"]
    qtbot.waitUntil(lambda: bob.rooms["1"].members == ["alice", "bob"], timeout=WAIT_MS)
    pending: list[list[dict[str, str]]] = []
    alice.outboxChanged.connect(lambda room, items: pending.append(items))
    client_id = alice.send("1", "hello bob")
    assert pending[0] == [{"client_id": client_id, "message": "hello bob"}]
    qtbot.waitUntil(lambda: texts(bob_events) == ["hello bob"], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: pending[-1] == [], timeout=WAIT_MS)
    own = [e for _, e in alice_events if e.client_id == client_id]
    assert len(own) == 1 and own[0].seq == 1


def test_staff_only_room_is_refused_where_it_was_asked(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[..., ChatClient]
) -> None:
    alice = make_client()
    log_in(qtbot, alice, hosted_server, ALICE)
    with qtbot.waitSignal(alice.errorOccurred, timeout=WAIT_MS) as blocker:
        alice.join("2")
    assert blocker.args == ["2", "ROOM_ACCESS_DENIED", "This room is for staff only."]
    assert "2" not in alice.rooms


def test_history_pages_back(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[..., ChatClient]
) -> None:
    alice = make_client()
    log_in(qtbot, alice, hosted_server, ALICE)
    events = record(alice)
    alice.join("1")
    qtbot.waitUntil(lambda: alice.rooms["1"].joined, timeout=WAIT_MS)
    for i in range(5):
        alice.send("1", f"m{i}")
    qtbot.waitUntil(lambda: len(texts(events)) == 5, timeout=WAIT_MS)
    with qtbot.waitSignal(alice.historyLoaded, timeout=WAIT_MS) as blocker:
        alice.request_history("1", before=4, limit=2)
    assert [e.message for e in blocker.args[1]] == ["m1", "m2"]


def test_reconnect_after_a_server_restart_loses_and_repeats_nothing(
    qtbot: QtBot, make_client: Callable[..., ChatClient], tmp_path: Path, passwords: Passwords
) -> None:
    config = ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "srv", poll_interval=0.2)
    server = ServerThread(config, make_server=hashing_with(passwords))
    server.start()

    async def seed(chat_server: Any) -> None:
        await asyncio.to_thread(seed_accounts, chat_server.store, passwords)

    server.call(seed)
    port = server.port
    alice, bob = make_client(), make_client()
    log_in(qtbot, alice, server, ALICE)
    log_in(qtbot, bob, server, BOB)
    alice_events, bob_events = record(alice), record(bob)
    for client in (alice, bob):
        client.join("1")
        qtbot.waitUntil(lambda c=client: c.rooms["1"].joined, timeout=WAIT_MS)  # type: ignore[misc]
    bob.send("1", "before the restart")
    qtbot.waitUntil(lambda: texts(alice_events) == ["before the restart"], timeout=WAIT_MS)

    # Stopped off the GUI thread, so the clients can answer the server's close.
    stopping = asyncio.get_event_loop().create_task(asyncio.to_thread(server.stop))
    qtbot.waitUntil(stopping.done, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: alice.state is State.RECONNECTING, timeout=WAIT_MS)
    alice.send("1", "written while offline")  # waits in the outbox
    restarted = ServerThread(config.replace(port=port), make_server=hashing_with(passwords))
    restarted.start()
    try:
        # Bob reconnects too and talks before or after Alice is back: she gets it once.
        qtbot.waitUntil(lambda: bob.state is State.ONLINE and bob.rooms["1"].joined,
                        timeout=WAIT_MS)
        bob.send("1", "after the restart")
        qtbot.waitUntil(
            lambda: texts(alice_events)[-2:] in (
                ["written while offline", "after the restart"],
                ["after the restart", "written while offline"],
            ),
            timeout=WAIT_MS,
        )
        qtbot.waitUntil(lambda: "written while offline" in texts(bob_events), timeout=WAIT_MS)
        assert sorted(texts(alice_events)) == sorted(
            ["before the restart", "written while offline", "after the restart"]
        )
        seqs = [e.seq for _, e in alice_events if e.seq is not None]
        assert seqs == [1, 2, 3]
        assert texts(bob_events).count("written while offline") == 1
        assert len(alice.outbox) == 0
    finally:
        close_clients(qtbot, [alice, bob])  # before the server, which would wait for them
        restarted.stop()


def test_a_resend_whose_first_copy_was_stored_still_clears_the_outbox(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[..., ChatClient]
) -> None:
    """The first copy was stored but its confirmation never came back: the resend is
    answered with the stored event, not stored again, and the outbox clears."""
    alice, bob = make_client(), make_client()
    log_in(qtbot, alice, hosted_server, ALICE)
    log_in(qtbot, bob, hosted_server, BOB)
    bob_events = record(bob)
    bob.join("1")
    qtbot.waitUntil(lambda: bob.rooms["1"].joined, timeout=WAIT_MS)
    client_id = alice.send("1", "only once")  # the room is not open: it waits in the outbox
    assert len(alice.outbox) == 1

    async def store_first_copy() -> None:
        """Alice's first copy, stored through another connection of hers."""
        raw = await ProtocolClient.open(url_of(hosted_server))
        try:
            await raw.login(*ALICE)
            await raw.join(1)
            await raw.send(command="send", room=1, message="only once", client_id=client_id)
            await raw.expect(lambda frame: frame.get("client_id") == client_id)
        finally:
            await raw.close()

    stored = asyncio.get_event_loop().create_task(store_first_copy())
    qtbot.waitUntil(stored.done, timeout=WAIT_MS)
    stored.result()
    qtbot.waitUntil(lambda: texts(bob_events) == ["only once"], timeout=WAIT_MS)
    assert len(alice.outbox) == 1  # Alice's client has not heard of it

    alice.join("1")  # opening the room sends the outbox again
    qtbot.waitUntil(lambda: len(alice.outbox) == 0, timeout=WAIT_MS)
    bob.send("1", "next")
    qtbot.waitUntil(lambda: "next" in texts(bob_events), timeout=WAIT_MS)
    assert texts(bob_events) == ["only once", "next"]
    assert [e.seq for _, e in bob_events if e.seq is not None] == [1, 2]
