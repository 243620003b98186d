"""Help > Keyboard shortcuts (F1): every key the app answers to, in one list.

``SHORTCUTS`` is the one list; the main window binds its own from the same
key sequences, and a test checks the window binds each one it lists.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

SWITCH_ROOM = "Ctrl+K"
PREVIOUS_ROOM = "Alt+Up"
NEXT_ROOM = "Alt+Down"
CLOSE_ROOM = "Ctrl+W"
TOGGLE_SIDEBAR = "Ctrl+Shift+B"
NEW_DIRECT_MESSAGE = "Ctrl+Shift+K"  # as in Slack
SEARCH_ROOM = "Ctrl+F"
SEARCH_EVERYWHERE = "Ctrl+Shift+F"
ATTACH_FILES = "Ctrl+U"  # as in Slack
HELP = "F1"

# (keys, what they do); keys as QKeySequence text, shown in the platform's words.
SHORTCUTS: tuple[tuple[str, str], ...] = (
    (SWITCH_ROOM, "Go to a room: type part of its name, Enter opens it"),
    (PREVIOUS_ROOM, "Previous room (tab order)"),
    (NEXT_ROOM, "Next room (tab order)"),
    ("Ctrl+Tab", "Next tab"),
    ("Ctrl+Shift+Tab", "Previous tab"),
    (CLOSE_ROOM, "Leave the room in view and close its tab"),
    (TOGGLE_SIDEBAR, "Show or hide the room list"),
    (NEW_DIRECT_MESSAGE, "New direct message: pick or type the people"),
    (SEARCH_ROOM, "Search the messages of the room in view; ↑↓ and Enter open a result"),
    (SEARCH_EVERYWHERE, "Search every room and direct conversation"),
    ("Enter", "Send the message (or save the edit)"),
    ("Shift+Enter", "New line in the message"),
    (ATTACH_FILES, "Attach files to the message (or drop them on the room, or paste)"),
    ("Up", "Edit your last message, from an empty message box"),
    ("Shift+F10", "The menu of the current message (Reply, Edit, React, …); the Menu key too"),
    ("PgUp", "Scroll the messages up, from the message box"),
    ("PgDown", "Scroll the messages down, from the message box"),
    ("Ctrl+End", "Jump to the latest message"),
    ("Esc", "Cancel a reply or an edit; close a dialog, a menu or this list"),
    (HELP, "This list of keyboard shortcuts"),
)


def shown(keys: str) -> str:
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText) or keys


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(len(SHORTCUTS), 2)
        self.table.setHorizontalHeaderLabels(["Keys", "Does"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        for row, (keys, does) in enumerate(SHORTCUTS):
            self.table.setItem(row, 0, QTableWidgetItem(shown(keys)))
            self.table.setItem(row, 1, QTableWidgetItem(does))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        # Rows as tall as their wrapped words: a long line ended in "…" (the Ctrl+F row).
        self.table.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(520, 460)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def rows(self) -> list[tuple[str, str]]:
        """What the dialog lists, as shown."""
        cells = [(self.table.item(row, 0), self.table.item(row, 1))
                 for row in range(self.table.rowCount())]
        return [(keys.text(), does.text()) for keys, does in cells if keys and does]
