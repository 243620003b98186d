"""New direct message: pick one person or several (a group), or type their names.

The list offers the users this app has seen (members of open rooms, the
authors of their messages loaded, members of direct conversations); the
server has no user directory for non-admins, so a name can be typed too:
Enter (or Add) puts each name typed, separated by commas or spaces, on the
list, checked. "Message" opens the conversation with everyone checked, plus
whatever is still typed.

Signals:
    usersChosen(list usernames): the person asked to message these people.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop.models.users import UserChoiceModel

MAX_OTHERS = 15  # dm.open takes 1 to 15 other usernames


def typed_names(text: str) -> list[str]:
    """The names in what was typed: separated by commas or white space, "@" allowed."""
    return list(dict.fromkeys(name.lstrip("@") for name in re.split(r"[,\s]+", text)
                              if name.lstrip("@")))


class UserPickerDialog(QDialog):
    usersChosen = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New direct message")
        self.setObjectName("userPicker")
        self._me = ""
        self.users = UserChoiceModel(self)
        self.filtered = QSortFilterProxyModel(self)
        self.filtered.setSourceModel(self.users)
        self.filtered.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.names = QLineEdit()
        self.names.setObjectName("userPickerNames")
        self.names.setPlaceholderText("Names, separated by commas…")
        self.names.setAccessibleName("Names to message")
        self.names.setClearButtonEnabled(True)
        self.add_button = QPushButton("Add")
        self.add_button.setAutoDefault(False)
        self.add_button.setToolTip("Put the names typed on the list, checked (Enter)")
        self.list = QListView()
        self.list.setObjectName("userPickerList")
        self.list.setModel(self.filtered)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setAccessibleName("People you have seen")
        self.hint = QLabel("Check one person for a conversation of two, several for a group.")
        self.hint.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.message_button = self.buttons.addButton(
            "Message", QDialogButtonBox.ButtonRole.AcceptRole)
        self.message_button.setAutoDefault(False)
        entry = QHBoxLayout()
        entry.addWidget(self.names, 1)
        entry.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.addLayout(entry)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        self.resize(360, 420)
        self.names.textChanged.connect(self._filter)
        self.names.returnPressed.connect(self._enter)
        self.add_button.clicked.connect(self.add_typed)
        self.list.activated.connect(self._toggle)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.users.chosenChanged.connect(self._update)
        self.names.textChanged.connect(self._update)
        self._update()

    def open_with(self, known: list[str], me: str = "") -> None:
        """Show, empty, offering ``known``; ready to type. ``me`` (this user) is in every
        conversation anyway: typed, it is left out."""
        self._me = me
        self.users.set_users([name for name in known if name != me])
        self.names.clear()
        self.open()
        self.names.setFocus(Qt.FocusReason.OtherFocusReason)

    def chosen(self) -> list[str]:
        """Everyone checked, then the names still typed (this user left out)."""
        typed = [name for name in typed_names(self.names.text()) if name != self._me]
        return list(dict.fromkeys([*self.users.chosen(), *typed]))

    def add_typed(self) -> None:
        for name in typed_names(self.names.text()):
            if name != self._me:
                self.users.add(name)
        self.names.clear()

    def _enter(self) -> None:
        """Enter: names typed go on the list; with nothing typed, message those checked."""
        if self.names.text().strip():
            self.add_typed()
        elif self.users.chosen():
            self._accept()

    def _toggle(self, index: object) -> None:
        source = self.filtered.mapToSource(index)  # type: ignore[arg-type]
        name = self.users.usernames()[source.row()]
        self.users.set_chosen(name, name not in self.users.chosen())

    def _filter(self, text: str) -> None:
        # The last name being typed narrows the list; the ones before it are done.
        self.filtered.setFilterFixedString(re.split(r"[,\s]+", text)[-1].lstrip("@"))

    def _update(self, *_: object) -> None:
        count = len(self.chosen())
        self.message_button.setEnabled(0 < count <= MAX_OTHERS)
        if count > MAX_OTHERS:
            self.hint.setText(f"At most {MAX_OTHERS} people besides you.")
        elif count > 1:
            self.hint.setText(f"A group of {count + 1}, you included.")
        else:
            self.hint.setText("Check one person for a conversation of two, several for a "
                              "group.")

    def _accept(self) -> None:
        chosen = self.chosen()
        if not 0 < len(chosen) <= MAX_OTHERS:
            return
        self.accept()
        self.usersChosen.emit(chosen)
