"""The bar above the message input saying what the next Enter does beyond sending.

"Replying to bob" with the first line of bob's message, or "Editing your
message"; a ✕ button (and Esc in the input, which the room view handles)
cancels. Hidden when the input just sends.

Signals:
    cancelled(): the ✕ was pressed.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from multichat.desktop.widgets.eliding_label import ElidingLabel


class ComposeBar(QFrame):
    """Replying or editing: what, about which message, and a way out."""

    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composeBar")
        self.title = QLabel()
        self.title.setObjectName("composeBarTitle")
        self.detail = ElidingLabel(minimum_characters=0)
        self.detail.setObjectName("composeBarDetail")
        self.close_button = QToolButton()
        self.close_button.setObjectName("composeBarClose")
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 3, 3, 3)
        layout.addWidget(self.title)
        layout.addWidget(self.detail, 1)
        layout.addWidget(self.close_button)
        self.close_button.clicked.connect(self.cancelled.emit)
        self.hide()

    def show_reply(self, username: str, first_line: str) -> None:
        self.title.setText(f"Replying to {username}")
        self.detail.set_full_text(first_line)
        self._way_out("Cancel reply")

    def show_editing(self) -> None:
        self.title.setText("Editing your message")
        self.detail.set_full_text("Enter saves")
        self._way_out("Cancel editing")

    def _way_out(self, words: str) -> None:
        self.close_button.setToolTip(f"{words} (Esc)")
        self.close_button.setAccessibleName(words)
        self.show()
