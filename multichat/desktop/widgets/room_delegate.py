"""Painting one room in the sidebar: its title, a staff mark, unread and mention badges."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from multichat.desktop.models.rooms import RoomRole

ModelIndex = QModelIndex | QPersistentModelIndex
ROW_HEIGHT = 32
TEXT = "#e5e7eb"
QUIET = "#9ca3af"
SELECTED = "#374151"
UNREAD_BADGE = "#2563eb"
MENTION_BADGE = "#dc2626"
STAFF_MARK = "#f59e0b"


class RoomDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        return QSize(option.rect.width(), ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect: QRect = option.rect
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, QColor(SELECTED))
        muted = bool(index.data(RoomRole.Muted))
        joined = bool(index.data(RoomRole.Joined))
        unread = int(index.data(RoomRole.Unread) or 0)
        mentions = int(index.data(RoomRole.Mentions) or 0)
        font = QFont(option.font)
        font.setBold(joined and unread > 0 and not muted)
        painter.setFont(font)
        left = rect.left() + 12
        if index.data(RoomRole.StaffOnly):
            painter.setPen(QColor(STAFF_MARK))
            painter.drawText(QRect(left, rect.top(), 14, rect.height()),
                             Qt.AlignmentFlag.AlignVCenter, "◆")
        left += 16
        right = rect.right() - 8
        for count, color, prefix in ((unread if not muted else 0, UNREAD_BADGE, ""),
                                     (mentions, MENTION_BADGE, "@")):
            if count <= 0:
                continue
            label = f"{prefix}{count if count < 100 else '99+'}"
            width = painter.fontMetrics().horizontalAdvance(label) + 12
            badge = QRect(right - width, rect.top() + 7, width, rect.height() - 14)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(color))
            painter.drawRoundedRect(badge, badge.height() / 2, badge.height() / 2)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
            right = badge.left() - 4
        painter.setPen(QColor(QUIET if muted or not joined else TEXT))
        title = index.data(Qt.ItemDataRole.DisplayRole) or ""
        elided = painter.fontMetrics().elidedText(title, Qt.TextElideMode.ElideRight,
                                                   right - left)
        painter.drawText(QRect(left, rect.top(), right - left, rect.height()),
                         Qt.AlignmentFlag.AlignVCenter, elided)
        painter.restore()
