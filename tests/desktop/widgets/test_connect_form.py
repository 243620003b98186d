"""The login form warns before a password would cross the network in the clear."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from multichat.desktop.services.settings import RecentServer
from multichat.desktop.widgets.connect_window import JoinForm, crosses_network_in_clear


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
