"""A small popup grid of emoji to react with: the person's most used first.

Opened from a message's React action, its hover bar or the "+" chip. The
arrow keys move through the grid, Enter or Space chooses, Esc (or a click
elsewhere) closes it. Emoji the reader already gave the message are marked:
choosing one of those takes it back.

Signals:
    chosen(str emoji): the person picked this emoji (the popup then closes).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop import theme

COLUMNS = 8
ROWS_SHOWN = 4
EmojiRole = Qt.ItemDataRole.UserRole + 1
MineRole = Qt.ItemDataRole.UserRole + 2


def emoji_name(emoji: str) -> str:
    """A name to read out ("thumbs up sign"); the emoji itself where Unicode has none."""
    try:
        return unicodedata.name(emoji[0]).lower()
    except ValueError:
        return emoji


class EmojiDelegate(QStyledItemDelegate):
    """An emoji the reader already gave sits on the own-reaction colour, outlined."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        if index.data(MineRole):
            now = theme.current()
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(QColor(now.own_name))
            painter.setBrush(QColor(now.chip_own_background))
            painter.drawRoundedRect(option.rect.adjusted(3, 3, -4, -4), 6, 6)
            painter.restore()
        super().paint(painter, option, index)


class EmojiGrid(QListWidget):
    """The grid itself: Enter and Space choose the current emoji, as a click does."""

    activatedEmoji = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emojiGrid")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setWrapping(True)
        self.setUniformItemSizes(True)
        self.setSpacing(0)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self.setFont(font)
        side = QFontMetrics(font).height() + 12
        self.setGridSize(QSize(side, side))
        self.setAccessibleName("Emoji")
        self.setItemDelegate(EmojiDelegate(self))
        self.itemClicked.connect(self._chosen)

    def _chosen(self, item: QListWidgetItem) -> None:
        self.activatedEmoji.emit(str(item.data(EmojiRole)))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            item = self.currentItem()
            if item is not None:
                self._chosen(item)
            return
        super().keyPressEvent(event)


class EmojiPicker(QFrame):
    """The popup: a heading and the grid (see the module docstring)."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("emojiPicker")
        self.setAccessibleName("Choose a reaction")
        self.heading = QLabel("React with")
        self.heading.setObjectName("emojiPickerHeading")
        self.grid = EmojiGrid()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.heading)
        layout.addWidget(self.grid)
        self.grid.activatedEmoji.connect(self._chosen)

    def set_emoji(self, offered: Iterable[str], mine: Iterable[str] = ()) -> None:
        """The emoji in the grid, in order; ``mine``: the reader already gave these."""
        given = set(mine)
        self.grid.clear()
        for emoji in offered:
            item = QListWidgetItem(emoji)
            item.setData(EmojiRole, emoji)
            item.setData(MineRole, emoji in given)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            item.setSizeHint(self.grid.gridSize())  # the whole cell: the emoji centred in it
            name = emoji_name(emoji)
            if emoji in given:
                item.setToolTip(f"Take back {emoji}")
                item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{name}, given: take back")
            else:
                item.setToolTip(name)
                item.setData(Qt.ItemDataRole.AccessibleTextRole, name)
            self.grid.addItem(item)
        rows = max(1, (self.grid.count() + COLUMNS - 1) // COLUMNS)
        cell = self.grid.gridSize()
        frame = 2 * self.grid.frameWidth() + 6
        # Up to four rows show whole; more scroll, the bar beside the eight columns.
        scrolls = rows > ROWS_SHOWN
        bar = self.grid.verticalScrollBar().sizeHint().width() if scrolls else 0
        self.grid.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if scrolls
                                             else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.grid.setFixedSize(cell.width() * COLUMNS + frame + bar,
                               cell.height() * min(rows, ROWS_SHOWN) + frame)
        self.grid.setCurrentRow(0)
        self.adjustSize()

    def offered(self) -> list[str]:
        return [str(self.grid.item(i).data(EmojiRole)) for i in range(self.grid.count())]

    def popup_at(self, point: QPoint) -> None:
        """Show at a global point, kept on the screen, with the grid taking the keys."""
        self.adjustSize()
        size = self.sizeHint()
        place = QRect(point, size)
        screen = self.screen() if self.screen() is not None else None
        if screen is not None:
            area = screen.availableGeometry()
            place.moveLeft(max(area.left(), min(place.left(), area.right() - size.width())))
            if place.bottom() > area.bottom():
                place.moveBottom(point.y() - 4)
            place.moveTop(max(area.top(), place.top()))
        self.move(place.topLeft())
        self.show()
        self.grid.doItemsLayout()
        self.grid.scrollToTop()  # the first row whole, however the grid laid out before
        self.grid.setFocus(Qt.FocusReason.PopupFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)

    def _chosen(self, emoji: str) -> None:
        self.close()
        self.chosen.emit(emoji)
