"""The login form warns before a password would cross the network in the clear."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from multichat.desktop.services.settings import RecentServer
from multichat.desktop.widgets.connect_window import (
    HostForm,
    JoinForm,
    crosses_network_in_clear,
)
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
