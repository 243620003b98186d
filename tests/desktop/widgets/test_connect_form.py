"""The connect window: warnings before a password crosses the network in the clear, the
forms' keys, and a window that fits a short screen with Log in within reach."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from pytestqt.qtbot import QtBot

from multichat.desktop.services.settings import RecentServer
from multichat.desktop.widgets.connect_window import (
    NOTHING_FOUND,
    NOTHING_FOUND_LINE,
    NOTHING_FOUND_WHY,
    ConnectWindow,
    FoundServers,
    HostForm,
    JoinForm,
    crosses_network_in_clear,
)
from multichat.desktop.widgets.screen_fit import fit_within
from multichat.protocol.passwords import MAX_PASSWORD_CHARS, check_password


@pytest.mark.parametrize(("url", "warned"), [
    ("ws://192.168.1.20:8765", True),
    ("192.168.1.20:8765", True),  # typed without a scheme: ws:// is assumed
    ("WS://chat.example", True),
    ("wss://192.168.1.20:8765", False),
    ("ws://localhost:8765", False),
    ("ws://127.0.0.1:8765", False),
    ("ws://[::1]:8765", False),
])
def test_plain_addresses_off_this_computer_are_warned_about(url: str, warned: bool) -> None:
    assert crosses_network_in_clear(url) is warned


def test_the_warning_follows_what_is_typed(qtbot: QtBot) -> None:
    form = JoinForm()
    qtbot.addWidget(form)
    form.set_recent([])
    assert form.plain.isHidden()  # the default, ws://localhost, stays on this computer
    form.server.setEditText("ws://192.168.1.20:8765")
    assert not form.plain.isHidden() and "Not encrypted" in form.plain.text()
    form.server.setEditText("wss://192.168.1.20:8765")
    assert form.plain.isHidden()


def test_a_recent_plain_server_is_warned_about_as_soon_as_the_form_shows(qtbot: QtBot) -> None:
    form = JoinForm()
    qtbot.addWidget(form)
    form.set_recent([RecentServer("ws://192.168.1.20:8765", "maria")])
    assert not form.plain.isHidden()


def test_enter_submits_the_host_form(qtbot: QtBot) -> None:
    form = HostForm()
    qtbot.addWidget(form)
    form.set_first_run(False)
    qtbot.keyClicks(form.login_name, "boss")
    qtbot.keyClicks(form.login_password, "boss-password")
    with qtbot.waitSignal(form.submitted, timeout=1000) as submitted:
        qtbot.keyClick(form.login_password, Qt.Key.Key_Return)
    assert submitted.args == [form.port.value(), "boss", "boss-password"]


@pytest.mark.parametrize("refused_password", ["x", "x" * (MAX_PASSWORD_CHARS + 1)])
def test_the_host_form_refuses_a_password_by_the_servers_rule(
    qtbot: QtBot, refused_password: str
) -> None:
    form = HostForm()
    qtbot.addWidget(form)
    qtbot.keyClicks(form.admin_name, "boss")
    form.admin_password.setText(refused_password)
    form.admin_repeat.setText(refused_password)
    with qtbot.assertNotEmitted(form.submitted):
        qtbot.keyClick(form.admin_repeat, Qt.Key.Key_Return)
    with pytest.raises(ValueError, match="password") as refused:
        check_password(refused_password)
    assert form.error.text().casefold() == f"{refused.value}.".casefold()
    assert not form.error.isHidden()


def test_a_busy_join_form_offers_cancel_and_ignores_a_second_enter(qtbot: QtBot) -> None:
    form = JoinForm()
    qtbot.addWidget(form)
    form.set_recent([])
    form.username.setText("alice")
    form.password.setText("pw")
    form.set_busy(True, "Connecting …")
    assert not form.cancel.isHidden()
    with qtbot.assertNotEmitted(form.submitted):
        form.password.returnPressed.emit()
    with qtbot.waitSignal(form.cancelled, timeout=1000):
        qtbot.mouseClick(form.cancel, Qt.MouseButton.LeftButton)
    form.set_busy(False)
    assert form.cancel.isHidden() and form.password.isEnabled()


def test_a_busy_host_form_offers_cancel_and_ignores_a_second_enter(qtbot: QtBot) -> None:
    form = HostForm()
    qtbot.addWidget(form)
    form.set_first_run(False)
    form.login_name.setText("boss")
    form.login_password.setText("boss-password")
    assert form.cancel.isHidden()
    form.set_busy(True, "Connecting …")
    assert not form.cancel.isHidden() and not form.login_password.isEnabled()
    with qtbot.assertNotEmitted(form.submitted):
        form.login_password.returnPressed.emit()
    with qtbot.waitSignal(form.cancelled, timeout=1000):
        qtbot.mouseClick(form.cancel, Qt.MouseButton.LeftButton)
    form.set_busy(False)
    assert form.cancel.isHidden() and form.login_password.isEnabled()


# QT_SCALE_FACTOR=2 on a 1280x800 screen: 640x400 to place windows in.
SCALED_SCREEN = QRect(0, 0, 640, 400)


@pytest.mark.parametrize(("frame", "fitted"), [
    (QRect(100, 100, 560, 640), QRect(80, 0, 560, 400)),  # too tall: shrunk, moved up
    (QRect(-50, 30, 300, 200), QRect(0, 30, 300, 200)),  # off the left edge: moved in
    (QRect(10, 10, 300, 200), QRect(10, 10, 300, 200)),  # inside: left alone
    (QRect(0, 0, 3000, 2000), QRect(0, 0, 640, 400)),  # saved on a 4K screen
])
def test_a_window_is_fitted_into_the_free_area(frame: QRect, fitted: QRect) -> None:
    assert fit_within(frame, SCALED_SCREEN) == fitted
    assert fit_within(frame.translated(0, 24), SCALED_SCREEN.translated(0, 24)) \
        == fitted.translated(0, 24)  # below a panel


def test_the_connect_window_opens_within_the_screen(qtbot: QtBot) -> None:
    window = ConnectWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    available = window.screen().availableGeometry()
    assert available.contains(window.frameGeometry())
    # As small as the scaled screen: the card scrolls rather than holding the window tall.
    assert window.minimumSizeHint().width() <= SCALED_SCREEN.width()
    assert window.minimumSizeHint().height() <= SCALED_SCREEN.height()


def test_log_in_is_reachable_on_a_short_window(qtbot: QtBot) -> None:
    window = ConnectWindow()
    qtbot.addWidget(window)
    window.show()
    window.resize(SCALED_SCREEN.width(), 360)
    qtbot.waitUntil(lambda: window.height() == 360)
    scroll, submit = window.card_scroll, window.join.submit
    assert scroll.isAncestorOf(submit)
    assert scroll.horizontalScrollBar().maximum() == 0  # nothing hides to the side
    scroll.ensureWidgetVisible(submit)
    viewport = scroll.viewport()
    corner = submit.mapTo(viewport, QPoint(0, 0))
    assert viewport.rect().contains(QRect(corner, submit.size()))


def test_an_empty_lan_list_says_so_in_one_line_and_why_on_request(qtbot: QtBot) -> None:
    found = FoundServers()
    qtbot.addWidget(found)
    found.show()
    empty = found.empty
    assert empty.line.text() == NOTHING_FOUND_LINE
    assert empty.line.toolTip() == NOTHING_FOUND_WHY  # the reason, on hover
    assert empty.text() == NOTHING_FOUND  # every word kept
    assert not empty.why.isVisible()
    qtbot.mouseClick(empty.why_button, Qt.MouseButton.LeftButton)
    assert empty.why.isVisible() and empty.why.text() == NOTHING_FOUND_WHY
    qtbot.mouseClick(empty.why_button, Qt.MouseButton.LeftButton)
    assert not empty.why.isVisible()
    found.set_unavailable("no network interface is up")
    assert empty.line.text() == (
        "No network interface is up. Type the server's address below.")
    assert empty.why_button.isHidden()  # nothing more to explain
