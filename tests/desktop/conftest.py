"""Desktop fixtures: Qt offscreen, a qasync loop under pytest-qt, a real server on a thread.

pytest-qt does not drive asyncio (pytest-qt #448). The ``qloop`` fixture makes
a qasync loop that counts as running, so the app's coroutines run whenever
Qt processes events: inside ``qtbot.waitSignal`` and ``qtbot.waitUntil``.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No test pops a real desktop notification on a developer's session bus.
os.environ["DBUS_SESSION_BUS_ADDRESS"] = "disabled:"

import keyring
import pytest
import qasync
from keyring.backend import KeyringBackend
from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from multichat.desktop import theme
from multichat.desktop.client import ChatClient
from multichat.desktop.services.hosting import ServerThread
from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.conftest import seed_accounts
from tests.desktop.helpers import close_clients, fast_backoff
from tests.helpers.servers import hashing_with


@pytest.fixture(autouse=True)
def same_look_for_every_test(qapp: QApplication) -> Iterator[None]:
    """A test that installs a theme (style, palette, sheet) leaves the next one as it found it."""
    style, sheet, palette = qapp.style().name(), qapp.styleSheet(), QPalette(qapp.palette())
    in_use = theme.current()
    yield
    # Widgets the test let go of go now: a new sheet re-polishes every live widget.
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    if qapp.style().name() != style:
        qapp.setStyle(style)
    if qapp.styleSheet() != sheet:
        qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    theme.set_current(in_use)


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        # Cancel what the test left running and let the cancellations unwind.
        for task in asyncio.all_tasks(loop):
            task.cancel()
        for _ in range(100):
            if all(task.done() for task in asyncio.all_tasks(loop)):
                break
            qapp.processEvents()
        # Not loop.stop(): that calls QApplication.exit(), which would end the
        # next test's first wait at once. Mark the loop stopped, then close it.
        qapp.aboutToQuit.disconnect(loop._after_run_forever)
        loop._after_run_forever()
        loop._QEventLoop__is_running = False
        asyncio.events._set_running_loop(None)
        loop.close()
        asyncio.set_event_loop(None)
        # Collect the loop's QObjects (its timers) here, on the GUI thread: collected
        # later by chance on a server thread, Qt warns about cross-thread timers.
        del loop
        gc.collect()


def seeded_server_thread(config: ServerConfig, passwords: Passwords) -> ServerThread:
    """A server on its own thread and loop, as the app hosts one, with seed_accounts'."""
    thread = ServerThread(config, make_server=hashing_with(passwords))
    thread.start()

    async def seed(server: ChatServer) -> None:
        assert server.store is not None
        await asyncio.to_thread(seed_accounts, server.store, passwords)

    thread.call(seed)
    return thread


def hosting(passwords: Passwords, data_dir: Path, **settings: Any) -> Iterator[ServerThread]:
    """A fixture's body: a seeded server on loopback (``settings`` for ServerConfig),
    stopped when the test is done; ``yield from hosting(...)``."""
    config = ServerConfig(host="127.0.0.1", port=0, data_dir=data_dir,
                          poll_interval=0.2, advertise=False, **settings)
    thread = seeded_server_thread(config, passwords)
    yield thread
    thread.stop()


@pytest.fixture
def hosted_server(tmp_path: Path, passwords: Passwords) -> Iterator[ServerThread]:
    """A real server on its own thread and loop, as the app hosts one; Lobby is room 1."""
    yield from hosting(passwords, tmp_path / "hosted")


@pytest.fixture
def tls_hosted(tmp_path: Path, passwords: Passwords) -> Iterator[ServerThread]:
    """The same over TLS, with the self-signed certificate a hosting app makes."""
    yield from hosting(passwords, tmp_path / "tls-hosted", tls=True)


class MemoryKeyring(KeyringBackend):
    """The OS keyring stand-in: the one edge we don't own."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError("no such secret")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def make_client(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> Iterator[Callable[[], ChatClient]]:
    """ChatClients with fast reconnects, closed at the end of the test."""
    clients: list[ChatClient] = []

    def make() -> ChatClient:
        client = ChatClient(backoff=fast_backoff())
        clients.append(client)
        return client

    yield make
    close_clients(qtbot, clients)
