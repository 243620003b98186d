"""ElidingLabel: one line of text that elides rather than widen its window.

A plain QLabel's minimum width is its text's: a 60-character room title, or a
hosting line with every address, would set the window's minimum width (and at
``QT_SCALE_FACTOR=2`` push it past the screen). This label keeps its whole text
(``text()``, and the tooltip) and paints as much as fits, with "…".
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QWidget

# The narrowest it asks for: room for a couple of letters and the ellipsis.
MIN_CHARACTERS = 3


class ElidingLabel(QLabel):
    """A one-line label that elides its text instead of asking for its full width."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *,
                 minimum_characters: int = MIN_CHARACTERS) -> None:
        """``minimum_characters`` of "…" width it asks for at least (0: it may vanish)."""
        super().__init__(parent)
        self._minimum_characters = minimum_characters
        self.set_full_text(text)

    def set_full_text(self, text: str, tooltip: str | None = None) -> None:
        """The whole text, and a tooltip (the text itself unless given)."""
        super().setText(text)
        self.setToolTip(tooltip if tooltip is not None else text)

    def setText(self, text: str) -> None:
        self.set_full_text(text)

    def full_text(self) -> str:
        return self.text()

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance("…") * self._minimum_characters,
                     super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                              rect.width())
        self.style().drawItemText(painter, rect, int(Qt.AlignmentFlag.AlignVCenter
                                                     | Qt.AlignmentFlag.AlignLeft),
                                  self.palette(), self.isEnabled(), shown,
                                  self.foregroundRole())
