"""A message the server refuses for good (too long) is given back, not lost: its text
returns to the message box, and the banner says the limit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient
from multichat.desktop.models import MessageRole
from multichat.desktop.services.hosting import ServerThread
from multichat.desktop.widgets.room_view import RoomView
from multichat.server.chat.passwords import Passwords
from tests.conftest import ALICE
from tests.desktop.conftest import hosting
from tests.desktop.helpers import WAIT_MS, window_in_lobby

TOO_LONG = "This message is longer than thirty characters, by far"


@pytest.fixture
def short_messages_server(tmp_path: Path, passwords: Passwords) -> Iterator[ServerThread]:
    yield from hosting(passwords, tmp_path / "short", max_message_chars=30)


def test_a_message_too_long_comes_back_to_the_box_with_the_limit_in_words(
    qtbot: QtBot, short_messages_server: ServerThread,
    make_client: Callable[[], ChatClient],
) -> None:
    alice = make_client()
    window, view = window_in_lobby(qtbot, alice, short_messages_server, ALICE)
    # What the app's controller does with an error: the room's banner.
    alice.errorOccurred.connect(lambda room, _code, words: window.show_room_error(room, words))
    view.input.setFocus()
    qtbot.keyClicks(view.input, TOO_LONG)
    with qtbot.waitSignal(alice.sendRefused, timeout=WAIT_MS):
        qtbot.keyClick(view.input, Qt.Key.Key_Return)
    assert view.input.toPlainText() == TOO_LONG  # it was gone: sent, refused, lost
    assert view.banner.isVisible()
    assert view.banner.text() == ("That message is too long: messages are limited to "
                                  "30 characters.")
    model = view.messages.model()
    shown = [model.index(row, 0).data(MessageRole.Text) for row in range(model.rowCount())]
    assert TOO_LONG not in shown  # no grey "sending…" left behind
    # Shortened, it goes.
    view.input.clear()
    qtbot.keyClicks(view.input, "Short enough")
    with qtbot.waitSignal(alice.messageReceived, timeout=WAIT_MS):
        qtbot.keyClick(view.input, Qt.Key.Key_Return)
    assert view.input.toPlainText() == ""


def test_what_was_written_since_stays_after_the_text_given_back(qtbot: QtBot) -> None:
    view = RoomView("1", "Lobby")
    qtbot.addWidget(view)
    view.input.setPlainText("written meanwhile")
    view.give_back("the refused one")
    assert view.input.toPlainText() == "the refused one\nwritten meanwhile"
    assert view.input.textCursor().position() == len("the refused one")


def test_an_edit_too_long_opens_the_edit_again_with_the_new_text(
    qtbot: QtBot, short_messages_server: ServerThread,
    make_client: Callable[[], ChatClient],
) -> None:
    alice = make_client()
    window, view = window_in_lobby(qtbot, alice, short_messages_server, ALICE)
    alice.errorOccurred.connect(lambda room, _code, words: window.show_room_error(room, words))
    view.input.setFocus()
    qtbot.keyClicks(view.input, "Short")
    with qtbot.waitSignal(alice.messageReceived, timeout=WAIT_MS) as received:
        qtbot.keyClick(view.input, Qt.Key.Key_Return)
    seq = received.args[1].seq
    qtbot.keyClick(view.input, Qt.Key.Key_Up)  # edit one's last message
    assert view.editing() == seq
    view.input.selectAll()
    qtbot.keyClicks(view.input, TOO_LONG)
    with qtbot.waitSignal(alice.editRefused, timeout=WAIT_MS):
        qtbot.keyClick(view.input, Qt.Key.Key_Return)
    assert view.editing() == seq  # it was closed, the new text lost
    assert view.input.toPlainText() == TOO_LONG
    assert view.banner.text() == ("That message is too long: messages are limited to "
                                  "30 characters.")
    qtbot.keyClick(view.input, Qt.Key.Key_Escape)  # given up: the box as it was
    assert view.editing() is None and view.input.toPlainText() == ""


def test_an_edit_given_back_for_a_message_not_on_screen_leaves_the_box_alone(
    qtbot: QtBot,
) -> None:
    view = RoomView("1", "Lobby")
    qtbot.addWidget(view)
    view.input.setPlainText("my draft")
    view.give_back_edit(7, "refused")  # no such message on screen: nothing to edit
    assert view.editing() is None and view.input.toPlainText() == "my draft"
