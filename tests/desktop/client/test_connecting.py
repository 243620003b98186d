"""Connecting: one deadline to the login reply, a first failure that stops, the countdown."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot
from websockets.asyncio.server import Server, ServerConnection, serve

from multichat.desktop.client import ChatClient, State
from multichat.desktop.client.backoff import Backoff
from multichat.desktop.services.hosting import ServerThread
from multichat.protocol import frames
from tests.conftest import ALICE
from tests.desktop.helpers import WAIT_MS, close_clients, log_in

SHORT = 0.5  # the open timeout under test, in seconds


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A real listening TCP socket: the kernel accepts connections, nobody ever replies."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_the_default_deadline_is_ten_seconds() -> None:
    assert ChatClient().open_timeout == 10.0


def test_a_server_that_never_answers_fails_in_time_with_words(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, silent_port: int
) -> None:
    client = ChatClient(open_timeout=SHORT)
    states: list[str] = []
    client.stateChanged.connect(lambda state, detail: states.append(state))
    with qtbot.waitSignal(client.connectFailed, timeout=WAIT_MS) as failed:
        client.open(f"ws://127.0.0.1:{silent_port}", "alice", password="pw")
    assert failed.args == [f"No answer from 127.0.0.1:{silent_port} within 0.5 s: is the "
                           "server running, and is the address right?"]
    assert client.state is State.OFFLINE
    assert "reconnecting" not in states  # the first attempt never retries behind the form
    close_clients(qtbot, [client])


def test_the_deadline_covers_the_login_reply(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    """A WebSocket server that completes the handshake and never answers the login."""

    async def mute(connection: ServerConnection) -> None:
        await connection.wait_closed()

    async def start() -> Server:
        return await serve(mute, "127.0.0.1", 0)

    starting = qloop.create_task(start())
    qtbot.waitUntil(starting.done, timeout=WAIT_MS)
    server = starting.result()
    port = next(iter(server.sockets)).getsockname()[1]
    client = ChatClient(open_timeout=SHORT)
    with qtbot.waitSignal(client.connectFailed, timeout=WAIT_MS) as failed:
        client.open(f"ws://127.0.0.1:{port}", "alice", password="pw")
    assert failed.args[0].startswith(f"No answer from 127.0.0.1:{port} within 0.5 s")
    close_clients(qtbot, [client])
    server.close()


def test_a_refused_first_connection_stops_and_says_where(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ChatClient()
    with qtbot.waitSignal(client.connectFailed, timeout=WAIT_MS) as failed:
        client.open(f"ws://127.0.0.1:{port}", "alice", password="pw")
    assert failed.args == [f"No server is listening at 127.0.0.1:{port}."]
    close_clients(qtbot, [client])


def test_after_a_session_the_retry_counts_down_and_reconnect_now_skips_it(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, hosted_server: ServerThread,
) -> None:
    client = ChatClient(backoff=Backoff(initial=2.0, maximum=2.0, jitter=0.0))
    log_in(qtbot, client, hosted_server, ALICE)

    def says(seconds: int) -> Callable[[str, str], bool]:
        return lambda state, detail: detail.endswith(f"Retrying in {seconds} s.")

    with qtbot.waitSignal(client.stateChanged, check_params_cb=says(2), timeout=WAIT_MS):
        hosted_server.stop()
    assert client.state is State.RECONNECTING
    with qtbot.waitSignal(client.stateChanged, check_params_cb=says(1), timeout=WAIT_MS):
        pass
    with qtbot.waitSignal(client.stateChanged, check_params_cb=says(2), timeout=WAIT_MS):
        pass  # the attempt failed (no server): the next wait, capped at 2 s
    # Skipped, not waited out: the very next word is the attempt, no "Retrying in 1 s"
    # tick before it (the order of signals, not the clock, decides).
    details: list[str] = []
    client.stateChanged.connect(lambda state, detail: details.append(detail))
    client.reconnect_now()
    qtbot.waitUntil(lambda: any(d.startswith("Connecting to") for d in details),
                    timeout=WAIT_MS)
    assert details[0].startswith("Connecting to"), details
    close_clients(qtbot, [client])


def test_cancel_stops_at_once_and_a_login_on_its_way_is_never_read(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    """A server that holds its login reply until the test says: Cancel comes between."""
    login_read, reply, closed = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def holds_the_reply(connection: ServerConnection) -> None:
        await connection.recv()
        login_read.set()
        await reply.wait()
        user = frames.UserInfo("alice", is_staff=False, is_superuser=False)
        await connection.send(frames.LoggedIn(user=user, token="t" * 43).encode())
        await connection.wait_closed()
        closed.set()

    async def start() -> Server:
        return await serve(holds_the_reply, "127.0.0.1", 0)

    starting = qloop.create_task(start())
    qtbot.waitUntil(starting.done, timeout=WAIT_MS)
    server = starting.result()
    port = next(iter(server.sockets)).getsockname()[1]
    client = ChatClient()
    logins: list[object] = []
    client.loggedIn.connect(lambda account, token: logins.append(account))
    client.open(f"ws://127.0.0.1:{port}", "alice", password="pw")
    qtbot.waitUntil(login_read.is_set, timeout=WAIT_MS)
    client.cancel()
    assert (client.state, client.running) == (State.OFFLINE, False)  # before any event runs
    reply.set()
    qtbot.waitUntil(closed.is_set, timeout=WAIT_MS)  # the reply went out; the client left
    assert (logins, client.state, client.account) == ([], State.OFFLINE, None)
    # Another attempt may start at once (open() refused while a close() was pending).
    client.open(f"ws://127.0.0.1:{port}", "alice", password="pw")
    assert client.running
    close_clients(qtbot, [client])
    server.close()
