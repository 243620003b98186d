"""The main window with a real server behind it: open rooms, talk, unread, hostile text."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient
from multichat.desktop.models import MessageRole, RoomRole
from multichat.desktop.services.hosting import ServerThread
from multichat.desktop.widgets.linkify import to_html
from multichat.desktop.widgets.main_window import MainWindow
from multichat.desktop.workspace import Workspace
from multichat.protocol import MsgType
from multichat.protocol.commands import UpdateRoom
from multichat.server.net import ChatServer
from multichat.server.store.records import NewMessage
from tests.conftest import ADMIN, ALICE, BOB
from tests.desktop.helpers import WAIT_MS, log_in


def window_for(qtbot: QtBot, client: ChatClient) -> MainWindow:
    window = MainWindow(Workspace(client))
    qtbot.addWidget(window)
    client.stateChanged.connect(window.set_connection_state)
    window.show()
    return window


def room_index(window: MainWindow, title: str) -> QModelIndex:
    model = window.workspace.rooms
    for row in range(model.rowCount()):
        if model.index(row).data() == title:
            return model.index(row)
    raise AssertionError(f"no room {title!r} in the list")


def texts(window: MainWindow, room: str) -> list[str]:
    model = window.workspace.messages[room]
    return [model.index(r).data(MessageRole.Text) for r in range(model.rowCount())
            if model.index(r).data(MessageRole.MsgType) == 0]


def test_open_a_room_talk_and_count_unread(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    alice, bob = make_client(), make_client()
    window = window_for(qtbot, alice)
    log_in(qtbot, alice, hosted_server, ALICE)
    log_in(qtbot, bob, hosted_server, BOB)
    alice.refresh_rooms()
    qtbot.waitUntil(lambda: window.workspace.rooms.rowCount() == 1, timeout=WAIT_MS)
    assert window.state_label.text() == "● Online"

    window.room_list.clicked.emit(room_index(window, "Lobby"))
    qtbot.waitUntil(lambda: "1" in window.views, timeout=WAIT_MS)
    view = window.views["1"]
    assert window.tabs.currentWidget() is view
    qtbot.waitUntil(lambda: alice.rooms["1"].joined, timeout=WAIT_MS)

    qtbot.keyClicks(view.input, "hello from the window")
    qtbot.keyClick(view.input, Qt.Key.Key_Return)
    assert view.input.toPlainText() == ""
    qtbot.waitUntil(lambda: texts(window, "1") == ["hello from the window"], timeout=WAIT_MS)

    bob.join("1")
    qtbot.waitUntil(lambda: bob.rooms["1"].joined, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.workspace.members["1"].usernames() == ["alice", "bob"],
                    timeout=WAIT_MS)
    window.workspace.set_current(None)  # alice looks elsewhere
    bob.send("1", "<b>x</b><img src=http://example.invalid/a.png> @alice look")
    qtbot.waitUntil(lambda: len(texts(window, "1")) == 2, timeout=WAIT_MS)
    index = room_index(window, "Lobby")
    assert (index.data(RoomRole.Unread), index.data(RoomRole.Mentions)) == (1, 1)
    hostile = texts(window, "1")[1]
    assert hostile.startswith("<b>x</b><img")  # the text itself, unchanged
    assert "<img" not in to_html(hostile)  # and it is shown as text, never as markup
    window.tabs.setCurrentIndex(0)
    window.workspace.set_current("1")
    assert room_index(window, "Lobby").data(RoomRole.Unread) == 0

    qtbot.mouseClick(view.leave_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "1" not in window.views, timeout=WAIT_MS)
    assert window.empty_hint.isVisible()


def test_a_staff_room_refusal_is_shown_at_the_room(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    alice = make_client()
    window = window_for(qtbot, alice)
    log_in(qtbot, alice, hosted_server, ALICE)
    errors: list[tuple[str, str]] = []
    alice.errorOccurred.connect(lambda room, code, words: errors.append((room, words)))
    alice.errorOccurred.connect(lambda room, code, words: window.show_room_error(room, words))
    window.workspace.open_room("2", "Staff room")
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
    assert errors == [("2", "This room is for staff only.")]
    view = window.views["2"]
    qtbot.waitUntil(lambda: view.closed, timeout=WAIT_MS)
    assert not view.banner.isHidden() and view.banner.text() == "This room is for staff only."
    assert not view.input.isEnabled()
    window.tabs.tabCloseRequested.emit(window.tabs.indexOf(view))
    assert "2" not in window.views


def test_scrolling_to_the_top_loads_older_history(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    async def fill(server: ChatServer) -> None:
        assert server.store is not None
        batch = [NewMessage(1, None, "bob", MsgType.MESSAGE, f"old {i}", None, 1_000 + i)
                 for i in range(120)]
        await asyncio.to_thread(server.store.append_messages, batch)

    hosted_server.call(fill)
    alice = make_client()
    window = window_for(qtbot, alice)
    window.resize(800, 400)
    log_in(qtbot, alice, hosted_server, ALICE)
    window.workspace.open_room("1", "Lobby")
    model = window.workspace.messages["1"]
    qtbot.waitUntil(lambda: model.rowCount() >= 50, timeout=WAIT_MS)
    assert model.oldest_seq() == 71  # the newest page only
    bar = window.views["1"].messages.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=WAIT_MS)
    for oldest in (21, 1):
        bar.setValue(bar.minimum())  # the reader scrolls to the top
        qtbot.waitUntil(lambda o=oldest: model.oldest_seq() == o, timeout=WAIT_MS)  # type: ignore[misc]
        assert bar.value() > bar.minimum()  # the view kept its place, not jumped
    bar.setValue(bar.minimum())
    qtbot.waitUntil(lambda: model.history_complete, timeout=WAIT_MS)
    seqs = [model.index(r).data(MessageRole.Seq) for r in range(model.rowCount())]
    assert [seq for seq in seqs if seq is not None] == list(range(1, 121))


def test_a_room_taken_away_keeps_its_tab_with_the_reason(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    alice, admin = make_client(), make_client()
    window = window_for(qtbot, alice)
    alice.roomRemoved.connect(window.show_room_error)  # as the controller wires it
    log_in(qtbot, alice, hosted_server, ALICE)
    log_in(qtbot, admin, hosted_server, ADMIN)
    window.workspace.open_room("1", "Lobby")
    qtbot.waitUntil(lambda: "1" in alice.rooms and alice.rooms["1"].joined, timeout=WAIT_MS)
    admin.admin(UpdateRoom(room=1, staff_only=True))
    view = window.views["1"]
    qtbot.waitUntil(lambda: view.closed, timeout=WAIT_MS)
    assert window.views.get("1") is view  # the tab stays, closed, saying why
    assert "removed from this room" in view.banner.text() and not view.banner.isHidden()
    assert not view.input.isEnabled()
