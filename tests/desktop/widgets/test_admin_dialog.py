"""The admin dialog against a real server: every action, and refusals in words."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QTableWidget
from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient
from multichat.desktop.services.hosting import ServerThread
from multichat.desktop.widgets.admin_dialog import (
    AdminDialog,
    RoomsTab,
    UsersTab,
    staff_only_box,
)
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent, UserInfo
from tests.conftest import ADMIN, ALICE
from tests.desktop.helpers import WAIT_MS, log_in


def open_dialog(qtbot: QtBot, client: ChatClient) -> AdminDialog:
    dialog = AdminDialog(client)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.rooms_tab.table.rowCount() == 2, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: dialog.users_tab.table.rowCount() == 4, timeout=WAIT_MS)
    return dialog


def cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    return item.text() if item is not None else ""


def select(tab: RoomsTab | UsersTab, first_column: str) -> None:
    table = tab.table
    for row in range(table.rowCount()):
        if cell(table, row, 0) == first_column:
            table.selectRow(row)
            return
    raise AssertionError(f"{first_column!r} is not listed")


def titles(dialog: AdminDialog) -> list[str]:
    table = dialog.rooms_tab.table
    return [cell(table, row, 0) for row in range(table.rowCount())]


def test_rooms_are_created_renamed_restricted_and_deleted(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    admin = make_client()
    log_in(qtbot, admin, hosted_server, ADMIN)
    dialog = open_dialog(qtbot, admin)
    rooms = dialog.rooms_tab
    qtbot.keyClicks(rooms.new_title, "Garden")
    qtbot.mouseClick(rooms.create_button, Qt.MouseButton.LeftButton)
    # The room list (a push) and the reply may come in either order: wait for both.
    qtbot.waitUntil(lambda: "Garden" in titles(dialog)
                    and rooms.status.text() == "Room “Garden” created.", timeout=WAIT_MS)
    assert rooms.new_title.text() == ""

    qtbot.keyClicks(rooms.new_title, "Lobby")
    qtbot.mouseClick(rooms.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rooms.status.property("error") is True, timeout=WAIT_MS)
    assert rooms.status.text() == "A room with that title exists already."

    select(rooms, "Garden")
    rooms.rename_title.clear()
    qtbot.keyClicks(rooms.rename_title, "Orchard")
    qtbot.mouseClick(rooms.rename_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Orchard" in titles(dialog), timeout=WAIT_MS)
    select(rooms, "Orchard")
    rooms.confirm_staff_only = lambda parent, title: True  # the person confirms
    rooms.staff_only.click()
    qtbot.waitUntil(
        lambda: cell(rooms.table, titles(dialog).index("Orchard"), 1) == "yes",
        timeout=WAIT_MS,
    )
    select(rooms, "Orchard")
    qtbot.mouseClick(rooms.delete_button, Qt.MouseButton.LeftButton)
    assert rooms.delete_button.text() == "Click again to delete room"
    assert "Orchard" in titles(dialog)  # nothing happens on the first click
    qtbot.mouseClick(rooms.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Orchard" not in titles(dialog)
                    and rooms.status.text() == "Room “Orchard” deleted.", timeout=WAIT_MS)


def test_users_are_created_flagged_reset_and_deleted(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    admin = make_client()
    log_in(qtbot, admin, hosted_server, ADMIN)
    dialog = open_dialog(qtbot, admin)
    users = dialog.users_tab
    dialog.tabs.setCurrentWidget(users)
    qtbot.keyClicks(users.new_name, "carol")
    qtbot.keyClicks(users.new_password, "carol-pw")
    users.new_staff.setChecked(True)
    qtbot.mouseClick(users.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: users.table.rowCount() == 5
                    and users.status.text() == "User carol created.", timeout=WAIT_MS)
    select(users, "carol")
    assert users.is_staff.isChecked() and not users.is_superuser.isChecked()

    users.is_superuser.click()
    qtbot.waitUntil(lambda: users.status.text() == "User carol updated.", timeout=WAIT_MS)
    qtbot.keyClicks(users.reset_password, "new-password")
    users.status.clear()
    qtbot.mouseClick(users.reset_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: users.status.text() == "User carol updated.", timeout=WAIT_MS)

    carol = make_client()
    log_in(qtbot, carol, hosted_server, ("carol", "new-password"))
    assert carol.account == UserInfo("carol", is_staff=True, is_superuser=True)

    select(users, "alice")
    users.delete_button.click()
    users.delete_button.click()
    qtbot.waitUntil(lambda: users.table.rowCount() == 4
                    and users.status.text() == "User alice deleted.", timeout=WAIT_MS)


def test_an_announcement_reaches_the_room(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    admin, alice = make_client(), make_client()
    log_in(qtbot, admin, hosted_server, ADMIN)
    log_in(qtbot, alice, hosted_server, ALICE)
    notices: list[RoomEvent] = []
    alice.messageReceived.connect(
        lambda room, event: notices.append(event) if event.msg_type is MsgType.ALERT else None
    )
    alice.join("1")
    qtbot.waitUntil(lambda: alice.rooms["1"].joined, timeout=WAIT_MS)
    dialog = open_dialog(qtbot, admin)
    tab = dialog.announce_tab
    tab.room.setCurrentIndex(tab.room.findText("Lobby"))
    tab.kind.setCurrentIndex(tab.kind.findText("Alert"))
    tab.text.setPlainText("Fire drill at noon")
    qtbot.mouseClick(tab.post_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(notices) == 1, timeout=WAIT_MS)
    assert notices[0].message == "Fire drill at noon" and notices[0].username == "admin"
    assert tab.status.text() == "Announcement posted."


def test_a_non_admin_is_refused_in_words(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    alice = make_client()
    log_in(qtbot, alice, hosted_server, ALICE)
    dialog = AdminDialog(alice)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.users_tab.status.text() != "", timeout=WAIT_MS)
    assert dialog.users_tab.status.text() == "Only administrators may do that."


def test_enter_creates_a_room_once_and_the_form_resets(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    admin = make_client()
    log_in(qtbot, admin, hosted_server, ADMIN)
    dialog = open_dialog(qtbot, admin)
    rooms = dialog.rooms_tab
    refusals: list[str] = []
    admin.adminFailed.connect(lambda command, code, words: refusals.append(words))
    qtbot.keyClicks(rooms.new_title, "Quiet corner")
    rooms.new_staff_only.setChecked(True)
    qtbot.keyClick(rooms.new_title, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Quiet corner" in titles(dialog)
                    and rooms.status.text() == "Room “Quiet corner” created.", timeout=WAIT_MS)
    # The next room is not staff-only by accident, and no second create was sent.
    assert not rooms.new_staff_only.isChecked() and rooms.new_title.text() == ""
    with qtbot.waitSignal(admin.roomsChanged, timeout=WAIT_MS):
        admin.refresh_rooms()  # a round trip: a second create would have been answered
    assert refusals == [] and titles(dialog).count("Quiet corner") == 1


def test_enter_creates_a_user(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    admin = make_client()
    log_in(qtbot, admin, hosted_server, ADMIN)
    dialog = open_dialog(qtbot, admin)
    users = dialog.users_tab
    dialog.tabs.setCurrentWidget(users)
    qtbot.keyClicks(users.new_name, "dora")
    qtbot.keyClicks(users.new_password, "dora-password")
    qtbot.keyClick(users.new_password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: users.status.text() == "User dora created.", timeout=WAIT_MS)
    assert dialog.isVisible()  # Enter did not press a dialog button as well


def test_making_a_room_staff_only_asks_first_with_cancel_the_default(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    admin = make_client()
    log_in(qtbot, admin, hosted_server, ADMIN)
    dialog = open_dialog(qtbot, admin)
    rooms = dialog.rooms_tab
    box = staff_only_box(dialog, "Lobby")
    qtbot.addWidget(box)
    assert "isn't staff is removed" in box.text()
    cancel = box.button(QMessageBox.StandardButton.Cancel)
    assert box.defaultButton() is cancel and box.escapeButton() is cancel

    asked: list[str] = []

    def say_no(parent: object, title: str) -> bool:
        asked.append(title)
        return False

    rooms.confirm_staff_only = say_no
    select(rooms, "Lobby")
    sent: list[object] = []
    admin.adminReply.connect(sent.append)
    rooms.staff_only.click()  # the person says no
    assert asked == ["Lobby"] and not rooms.staff_only.isChecked()
    with qtbot.waitSignal(admin.roomsChanged, timeout=WAIT_MS):
        admin.refresh_rooms()
    assert sent == [] and cell(rooms.table, titles(dialog).index("Lobby"), 1) == ""


def test_direct_conversations_are_not_offered_as_rooms(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    """The admin's own conversation with alice is in the admin's room list, but no
    admin command reaches it: listing it offered Rename, Delete and Announce that the
    server could only refuse."""
    admin = make_client()
    log_in(qtbot, admin, hosted_server, ADMIN)
    with qtbot.waitSignal(admin.dmOpened, timeout=WAIT_MS):
        assert admin.open_dm(["alice"])
    dialog = AdminDialog(admin)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(admin.roomsChanged, timeout=WAIT_MS) as listed:
        dialog.show()  # asks for the room list
    assert any(room.is_direct for room in listed.args[0])  # the admin's list holds it
    assert sorted(titles(dialog)) == ["Lobby", "Staff room"]
    room_choice = dialog.announce_tab.room
    assert sorted(room_choice.itemText(i) for i in range(room_choice.count())) == [
        "Lobby", "Staff room"]


def test_esc_closes_the_dialog(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient]
) -> None:
    admin = make_client()
    log_in(qtbot, admin, hosted_server, ADMIN)
    dialog = open_dialog(qtbot, admin)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
