"""The user picker: known people to check, names to type, several for a group."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient
from multichat.desktop.widgets.main_window import MainWindow
from multichat.desktop.widgets.shortcuts_dialog import NEW_DIRECT_MESSAGE
from multichat.desktop.widgets.user_picker import UserPickerDialog, typed_names
from multichat.desktop.workspace import Workspace
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent, RoomInfo


def test_typed_names_split_on_commas_and_spaces() -> None:
    assert typed_names(" bob, @carol  dave,,bob ") == ["bob", "carol", "dave"]
    assert typed_names(" , ") == []


def test_check_known_people_type_others_and_message_them(qtbot: QtBot) -> None:
    picker = UserPickerDialog()
    qtbot.addWidget(picker)
    picker.open_with(["carol", "bob", "alice"], "alice")
    assert picker.users.usernames() == ["bob", "carol"]  # alice is in it anyway
    assert not picker.message_button.isEnabled()  # nobody yet
    qtbot.keyClicks(picker.names, "ca")
    assert picker.filtered.rowCount() == 1  # the list narrows to what is typed
    picker.names.clear()
    picker.users.set_chosen("bob", True)
    qtbot.keyClicks(picker.names, "dave, alice, erin")
    qtbot.keyClick(picker.names, Qt.Key.Key_Return)  # typed names go on the list, checked
    assert picker.users.chosen() == ["bob", "dave", "erin"] and picker.names.text() == ""
    assert "group of 4" in picker.hint.text()
    with qtbot.waitSignal(picker.usersChosen) as chosen:
        qtbot.keyClick(picker.names, Qt.Key.Key_Return)  # nothing typed: message them
    assert chosen.args == [["bob", "dave", "erin"]]
    assert not picker.isVisible()


def test_the_window_offers_the_people_it_has_seen(qtbot: QtBot) -> None:
    client = ChatClient()
    client.username = "alice"
    window = MainWindow(Workspace(client))
    qtbot.addWidget(window)
    client.roomsChanged.emit([RoomInfo(1, "Lobby", False),
                              RoomInfo(5, "x", False, kind="direct", members=("alice", "zoe"))])
    client.roomJoined.emit("1", "Lobby")
    client.membersChanged.emit("1", ["alice", "bob"])
    # Chen is not online (not a member now) but wrote in the Lobby: someone to write to.
    said = [RoomEvent(room=1, seq=seq, username=who, msg_type=MsgType.MESSAGE, message="hi",
                      ts="2026-12-07T10:00:00+00:00")
            for seq, who in ((1, "chen"), (2, "alice"))]
    client.historyLoaded.emit("1", said)
    window.show()
    window.new_direct_button.click()
    assert window.user_picker.isVisible()
    assert window.user_picker.users.usernames() == ["bob", "chen", "zoe"]
    window.user_picker.reject()
    assert window.direct_section.index(0, 0).data() == "zoe"
    assert window.direct_action in window.actions()
    assert window.direct_action.shortcut().toString() == NEW_DIRECT_MESSAGE
