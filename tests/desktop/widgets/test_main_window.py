"""The main window with a real server behind it: open rooms, talk, unread, hostile text."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from PySide6.QtCore import QModelIndex, QPoint, QRect, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QStyleOptionTab, QTabBar, QToolButton
from pytestqt.qtbot import QtBot

from multichat.desktop import theme
from multichat.desktop.client import ChatClient
from multichat.desktop.models import MessageRole, RoomRole
from multichat.desktop.resources import style_sheet
from multichat.desktop.services.hosting import ServerThread
from multichat.desktop.widgets.linkify import to_html
from multichat.desktop.widgets.main_window import MainWindow
from multichat.desktop.widgets.shortcuts_dialog import SHORTCUTS, ShortcutsDialog
from multichat.desktop.workspace import Workspace
from multichat.protocol import MsgType
from multichat.protocol.commands import UpdateRoom
from multichat.protocol.frames import RoomEvent, RoomInfo
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
    close = window.tabs.tabBar().tabButton(window.tabs.indexOf(view),
                                           QTabBar.ButtonPosition.RightSide)
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
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


# -- title, badges, keyboard, layout: a client that is not connected is enough ---------------

LONG_TITLE = "The quarterly planning room for everyone in the west office"  # 60 characters


def offline_window(qtbot: QtBot) -> tuple[MainWindow, ChatClient]:
    """Rooms listed and joined as the client's signals say, no server needed."""
    client = ChatClient()
    window = MainWindow(Workspace(client))
    qtbot.addWidget(window)
    client.roomsChanged.emit([RoomInfo(1, "Lobby", False), RoomInfo(2, LONG_TITLE, False),
                              RoomInfo(3, "Random", False)])
    client.roomJoined.emit("1", "Lobby")
    client.roomJoined.emit("2", LONG_TITLE)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.show_room("1")
    return window, client


_seqs: dict[tuple[int, str], int] = {}


def says(client: ChatClient, room: str, text: str) -> None:
    """Bob's next message in ``room`` (each its own seq, as the server numbers them)."""
    seq = _seqs[(id(client), room)] = _seqs.get((id(client), room), 0) + 1
    client.messageReceived.emit(room, RoomEvent(int(room), text, "bob", MsgType.MESSAGE, seq))


def tab_texts(window: MainWindow) -> list[str]:
    return [window.tabs.tabText(i) for i in range(window.tabs.count())]


def test_the_title_and_tabs_count_what_waits_in_the_other_rooms(qtbot: QtBot) -> None:
    window, client = offline_window(qtbot)
    assert window.windowTitle() == "Lobby — Multichat"
    says(client, "2", "one")
    says(client, "2", "two")
    says(client, "1", "seen as it came")
    assert window.windowTitle() == "(2) Lobby — Multichat"
    assert tab_texts(window) == ["Lobby", f"(2) {LONG_TITLE}"]
    window.workspace.set_muted("2", True)  # a muted room counts only what names you
    assert window.windowTitle() == "Lobby — Multichat"
    window.workspace.set_muted("2", False)
    window.show_room("2")
    assert window.windowTitle() == f"{LONG_TITLE} — Multichat"
    assert tab_texts(window) == ["Lobby", LONG_TITLE]
    window.close_current_room()
    window.close_current_room()
    assert window.windowTitle() == "Multichat"


# A popup asks the platform to raise it and grab the keyboard; offscreen cannot, and says so.
OFFSCREEN_POPUP = pytest.mark.qt_log_ignore("This plugin does not support")


