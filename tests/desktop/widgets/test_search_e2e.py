"""Search end to end: the main window's search panel, the workspace and a real ChatClient
against a real server (port 0), another person on another client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView
from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient
from multichat.desktop.models.search_results import SearchRole, Status
from multichat.desktop.services.hosting import ServerThread
from multichat.desktop.widgets import message_list_view
from multichat.desktop.widgets.main_window import MainWindow
from multichat.desktop.widgets.search_panel import SearchPanel
from multichat.desktop.widgets.shortcuts_dialog import ShortcutsDialog
from multichat.desktop.workspace import Workspace
from multichat.protocol import MsgType
from multichat.server.net import ChatServer
from multichat.server.store.records import NewMessage
from tests.conftest import ALICE, BOB
from tests.desktop.helpers import WAIT_MS, log_in

# The panel is a popup; offscreen, Qt says it can't raise it or grab the keyboard.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")
CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
FAR_BACK = "Résumé: lunch moved to Monday"  # Lobby's seq 1, far older than the first page


def seed(server: ServerThread, lobby: Sequence[str], design: Sequence[str] = ()) -> None:
    """Lobby's messages (seq 1, 2, …) by bob, and a room "Design" (3) with its own."""

    async def fill(chat: ChatServer) -> None:
        store = chat.store
        assert store is not None
        await asyncio.to_thread(store.create_room, "Design")
        batch = [NewMessage(1, None, "bob", MsgType.MESSAGE, text, None, 1_000 + i)
                 for i, text in enumerate(lobby)]
        batch += [NewMessage(3, None, "bob", MsgType.MESSAGE, text, None, 5_000 + i)
                  for i, text in enumerate(design)]
        await asyncio.to_thread(store.append_messages, batch)
        assert chat.chat is not None
        await chat.chat.reconcile()

    server.call(fill)


def window_in_lobby(qtbot: QtBot, client: ChatClient, server: ServerThread) -> MainWindow:
    window = MainWindow(Workspace(client))
    qtbot.addWidget(window)
    window.resize(900, 640)
    window.show()
    with qtbot.waitSignal(client.roomsChanged, timeout=WAIT_MS):
        log_in(qtbot, client, server, ALICE)
    window.open_room("1", "Lobby")
    qtbot.waitUntil(lambda: "1" in window.views and client.rooms["1"].joined, timeout=WAIT_MS)
    model = window.workspace.messages["1"]
    qtbot.waitUntil(lambda: model.rowCount() > 0, timeout=WAIT_MS)
    return window


def search(qtbot: QtBot, window: MainWindow, words: str, *, everywhere: bool = False,
           ) -> SearchPanel:
    """The person presses Ctrl+F (or Ctrl+Shift+F) in the message box and types."""
    box = window.views["1"].input
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_F, CTRL_SHIFT if everywhere else CTRL)
    panel = window.search_panel
    qtbot.waitUntil(panel.isVisible, timeout=WAIT_MS)
    panel.query.clear()
    qtbot.keyClicks(panel.query, words)
    qtbot.waitUntil(lambda: panel.model.status in (Status.DONE, Status.FAILED)
                    and panel.model.query == words, timeout=WAIT_MS)
    return panel


def shown(panel: SearchPanel) -> list[tuple[str, str, str]]:
    model = panel.model
    return [(str(model.index(r).data(SearchRole.RoomTitle)),
             str(model.index(r).data(SearchRole.Username)),
             str(model.index(r).data(SearchRole.Text))) for r in range(model.rowCount())]


def in_view_and_highlighted(window: MainWindow, room: str, seq: int) -> Callable[[], bool]:
    def check() -> bool:
        view = window.views.get(room)
        if view is None or window.current_room() != room:
            return False
        index = window.workspace.messages[room].index_of(seq)
        rect = view.messages.visualRect(index)
        return (index.isValid() and view.messages.delegate.highlighted_seq == seq
                and rect.top() >= 0 and rect.bottom() <= view.messages.viewport().height())
    return check


