"""What deserves a notification, the tray's counts, and mutes that stick."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient
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
    notifier = Notifier(app_icon())
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
    assert image.convertToFormat(QImage.Format.Format_RGB32).pixelColor(56, 8).red() > 200