@OFFSCREEN_POPUP
def test_ctrl_k_finds_a_room_by_part_of_its_title_and_opens_it(qtbot: QtBot) -> None:
    window, _client = offline_window(qtbot)
    box = window.views["1"].input
    box.setFocus()
    qtbot.keyClicks(box, "draft")
    qtbot.keyClick(box, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert box.toPlainText() == "draft"  # the shortcut won over the box's delete-to-end
    switcher = window.switcher
    qtbot.waitUntil(switcher.isVisible)
    qtbot.keyClicks(switcher.query, "rand")
    assert switcher.filtered.rowCount() == 1
    with qtbot.waitSignal(switcher.roomChosen) as chosen:
        qtbot.keyClick(switcher.query, Qt.Key.Key_Return)
    assert chosen.args == ["3", "Random"]
    assert not switcher.isVisible()
    assert window.current_room() == "3" and "3" in window.views
    window.open_switcher()
    qtbot.keyClick(switcher.query, Qt.Key.Key_Escape)
    assert not switcher.isVisible()


def test_alt_up_down_step_through_tabs_and_ctrl_w_leaves(qtbot: QtBot) -> None:
    window, client = offline_window(qtbot)
    window.views["1"].input.setFocus()
    alt = Qt.KeyboardModifier.AltModifier
    qtbot.keyClick(window.views["1"].input, Qt.Key.Key_Down, alt)
    assert window.current_room() == "2"
    qtbot.keyClick(window.views["2"].input, Qt.Key.Key_Down, alt)  # wraps around
    assert window.current_room() == "1"
    qtbot.keyClick(window.views["1"].input, Qt.Key.Key_Up, alt)
    assert window.current_room() == "2"
    with qtbot.waitSignal(client.roomLeft) as left:
        qtbot.keyClick(window.views["2"].input, Qt.Key.Key_W,
                       Qt.KeyboardModifier.ControlModifier)
    assert left.args == ["2"]
    assert list(window.views) == ["1"] and window.current_room() == "1"


def test_a_tabs_close_button_leaves_its_own_room_even_after_the_tabs_moved(
    qtbot: QtBot,
) -> None:
    window, client = offline_window(qtbot)
    bar = window.tabs.tabBar()
    bar.moveTab(0, 1)  # now the long-titled room first, Lobby second
    lobby = tab_texts(window).index("Lobby")
    button = bar.tabButton(lobby, QTabBar.ButtonPosition.RightSide)
    assert isinstance(button, QToolButton) and button.text() == "✕"  # not Qt's red square
    assert button.toolTip() == "Close (Ctrl+W)"
    window.show_room("2")  # the close button acts on its tab, not on the one in view
    with qtbot.waitSignal(client.roomLeft) as left:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert left.args == ["1"]
    assert list(window.views) == ["2"] and tab_texts(window) == [LONG_TITLE]


def test_help_lists_every_shortcut_the_window_binds(qtbot: QtBot) -> None:
    window, _client = offline_window(qtbot)
    bound = {action.shortcut().toString() for action in window.actions()
             if not action.shortcut().isEmpty()}
    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    listed = {QKeySequence(keys).toString() for keys, _does in SHORTCUTS}
    assert bound <= listed
    assert {"Ctrl+K", "Alt+Up", "Alt+Down", "Ctrl+W", "Ctrl+Tab", "PgUp", "PgDown",
            "Ctrl+End", "Esc", "Shift+Return"} <= {k.replace("Enter", "Return") for k in listed} \
        | listed
    assert len(dialog.rows()) == len(SHORTCUTS)
    assert window.shortcuts_action.shortcut().toString() == "F1"


@pytest.mark.parametrize("width", [520, 420])
def test_the_shortcuts_list_shows_every_line_whole(
    qtbot: QtBot, qapp: QApplication, width: int
) -> None:
    """Each "Does" wraps in its row instead of ending in "…" (at the dialog's size and
    narrower, in the app's own font)."""
    qapp.setStyle("Fusion")
    qapp.setPalette(theme.palette(theme.LIGHT))
    qapp.setStyleSheet(style_sheet(theme.LIGHT))
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    dialog.resize(width, 460)
    dialog.show()
    qtbot.waitExposed(dialog)
    table = dialog.table
    metrics = table.fontMetrics()
    for row in range(table.rowCount()):
        item = table.item(row, 1)
        assert item is not None
        cell = table.visualItemRect(item)
        needed = metrics.boundingRect(QRect(0, 0, cell.width() - 8, 10_000),
                                      int(Qt.TextFlag.TextWordWrap), item.text())
        assert needed.height() <= cell.height(), (item.text(), needed, cell)


def test_a_narrow_window_hides_the_room_list_and_the_toggle_brings_it_back(
    qtbot: QtBot,
) -> None:
    window, _client = offline_window(qtbot)
    window.set_hosting(["wss://192.168.1.20:8765", "wss://10.0.0.5:8765"], "ab" * 32)
    window.resize(900, 600)
    qtbot.waitUntil(window.sidebar.isVisible)
    window.resize(480, 600)
    qtbot.waitUntil(lambda: not window.sidebar.isVisible())
    assert window.width() == 480 and window.minimumSizeHint().width() <= 480
    assert window.hosting_label.full_text() == (
        "Hosting · others join at wss://192.168.1.20:8765 (+1 more)")
    assert "wss://10.0.0.5:8765" in window.hosting_details()
    qtbot.keyClick(window.views["1"].input, Qt.Key.Key_B,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.sidebar.isVisible() and window.room_list.hasFocus()
    window.toggle_sidebar()
    assert not window.sidebar.isVisible()
    assert window.tabs.tabBar().elideMode() == Qt.TextElideMode.ElideRight
    assert window.rooms_button.isVisible()  # narrow: the way back to the list stays in view


def test_at_480_px_the_rooms_button_brings_the_list_over_the_messages(qtbot: QtBot) -> None:
    window, _client = offline_window(qtbot)
    window.resize(480, 600)
    qtbot.waitUntil(lambda: not window.sidebar.isVisible())
    button = window.rooms_button
    assert button.isVisible() and button.objectName() == "roomsToggle"
    assert button.accessibleName() == "Room list" and button.isCheckable()
    assert "Ctrl+Shift+B" in button.toolTip()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.sidebar.isVisible() and button.isChecked()
    assert window.sidebar_action.isChecked()
    # Over the messages, not beside them: the window stays 480 px and the room keeps its width.
    assert window.width() == 480
    assert window.views["1"].width() > window.sidebar.width()
    assert window.sidebar.width() < window.width() - 48
    assert window.sidebar.mapTo(window, QPoint(0, 0)).y() > button.mapTo(window, QPoint(0, 0)).y()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # and the same button puts it away
    assert not window.sidebar.isVisible() and not button.isChecked()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    picked = room_index(window, "Random")
    window.room_list.activated.emit(picked)  # a pick opens the room, the list steps aside
    assert window.current_room() == "3"
    assert not window.sidebar.isVisible() and button.isVisible() and not button.isChecked()
    window.toggle_sidebar()
    qtbot.keyClick(window.room_list, Qt.Key.Key_Escape)
    assert not window.sidebar.isVisible()
    window.resize(900, 600)  # wide again: the list is back in its place, the button away
    qtbot.waitUntil(window.sidebar.isVisible)
    assert window.splitter.indexOf(window.sidebar) == 0 and not button.isVisible()


def test_a_wide_window_offers_the_button_once_the_list_is_hidden(qtbot: QtBot) -> None:
    window, _client = offline_window(qtbot)
    window.resize(900, 600)
    qtbot.waitUntil(window.sidebar.isVisible)
    assert not window.rooms_button.isVisible()
    window.toggle_sidebar()
    assert window.rooms_button.isVisible() and not window.rooms_button.isChecked()
    qtbot.mouseClick(window.rooms_button, Qt.MouseButton.LeftButton)
    assert window.sidebar.isVisible() and window.splitter.indexOf(window.sidebar) == 0


def shown_tab_text(window: MainWindow, position: int) -> str:
    """The words a tab paints, after eliding."""
    option = QStyleOptionTab()
    window.tabs.tabBar().initStyleOption(option, position)
    return option.text


def test_at_480_px_the_tab_in_view_keeps_its_whole_title(qtbot: QtBot) -> None:
    window, client = offline_window(qtbot)
    client.roomJoined.emit("3", "Random")
    window.resize(480, 600)
    qtbot.waitUntil(lambda: not window.sidebar.isVisible())
    bar = window.tabs.tabBar()
    for room, title in (("1", "Lobby"), ("3", "Random")):
        window.show_room(room)
        qtbot.waitUntil(lambda r=room: window.current_room() == r)  # type: ignore[misc]
        current = bar.currentIndex()
        assert shown_tab_text(window, current) == title
        assert bar.tabRect(current).width() >= bar.fontMetrics().horizontalAdvance(title)
        assert bar.tabRect(bar.count() - 1).right() <= bar.width()  # all three fit, no scroll
    window.show_room("2")  # the long one in view: whole as far as the tab maximum allows
    qtbot.waitUntil(lambda: window.current_room() == "2")
    others = [shown_tab_text(window, window.tabs.indexOf(window.views[r])) for r in ("1", "3")]
    assert others == ["Lobby", "Random"]  # and the short ones still say who they are


@OFFSCREEN_POPUP
def test_the_switcher_is_a_popup_over_the_window_without_sideways_scrolling(
    qtbot: QtBot,
) -> None:
    window, _client = offline_window(qtbot)
    window.resize(480, 600)
    switcher = window.switcher
    window.open_switcher()
    qtbot.waitUntil(switcher.isVisible)
    assert switcher.windowType() == Qt.WindowType.Popup  # no title bar, no maximise button
    assert switcher.isWindow() and switcher.parentWidget() is window
    matches = switcher.matches
    assert matches.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert switcher.width() <= window.width() * 0.6 + 1
    centre = window.mapToGlobal(QPoint(window.width() // 2, 0)).x()
    assert abs(switcher.geometry().center().x() - centre) <= 2
    top = window.mapToGlobal(QPoint(0, 0)).y()
    assert top < switcher.y() < top + window.height() // 4
    longest = next(row for row in range(switcher.filtered.rowCount())
                   if switcher.filtered.index(row, 0).data() == LONG_TITLE)
    row_rect = matches.visualRect(switcher.filtered.index(longest, 0))
    assert row_rect.width() <= matches.viewport().width()  # elided, not wider than the list
    qtbot.keyClick(switcher.query, Qt.Key.Key_Escape)
    assert not switcher.isVisible()
