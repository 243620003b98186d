"""The administration dialog, for superusers: rooms, users, announcements.

Every action is a protocol command through the ChatClient; the dialog shows
the server's answer, or its refusal in words, in the status line of the tab
the action came from. Deleting asks for a second click instead of a modal box;
making a room staff-only, which throws people out of it, asks in a box whose
default is Cancel.

Enter: every button here has autoDefault off and each line edit submits its own
row, so one Enter is one command (a default button as well would send it twice).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop.client import ChatClient
from multichat.protocol import MsgType
from multichat.protocol import commands as cmd
from multichat.protocol.frames import (
    Announced,
    RoomChanged,
    RoomInfo,
    ServerFrame,
    UserChanged,
    UserInfo,
    Users,
)

NOTICE_TYPES = (("Warning", MsgType.WARNING), ("Alert", MsgType.ALERT),
                ("Muted notice", MsgType.MUTED))


class ConfirmButton(QPushButton):
    """A button that acts on its second click: "Delete" -> "Click again to delete"."""

    confirmed = Signal()

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._text = text
        self._armed = False
        self.clicked.connect(self._on_click)

    def _on_click(self) -> None:
        if self._armed:
            self.disarm()
            self.confirmed.emit()
        else:
            self._armed = True
            self.setText(f"Click again to {self._text.lower()}")

    def disarm(self) -> None:
        self._armed = False
        self.setText(self._text)


def staff_only_box(parent: QWidget | None, title: str) -> QMessageBox:
    """The question before a room goes staff-only; Enter and Esc keep it as it is."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Make the room staff-only?")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(f"Everyone in “{title}” who isn't staff is removed from it at once, "
                "and the room disappears from their list.")
    box.addButton("Make staff-only", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    return box


def ask_to_make_staff_only(parent: QWidget | None, title: str) -> bool:
    box = staff_only_box(parent, title)
    box.exec()
    clicked = box.clickedButton()
    return clicked is not None and clicked is not box.button(QMessageBox.StandardButton.Cancel)


def _no_auto_default(widget: QWidget) -> None:
    """Enter goes to the line edit's own slot only (see the module docstring)."""
    for button in widget.findChildren(QPushButton):
        button.setAutoDefault(False)
        button.setDefault(False)


class _Status(QLabel):
    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setObjectName("adminStatus")

    def ok(self, words: str) -> None:
        self.setProperty("error", False)
        self.setText(words)

    def fail(self, words: str) -> None:
        self.setProperty("error", True)
        self.setText(words)


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in range(1, len(headers)):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return table


class RoomsTab(QWidget):
    def __init__(self, client: ChatClient) -> None:
        super().__init__()
        self.client = client
        self.rooms: list[RoomInfo] = []
        self.table = _table(["Room", "Staff only"])
        self.new_title = QLineEdit(placeholderText="New room title")
        self.new_staff_only = QCheckBox("Staff only")
        self.create_button = QPushButton("Create room")
        self.rename_title = QLineEdit(placeholderText="New title for the selected room")
        self.rename_button = QPushButton("Rename")
        self.staff_only = QCheckBox("Staff only (hidden from other users)")
        self.delete_button = ConfirmButton("Delete room")
        self.status = _Status()

        create_row = QHBoxLayout()
        create_row.addWidget(self.new_title, 1)
        create_row.addWidget(self.new_staff_only)
        create_row.addWidget(self.create_button)
        rename_row = QHBoxLayout()
        rename_row.addWidget(self.rename_title, 1)
        rename_row.addWidget(self.rename_button)
        selected_row = QHBoxLayout()
        selected_row.addWidget(self.staff_only, 1)
        selected_row.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.addLayout(create_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(rename_row)
        layout.addLayout(selected_row)
        layout.addWidget(self.status)

        # Asks before making a room staff-only; tests answer for the person.
        self.confirm_staff_only: Callable[[QWidget | None, str], bool] = ask_to_make_staff_only
        self.create_button.clicked.connect(self.create_room)
        self.new_title.returnPressed.connect(self.create_room)
        self.rename_button.clicked.connect(self.rename)
        self.rename_title.returnPressed.connect(self.rename)
        self.staff_only.clicked.connect(self.toggle_staff_only)
        self.delete_button.confirmed.connect(self.delete_room)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self._selection_changed()

    def set_rooms(self, rooms: list[RoomInfo]) -> None:
        selected = self.selected_room()
        self.rooms = sorted(rooms, key=lambda room: room.title.casefold())
        self.table.setRowCount(len(self.rooms))
        for row, room in enumerate(self.rooms):
            self.table.setItem(row, 0, QTableWidgetItem(room.title))
            self.table.setItem(row, 1, QTableWidgetItem("yes" if room.staff_only else ""))
            if selected is not None and room.id == selected.id:
                self.table.selectRow(row)
        self._selection_changed()

    def selected_room(self) -> RoomInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rooms[rows[0].row()] if rows else None

    def _selection_changed(self) -> None:
        room = self.selected_room()
        for widget in (self.rename_title, self.rename_button, self.staff_only,
                       self.delete_button):
            widget.setEnabled(room is not None)
        self.delete_button.disarm()
        if room is not None:
            self.staff_only.setChecked(room.staff_only)
            self.rename_title.setText(room.title)

    def create_room(self) -> None:
        title = self.new_title.text().strip()
        if not title:
            self.status.fail("Give the new room a title.")
            return
        self.client.admin(cmd.CreateRoom(title=title, staff_only=self.new_staff_only.isChecked()))

    def rename(self) -> None:
        room = self.selected_room()
        title = self.rename_title.text().strip()
        if room is not None and title:
            self.client.admin(cmd.UpdateRoom(room=room.id, title=title))

    def toggle_staff_only(self) -> None:
        room = self.selected_room()
        if room is None:
            return
        wanted = self.staff_only.isChecked()
        if wanted and not room.staff_only and not self.confirm_staff_only(self, room.title):
            self.staff_only.setChecked(False)  # nothing changed: show it so
            return
        self.client.admin(cmd.UpdateRoom(room=room.id, staff_only=wanted))

    def room_created(self) -> None:
        """Ready for the next room: a fresh title, and not staff-only by accident."""
        self.new_title.clear()
        self.new_staff_only.setChecked(False)

    def delete_room(self) -> None:
        room = self.selected_room()
        if room is not None:
            self.client.admin(cmd.DeleteRoom(room=room.id))


class UsersTab(QWidget):
    def __init__(self, client: ChatClient) -> None:
        super().__init__()
        self.client = client
        self.users: list[UserInfo] = []
        self.table = _table(["User", "Staff", "Superuser"])
        self.new_name = QLineEdit(placeholderText="Username")
        self.new_password = QLineEdit(placeholderText="Password")
        self.new_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_staff = QCheckBox("Staff")
        self.new_superuser = QCheckBox("Superuser")
        self.create_button = QPushButton("Create user")
        self.is_staff = QCheckBox("Staff")
        self.is_superuser = QCheckBox("Superuser")
        self.reset_password = QLineEdit(placeholderText="New password")
        self.reset_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.reset_button = QPushButton("Reset password")
        self.delete_button = ConfirmButton("Delete user")
        self.status = _Status()

        create_row = QHBoxLayout()
        create_row.addWidget(self.new_name, 1)
        create_row.addWidget(self.new_password, 1)
        for control in (self.new_staff, self.new_superuser, self.create_button):
            create_row.addWidget(control)
        flags_row = QHBoxLayout()
        flags_row.addWidget(self.is_staff)
        flags_row.addWidget(self.is_superuser)
        flags_row.addStretch(1)
        flags_row.addWidget(self.delete_button)
        reset_row = QHBoxLayout()
        reset_row.addWidget(self.reset_password, 1)
        reset_row.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.addLayout(create_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(flags_row)
        layout.addLayout(reset_row)
        layout.addWidget(self.status)

        self.create_button.clicked.connect(self.create_user)
        self.new_name.returnPressed.connect(self.create_user)
        self.new_password.returnPressed.connect(self.create_user)
        self.reset_password.returnPressed.connect(self.reset)
        self.is_staff.clicked.connect(lambda: self.set_flag("is_staff", self.is_staff))
        self.is_superuser.clicked.connect(
            lambda: self.set_flag("is_superuser", self.is_superuser)
        )
        self.reset_button.clicked.connect(self.reset)
        self.delete_button.confirmed.connect(self.delete_user)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self._selection_changed()

    def refresh(self) -> None:
        self.client.admin(cmd.ListUsers())

    def set_users(self, users: list[UserInfo]) -> None:
        selected = self.selected_user()
        self.users = sorted(users, key=lambda user: user.username.casefold())
        self.table.setRowCount(len(self.users))
        for row, user in enumerate(self.users):
            self.table.setItem(row, 0, QTableWidgetItem(user.username))
            self.table.setItem(row, 1, QTableWidgetItem("yes" if user.is_staff else ""))
            self.table.setItem(row, 2, QTableWidgetItem("yes" if user.is_superuser else ""))
            if selected is not None and user.username == selected.username:
                self.table.selectRow(row)
        self._selection_changed()

    def selected_user(self) -> UserInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.users[rows[0].row()] if rows else None

    def _selection_changed(self) -> None:
        user = self.selected_user()
        for widget in (self.is_staff, self.is_superuser, self.reset_password,
                       self.reset_button, self.delete_button):
            widget.setEnabled(user is not None)
        self.delete_button.disarm()
        if user is not None:
            self.is_staff.setChecked(user.is_staff)
            self.is_superuser.setChecked(user.is_superuser)

    def create_user(self) -> None:
        name, password = self.new_name.text().strip(), self.new_password.text()
        if not name or not password:
            self.status.fail("A new user needs a username and a password.")
            return
        self.client.admin(cmd.CreateUser(username=name, password=password,
                                         is_staff=self.new_staff.isChecked(),
                                         is_superuser=self.new_superuser.isChecked()))

    def set_flag(self, flag: str, box: QCheckBox) -> None:
        user = self.selected_user()
        if user is None:
            return
        if flag == "is_staff":
            self.client.admin(cmd.UpdateUser(username=user.username, is_staff=box.isChecked()))
        else:
            self.client.admin(cmd.UpdateUser(username=user.username,
                                             is_superuser=box.isChecked()))

    def reset(self) -> None:
        user = self.selected_user()
        password = self.reset_password.text()
        if user is None:
            return
        if not password:
            self.status.fail("Type the new password first.")
            return
        self.client.admin(cmd.UpdateUser(username=user.username, password=password))

    def delete_user(self) -> None:
        user = self.selected_user()
        if user is not None:
            self.client.admin(cmd.DeleteUser(username=user.username))


class AnnounceTab(QWidget):
    def __init__(self, client: ChatClient) -> None:
        super().__init__()
        self.client = client
        self.room = QComboBox()
        self.kind = QComboBox()
        for label, value in NOTICE_TYPES:
            self.kind.addItem(label, value)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("What everyone in the room should know")
        self.post_button = QPushButton("Post announcement")
        self.status = _Status()
        form = QFormLayout(self)
        form.addRow("Room", self.room)
        form.addRow("Kind", self.kind)
        form.addRow("Text", self.text)
        form.addRow("", self.post_button)
        form.addRow("", self.status)
        self.post_button.clicked.connect(self.post)
        self.post_button.setToolTip("Ctrl+Enter in the text posts it too")
        for keys in ("Ctrl+Return", "Ctrl+Enter"):  # Enter alone makes a new line
            shortcut = QShortcut(QKeySequence(keys), self.text)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self.post)

    def set_rooms(self, rooms: list[RoomInfo]) -> None:
        current = self.room.currentData()
        self.room.clear()
        for room in sorted(rooms, key=lambda r: r.title.casefold()):
            self.room.addItem(room.title, room.id)
        index = self.room.findData(current)
        if index >= 0:
            self.room.setCurrentIndex(index)

    def post(self) -> None:
        text = self.text.toPlainText().strip()
        if self.room.currentData() is None or not text:
            self.status.fail("Choose a room and write the announcement.")
            return
        self.client.admin(cmd.Announce(room=int(self.room.currentData()), message=text,
                                       msg_type=MsgType(self.kind.currentData())))


# The words for each admin reply's ``key``.
_DONE = {
    "room.created": "Room “{}” created.",
    "room.updated": "Room “{}” updated.",
    "room.deleted": "Room “{}” deleted.",
    "user.created": "User {} created.",
    "user.updated": "User {} updated.",
    "user.deleted": "User {} deleted.",
}


class AdminDialog(QDialog):
    """Rooms, users and announcements, for superusers."""

    def __init__(self, client: ChatClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Administration")
        self.setObjectName("adminDialog")
        self.resize(640, 480)
        self.client = client
        self.rooms_tab = RoomsTab(client)
        self.users_tab = UsersTab(client)
        self.announce_tab = AnnounceTab(client)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.rooms_tab, "Rooms")
        self.tabs.addTab(self.users_tab, "Users")
        self.tabs.addTab(self.announce_tab, "Announce")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)  # so does Esc, as in every QDialog
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        _no_auto_default(self)
        client.roomsChanged.connect(self.set_rooms)
        client.adminReply.connect(self._answered)
        client.adminFailed.connect(self._refused)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.setWindowModality(Qt.WindowModality.NonModal)

    def set_rooms(self, rooms: list[RoomInfo]) -> None:
        """The rooms, not the direct conversations: no admin command reaches one (the
        server answers as for a room that does not exist), so none is offered."""
        rooms = [room for room in rooms if not room.is_direct]
        self.rooms_tab.set_rooms(rooms)
        self.announce_tab.set_rooms(rooms)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.client.refresh_rooms()
        self.users_tab.refresh()

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.users_tab:
            self.users_tab.refresh()

    def _answered(self, reply: ServerFrame) -> None:
        match reply:
            case Users(users=users):
                self.users_tab.set_users(list(users))
            case RoomChanged(key=key, room=room):
                self.rooms_tab.status.ok(_DONE[key].format(room.title))
                if key == "room.created":
                    self.rooms_tab.room_created()
            case UserChanged(key=key, user=user):
                self.users_tab.status.ok(_DONE[key].format(user.username))
                self.users_tab.refresh()
                self.users_tab.new_name.clear()
                self.users_tab.new_password.clear()
                self.users_tab.reset_password.clear()
            case Announced():
                self.announce_tab.status.ok("Announcement posted.")
                self.announce_tab.text.clear()

    def _refused(self, command: cmd.Command, code: str, words: str) -> None:
        match command:
            case cmd.CreateRoom() | cmd.UpdateRoom() | cmd.DeleteRoom():
                self.rooms_tab.status.fail(words)
            case cmd.Announce():
                self.announce_tab.status.fail(words)
            case cmd.ListUsers():
                self.users_tab.status.fail(words)  # asking again would be refused again
            case _:  # the user changes
                self.users_tab.status.fail(words)
                self.users_tab.refresh()  # a refused flag change: show the real state again
