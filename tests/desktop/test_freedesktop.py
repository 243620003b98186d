"""Desktop notifications over a real (private) session bus, to a stand-in service.

A ``dbus-daemon`` of the test's own, never the developer's session bus; the
notification service is played by the test on the same asyncio loop as the app.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from jeepney import (  # type: ignore[import-untyped]
    DBusAddress,
    MatchRule,
    message_bus,
    new_method_return,
    new_signal,
)
from jeepney.io.asyncio import (  # type: ignore[import-untyped]
    DBusRouter,
    Proxy,
    open_dbus_connection,
)
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from multichat.desktop.freedesktop import PATH, SERVICE, FreedesktopNotifications
from multichat.desktop.notifications import Notifier
from multichat.desktop.resources import app_icon
from tests.desktop.helpers import WAIT_MS


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[str]:
    """A private session bus; its address."""
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        if os.environ.get("CI"):
            pytest.fail("dbus-daemon is missing; CI installs dbus")
        pytest.skip("no dbus-daemon here")
    address = f"unix:path={tmp_path / 'bus'}"
    process = subprocess.Popen(
        [daemon, "--session", "--nofork", "--nopidfile", f"--address={address}",
         "--print-address=1"], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.readline()  # listening once it says where
    yield address
    process.terminate()
    process.wait(timeout=10)
    process.stdout.close()


class Service:
    """The notification service: takes Notify calls, answers them (or not), clicks."""

    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.notices: list[tuple[str, list[str]]] = []  # (title, actions)
        self.router: DBusRouter | None = None
        self.connection: object = None
        self.task: asyncio.Task[None] | None = None

    async def start(self, address: str) -> None:
        self.connection = connection = await open_dbus_connection(bus=address)
        self.router = DBusRouter(connection)
        await Proxy(message_bus, self.router).RequestName(SERVICE, 0)
        self.task = asyncio.get_running_loop().create_task(self._serve())

    async def _serve(self) -> None:
        assert self.router is not None
        rule = MatchRule(type="method_call", interface=SERVICE, member="Notify")
        with self.router.filter(rule, bufsize=16) as calls:
            while True:
                call = await calls.get()
                _app, _replaces, _icon, title, _body, actions, _hints, _expire = call.body
                self.notices.append((title, list(actions)))
                if self.answer:
                    await self.router.send(new_method_return(call, "u", (len(self.notices),)))

    async def stop(self) -> None:
        assert self.task is not None and self.router is not None
        self.task.cancel()
        await self.router.__aexit__(None, None, None)
        await self.connection.close()  # type: ignore[attr-defined]

    async def click(self, notice: int) -> None:
        assert self.router is not None
        await self.router.send(new_signal(DBusAddress(PATH, interface=SERVICE),
                                          "ActionInvoked", "us", (notice, "default")))


def run(qtbot: QtBot, loop: asyncio.AbstractEventLoop,
        coroutine: Coroutine[Any, Any, None]) -> None:
    task = loop.create_task(coroutine)
    qtbot.waitUntil(task.done, timeout=WAIT_MS)
    task.result()


def test_a_notice_goes_to_the_service_and_a_click_opens_its_room(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, bus: str
) -> None:
    service = Service()
    run(qtbot, qloop, service.start(bus))
    notifier = Notifier(app_icon(), desktop=FreedesktopNotifications(address=bus), tray=False)
    with qtbot.waitSignal(notifier.delivered, timeout=WAIT_MS) as delivered:
        notifier.notify("2", "bob in Lobby", "hello", False)
    assert delivered.args == ["desktop", "bob in Lobby", "hello"]
    assert service.notices == [("bob in Lobby", ["default", "Open"])]
    with qtbot.waitSignal(notifier.activated, timeout=WAIT_MS) as activated:
        run(qtbot, qloop, service.click(1))
    assert activated.args == ["2"]
    notifier.hide()
    run(qtbot, qloop, service.stop())


def test_a_service_that_never_answers_freezes_nothing_and_the_window_is_alerted(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, bus: str
) -> None:
    service = Service(answer=False)
    run(qtbot, qloop, service.start(bus))
    desktop = FreedesktopNotifications(address=bus, timeout=0.2)
    notifier = Notifier(app_icon(), desktop=desktop, tray=False)
    window = QWidget()
    qtbot.addWidget(window)
    notifier.set_window(window)
    routes: list[str] = []
    notifier.delivered.connect(lambda route, title, body: routes.append(route))
    notifier.notify("2", "bob in Lobby", "hello", False)
    assert routes == []  # returned at once: the call waits on the loop, not the window
    qtbot.waitUntil(lambda: routes == ["alert"], timeout=WAIT_MS)
    assert not desktop.available and service.notices == [("bob in Lobby", ["default", "Open"])]
    run(qtbot, qloop, service.stop())
