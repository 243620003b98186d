"""Helpers shared by the desktop tests."""

from __future__ import annotations

import asyncio

from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient, State
from multichat.desktop.client.backoff import Backoff
from multichat.desktop.services.hosting import ServerThread
from multichat.desktop.widgets.main_window import MainWindow
from multichat.desktop.widgets.room_view import RoomView
from multichat.desktop.workspace import Workspace

WAIT_MS = 10_000


def url_of(server: ServerThread) -> str:
    return f"ws://127.0.0.1:{server.port}"


def fast_backoff() -> Backoff:
    """Reconnects within a fraction of a second: tests wait on the state, not the clock."""
    return Backoff(initial=0.05, maximum=0.2)


def log_in(qtbot: QtBot, client: ChatClient, server: ServerThread,
           credentials: tuple[str, str]) -> None:
    with qtbot.waitSignal(client.loggedIn, timeout=WAIT_MS):
        client.open(url_of(server), credentials[0], password=credentials[1])
    assert client.state is State.ONLINE


def joined(qtbot: QtBot, client: ChatClient, server: ServerThread,
           credentials: tuple[str, str]) -> ChatClient:
    """``client`` logged in and in the Lobby (room 1)."""
    log_in(qtbot, client, server, credentials)
    client.join("1")
    qtbot.waitUntil(lambda: client.rooms["1"].joined, timeout=WAIT_MS)
    return client


def window_in_lobby(qtbot: QtBot, client: ChatClient, server: ServerThread,
                    credentials: tuple[str, str], *, height: int = 600,
                    ) -> tuple[MainWindow, RoomView]:
    """The main window shown, logged in, with the Lobby open and joined."""
    window = MainWindow(Workspace(client))
    qtbot.addWidget(window)
    window.resize(900, height)
    window.show()
    log_in(qtbot, client, server, credentials)
    window.workspace.open_room("1", "Lobby")
    qtbot.waitUntil(lambda: "1" in window.views and client.rooms["1"].joined, timeout=WAIT_MS)
    return window, window.views["1"]


def close_clients(qtbot: QtBot, clients: list[ChatClient]) -> None:
    for client in clients:
        task = asyncio.get_event_loop().create_task(client.close())
        qtbot.waitUntil(task.done, timeout=WAIT_MS)
