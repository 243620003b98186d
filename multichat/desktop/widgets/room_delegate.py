"""Painting one room in the sidebar: its title, a staff mark, unread and mention badges.

Colours come from ``theme.current()`` at each paint, so a theme switch needs
only a repaint. The current row shows a focus ring while the list has focus:
the keyboard's place in the list is always visible.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from multichat.desktop import theme
from multichat.desktop.models.rooms import RoomRole

ModelIndex = QModelIndex | QPersistentModelIndex
ROW_HEIGHT = 32
FOCUS_WIDTH = 2


class RoomDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        return QSize(option.rect.width(), ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        colours = theme.current()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect: QRect = option.rect
        state = option.state
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, QColor(colours.sidebar_selected))
        if state & QStyle.StateFlag.State_HasFocus:
            pen = QPen(QColor(colours.sidebar_focus), FOCUS_WIDTH)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 4, 4)
        muted = bool(index.data(RoomRole.Muted))
        joined = bool(index.data(RoomRole.Joined))
        unread = int(index.data(RoomRole.Unread) or 0)
        mentions = int(index.data(RoomRole.Mentions) or 0)
        font = QFont(option.font)
        font.setBold(joined and unread > 0 and not muted)
        painter.setFont(font)
        left = rect.left() + 12
        if index.data(RoomRole.StaffOnly):
            painter.setPen(QColor(colours.staff_mark))
            painter.drawText(QRect(left, rect.top(), 14, rect.height()),
                             Qt.AlignmentFlag.AlignVCenter, "◆")
        left += 16
        right = rect.right() - 8
        for count, colour, prefix in ((unread if not muted else 0, colours.unread_badge, ""),
                                      (mentions, colours.mention_badge, "@")):
            if count <= 0:
                continue
            label = f"{prefix}{count if count < 100 else '99+'}"
            width = painter.fontMetrics().horizontalAdvance(label) + 12
            badge = QRect(right - width, rect.top() + 7, width, rect.height() - 14)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(colour))
            painter.drawRoundedRect(badge, badge.height() / 2, badge.height() / 2)
            painter.setPen(QColor(colours.on_badge))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
            right = badge.left() - 4
        painter.setPen(QColor(colours.sidebar_quiet if muted or not joined
                              else colours.sidebar_text))
        title = index.data(Qt.ItemDataRole.DisplayRole) or ""
        elided = painter.fontMetrics().elidedText(title, Qt.TextElideMode.ElideRight,
                                                   right - left)
        painter.drawText(QRect(left, rect.top(), right - left, rect.height()),
                         Qt.AlignmentFlag.AlignVCenter, elided)
        painter.restore()