def test_ctrl_f_finds_words_in_this_room_and_enter_opens_a_message_far_back(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(message_list_view, "HIGHLIGHT_MS", 60_000)
    seed(hosted_server, [FAR_BACK] + [f"filler {i}" for i in range(150)],
         design=["the resumes are in"])
    alice = make_client()
    window = window_in_lobby(qtbot, alice, hosted_server)
    lobby = window.workspace.messages["1"]
    assert not lobby.index_of(1).isValid()  # older than the history loaded

    pages: list[object] = []
    alice.searchResults.connect(pages.append)
    panel = search(qtbot, window, "resume LUN")
    assert panel.scope.currentText() == "In Lobby"  # Ctrl+F: the room in view
    assert shown(panel) == [("Lobby", "bob", FAR_BACK)]  # not Design's: another room
    assert len(pages) == 1  # typed quickly: one search, not one per key
    spans = panel.model.index(0).data(SearchRole.Spans)
    assert [FAR_BACK[a:b] for a, b in spans] == ["Résumé", "lun"]

    qtbot.keyClick(panel.query, Qt.Key.Key_Return)
    assert not panel.isVisible()
    qtbot.waitUntil(in_view_and_highlighted(window, "1", 1), timeout=WAIT_MS)


def test_ctrl_shift_f_searches_every_room_and_conversation_and_opens_them(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(message_list_view, "HIGHLIGHT_MS", 60_000)
    seed(hosted_server, ["budget sheet for Monday"], design=["the budget icons"])
    bob = make_client()
    log_in(qtbot, bob, hosted_server, BOB)
    with qtbot.waitSignal(bob.dmOpened, timeout=WAIT_MS) as opened:
        bob.open_dm(["alice"])
    direct = str(opened.args[0].id)
    bob.join(direct)
    qtbot.waitUntil(lambda: bob.rooms[direct].joined, timeout=WAIT_MS)
    bob.send(direct, "your Budget question, privately")
    qtbot.waitUntil(lambda: len(bob.outbox) == 0, timeout=WAIT_MS)

    alice = make_client()
    window = window_in_lobby(qtbot, alice, hosted_server)
    panel = search(qtbot, window, "budg", everywhere=True)
    assert panel.scope.currentText() == "All rooms"
    assert shown(panel) == [("bob", "bob", "your Budget question, privately"),
                            ("Design", "bob", "the budget icons"),
                            ("Lobby", "bob", "budget sheet for Monday")]
    assert panel.model.index(0).data(SearchRole.Place) == "direct message"
    assert panel.model.index(1).data(SearchRole.Place) == "Design"
    # Down to Design (not open), Enter: it opens in a tab, at the message.
    qtbot.keyClick(panel.query, Qt.Key.Key_Down)
    qtbot.keyClick(panel.query, Qt.Key.Key_Return)
    qtbot.waitUntil(in_view_and_highlighted(window, "3", 1), timeout=WAIT_MS)
    assert window.tabs.count() == 2

    window.search_everywhere()
    assert panel.isVisible() and panel.query.text() == "budg"  # the last search, again
    qtbot.waitUntil(lambda: panel.model.rowCount() == 3, timeout=WAIT_MS)
    qtbot.mouseClick(panel.results.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.results.visualRect(panel.model.index(0)).center())
    qtbot.waitUntil(in_view_and_highlighted(window, direct, 1), timeout=WAIT_MS)


def test_a_result_far_back_in_a_room_not_open_opens_it_there(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(message_list_view, "HIGHLIGHT_MS", 60_000)
    seed(hosted_server, ["hello"], design=[FAR_BACK] + [f"pixel {i}" for i in range(120)])
    alice = make_client()
    window = window_in_lobby(qtbot, alice, hosted_server)
    panel = search(qtbot, window, "resume", everywhere=True)
    assert shown(panel) == [("Design", "bob", FAR_BACK)]
    qtbot.keyClick(panel.query, Qt.Key.Key_Return)
    qtbot.waitUntil(in_view_and_highlighted(window, "3", 1), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: alice.rooms["3"].joined, timeout=WAIT_MS)
    newest = window.workspace.messages["3"]
    qtbot.waitUntil(lambda: newest.index_of(121).isValid(), timeout=WAIT_MS)  # opened too
    assert in_view_and_highlighted(window, "3", 1)()  # and still where the result is
    assert window.views["3"].focusWidget() is window.views["3"].input


def test_more_results_come_when_scrolled_to_the_end(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient],
) -> None:
    seed(hosted_server, [f"lunch number {i}" for i in range(45)])
    alice = make_client()
    window = window_in_lobby(qtbot, alice, hosted_server)
    panel = search(qtbot, window, "lunch")
    model = panel.model
    assert model.rowCount() == 20 and model.more  # the server's page: 20
    assert shown(panel)[0][2] == "lunch number 44"  # newest first
    panel.results.scrollTo(model.index(19), QAbstractItemView.ScrollHint.PositionAtBottom)
    qtbot.waitUntil(lambda: model.rowCount() == 40, timeout=WAIT_MS)
    for _ in range(25):  # the keyboard reaches the end too
        qtbot.keyClick(panel.query, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: model.rowCount() == 45 and not model.more, timeout=WAIT_MS)
    texts = [text for _room, _who, text in shown(panel)]
    assert texts == [f"lunch number {i}" for i in range(44, -1, -1)]  # no gap, no repeat

    # Closed while a page is on its way: that page comes, and no more are asked for.
    pages: list[object] = []
    alice.searchResults.connect(pages.append)
    panel.query.setText("number")
    panel.search_now()
    panel.close()
    qtbot.waitUntil(lambda: len(pages) == 1 and model.rowCount() == 20, timeout=WAIT_MS)
    assert model.more and not model.loading  # the next page waits for the person


def test_no_match_says_so_and_esc_returns_to_the_message_box(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient],
) -> None:
    seed(hosted_server, ["brunch on Sunday"])
    alice = make_client()
    window = window_in_lobby(qtbot, alice, hosted_server)
    panel = search(qtbot, window, "lunch")  # "brunch" does not begin with it
    assert panel.model.rowCount() == 0
    assert panel.status.text().startswith("No messages match “lunch” in Lobby.")
    qtbot.keyClick(panel.query, Qt.Key.Key_F, CTRL_SHIFT)  # everywhere, from the panel
    assert panel.scope.currentText() == "All rooms"
    qtbot.waitUntil(lambda: panel.model.room is None and panel.model.status is Status.DONE,
                    timeout=WAIT_MS)
    assert panel.status.text().startswith("No messages match “lunch”.")
    qtbot.keyClick(panel.query, Qt.Key.Key_F, CTRL)  # and back to the room
    assert panel.scope.currentText() == "In Lobby"
    qtbot.waitUntil(lambda: panel.model.room == "1" and panel.model.status is Status.DONE,
                    timeout=WAIT_MS)
    qtbot.keyClick(panel.query, Qt.Key.Key_Escape)
    assert not panel.isVisible()
    view = window.views["1"]
    assert view.focusWidget() is view.input


def test_a_search_cut_off_by_a_lost_connection_says_so(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient],
) -> None:
    alice = make_client()
    window = window_in_lobby(qtbot, alice, hosted_server)
    model = window.workspace.search
    assert model.start("lunch")
    alice.cancel()  # offline before the answer: it will never come
    assert model.status is Status.FAILED
    assert model.status_words.startswith("The connection was lost.")


def test_f1_lists_the_search_keys() -> None:
    listed = dict(ShortcutsDialog().rows())
    from multichat.desktop.widgets.shortcuts_dialog import shown as keys_shown
    assert keys_shown("Ctrl+F") in listed and keys_shown("Ctrl+Shift+F") in listed
