"""What deserves a notification, the tray's counts, and mutes that stick."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from multichat.desktop import theme
from multichat.desktop.client import ChatClient
from multichat.desktop.freedesktop import FreedesktopNotifications
from multichat.desktop.notifications import Notifier, badge_icon
from multichat.desktop.resources import app_icon
from multichat.desktop.services.hosting import ServerThread
from multichat.desktop.workspace import Workspace
from tests.conftest import ALICE, BOB
from tests.desktop.helpers import WAIT_MS, log_in

Notice = tuple[str, str, str, bool]


def test_notifications_follow_view_mute_and_mentions(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    alice, bob = make_client(), make_client()
    workspace = Workspace(alice)
    notices: list[Notice] = []
    workspace.notificationRequested.connect(lambda *args: notices.append(args))
    log_in(qtbot, alice, hosted_server, ALICE)
    log_in(qtbot, bob, hosted_server, BOB)
    for client in (alice, bob):
        client.join("1")
        qtbot.waitUntil(lambda c=client: c.rooms["1"].joined, timeout=WAIT_MS)  # type: ignore[misc]
    received: list[str] = []
    alice.messageReceived.connect(lambda room, e: received.append(e.message or ""))

    def bob_says(text: str) -> None:
        bob.send("1", text)
        qtbot.waitUntil(lambda: text in received, timeout=WAIT_MS)

    workspace.set_current("1")
    bob_says("seen in view")
    workspace.set_current(None)
    bob_says("while away")
    alice.send("1", "my own words")
    qtbot.waitUntil(lambda: "my own words" in received, timeout=WAIT_MS)
    workspace.set_muted("1", True)
    bob_says("muted chatter")
    bob_says("but @alice this matters")
    assert notices == [
        ("1", "bob in Lobby", "while away", False),
        ("1", "bob in Lobby", "but @alice this matters", True),
    ]
    assert workspace.rooms.total_unread() == 0  # muted: unread not counted
    assert workspace.rooms.total_mentions() == 1


def test_the_notifier_says_the_counts_and_shows_notices_as_a_person_reads_them(
    qtbot: QtBot,
) -> None:
    notifier = Notifier(app_icon(), desktop=FreedesktopNotifications(address=""))  # no bus
    notifier.set_totals(3, 0)
    assert notifier.summary() == "Multichat: 3 unread"
    notifier.set_totals(3, 1)
    assert notifier.summary() == "Multichat: 3 unread, 1 mentioning you"
    notifier.notify("2", "bob in Lobby", "hello", False)
    assert notifier.last == ("2", "bob in Lobby", "hello", False)
    assert Notifier.message("bob in Lobby", "hello", False) == ("bob in Lobby", "hello")
    title, text = Notifier.message("bob in Lobby", "x" * 500, True)
    assert title == "@ bob in Lobby" and len(text) == 200 and text.endswith("…")
    image = badge_icon(app_icon(), 4).pixmap(64, 64).toImage()
    plain = badge_icon(app_icon(), 0).pixmap(64, 64).toImage()
    assert image != plain  # the badge is drawn
    assert image.convertToFormat(QImage.Format.Format_RGB32).pixelColor(56, 8).red() > 150


def test_without_a_tray_or_a_notification_service_the_window_is_alerted(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    absent = FreedesktopNotifications(address=f"unix:path={tmp_path / 'no-bus'}")
    notifier = Notifier(app_icon(), desktop=absent, tray=False)
    window = QWidget()
    qtbot.addWidget(window)
    notifier.set_window(window)
    assert notifier.tray is None  # no tray here, as on many desktops
    # The bus is tried off the window's way (a task), fails, and the window is alerted.
    with qtbot.waitSignal(notifier.delivered, timeout=WAIT_MS) as delivered:
        notifier.notify("2", "bob in Lobby", "hello", True)
    assert delivered.args == ["alert", "@ bob in Lobby", "hello"]
    assert not absent.available  # not tried again
    with qtbot.waitSignal(notifier.delivered) as delivered:
        notifier.notify("2", "bob in Lobby", "again", False)  # at once now
    assert delivered.args == ["alert", "bob in Lobby", "again"]
    sent: list[str] = []
    notifier.delivered.connect(lambda route, title, body: sent.append(route))
    notifier.set_muted(True)
    notifier.notify("2", "bob in Lobby", "quiet now", False)
    assert sent == [] and notifier.last == ("2", "bob in Lobby", "quiet now", False)


def test_the_tray_menu_shows_mutes_all_and_quits(qtbot: QtBot) -> None:
    notifier = Notifier(app_icon(), desktop=FreedesktopNotifications(address=""))
    assert [action.text() for action in notifier.menu.actions() if not action.isSeparator()] \
        == ["Show Multichat", "Mute all", "Quit"]
    with qtbot.waitSignal(notifier.showRequested):
        notifier.show_action.trigger()
    with qtbot.waitSignal(notifier.mutedChanged) as muted:
        notifier.mute_action.trigger()
    assert muted.args == [True] and notifier.muted
    with qtbot.waitSignal(notifier.quitRequested):
        notifier.quit_action.trigger()


def test_the_badge_takes_the_themes_colours(qtbot: QtBot) -> None:
    for chosen in (theme.LIGHT, theme.DARK):
        theme.set_current(chosen)
        try:
            image = badge_icon(app_icon(), 4).pixmap(64, 64).toImage()
            pixel = image.convertToFormat(QImage.Format.Format_RGB32).pixelColor(56, 8)
            assert pixel.name() == QColor(chosen.mention_badge).name()
        finally:
            theme.set_current(theme.LIGHT)
