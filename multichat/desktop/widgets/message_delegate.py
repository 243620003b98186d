"""Painting one message row: a name and time over the text, notices styled by type.

The text goes through ``linkify.to_html``: shown exactly as typed, with web
links clickable and nothing ever fetched. Own messages are tinted, mentions
of the reader highlighted, pending ones marked "sending…".
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QSize,
    QUrl,
)
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QDesktopServices,
    QFont,
    QMouseEvent,
    QPainter,
    QPalette,
    QTextDocument,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from multichat.desktop.models.messages import MessageRole
from multichat.desktop.widgets.linkify import to_html
from multichat.protocol import MsgType

PADDING = 8
GAP = 2
ModelIndex = QModelIndex | QPersistentModelIndex

# msg_type -> (background, accent) of a notice; None for plain messages.
NOTICE_STYLE: dict[MsgType, tuple[str, str]] = {
    MsgType.WARNING: ("#fffbeb", "#b45309"),
    MsgType.ALERT: ("#fef2f2", "#b91c1c"),
}
OWN_BACKGROUND = "#eff6ff"
MENTION_BACKGROUND = "#fef9c3"
QUIET = "#6b7280"
NAME_COLOR = "#111827"
OWN_NAME_COLOR = "#1d4ed8"


def _msg_type(index: ModelIndex) -> MsgType:
    """The row's type; Qt hands the role back as a plain int."""
    return MsgType(int(index.data(MessageRole.MsgType) or MsgType.MESSAGE))


def _time(index: ModelIndex) -> str:
    ts = index.data(MessageRole.Timestamp)
    if isinstance(ts, datetime):
        return ts.astimezone().strftime("%H:%M")
    return ""


class MessageDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._body_font = QFont()
        self._name_font = QFont()
        self._name_font.setBold(True)
        self._small_font = QFont()
        self._small_font.setPointSizeF(max(6.0, self._small_font.pointSizeF() * 0.85))

    # -- layout -------------------------------------------------------------------

    def document(self, index: ModelIndex, width: int) -> QTextDocument:
        """The row's text as laid out and painted at ``width``: what sizeHint and link_at use."""
        msg_type = _msg_type(index)
        text = index.data(MessageRole.Text) or ""
        username = index.data(MessageRole.Username) or ""
        document = QTextDocument()
        document.setDocumentMargin(0)
        if msg_type in (MsgType.ENTER, MsgType.LEAVE):
            verb = "joined" if msg_type is MsgType.ENTER else "left"
            body = f'<span style="color:{QUIET}">{to_html(username)} {verb} the room</span>'
            document.setDefaultFont(self._small_font)
        elif msg_type is MsgType.MUTED:
            body = f'<span style="color:{QUIET}"><i>{to_html(username)}: {to_html(text)}</i></span>'
            document.setDefaultFont(self._small_font)
        elif msg_type in NOTICE_STYLE:
            label = "Warning" if msg_type is MsgType.WARNING else "Alert"
            accent = NOTICE_STYLE[msg_type][1]
            body = (f'<span style="color:{accent}"><b>{label} from {to_html(username)}:</b> '
                    f"{to_html(text)}</span>")
            document.setDefaultFont(self._body_font)
        else:
            body = to_html(text)
            document.setDefaultFont(self._body_font)
        document.setHtml(body)
        document.setTextWidth(max(10, width))
        return document

    def _has_header(self, index: ModelIndex) -> bool:
        return _msg_type(index) is MsgType.MESSAGE

    def _padding(self, index: ModelIndex) -> int:
        """Messages get room to breathe; notices sit tight."""
        return PADDING if self._has_header(index) else PADDING // 2

    def _header_height(self, option: QStyleOptionViewItem) -> int:
        return option.fontMetrics.height() + GAP

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        width = option.rect.width() if option.rect.width() > 0 else 400
        document = self.document(index, width - 2 * PADDING)
        height = int(document.size().height()) + 2 * self._padding(index)
        if self._has_header(index):
            height += self._header_height(option)
        return QSize(width, height)

    # -- painting -----------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        painter.save()
        rect: QRect = option.rect
        msg_type = _msg_type(index)
        background = None
        if index.data(MessageRole.MentionsMe):
            background = MENTION_BACKGROUND
        elif msg_type in NOTICE_STYLE:
            background = NOTICE_STYLE[msg_type][0]
        elif index.data(MessageRole.IsOwn) and msg_type is MsgType.MESSAGE:
            background = OWN_BACKGROUND
        if background is not None:
            painter.fillRect(rect, QColor(background))
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, option.palette.color(QPalette.ColorRole.Highlight).lighter(180))

        top = rect.top() + self._padding(index)
        left = rect.left() + PADDING
        if self._has_header(index):
            name = index.data(MessageRole.Username) or ""
            painter.setFont(self._name_font)
            own = bool(index.data(MessageRole.IsOwn))
            painter.setPen(QColor(OWN_NAME_COLOR if own else NAME_COLOR))
            metrics = painter.fontMetrics()
            painter.drawText(left, top + metrics.ascent(), name)
            painter.setFont(self._small_font)
            painter.setPen(QColor(QUIET))
            stamp = "sending…" if index.data(MessageRole.IsPending) else _time(index)
            painter.drawText(left + metrics.horizontalAdvance(name) + 8,
                             top + metrics.ascent(), stamp)
            top += self._header_height(option)
        document = self.document(index, rect.width() - 2 * PADDING)
        painter.translate(left, top)
        context = QAbstractTextDocumentLayout.PaintContext()
        if index.data(MessageRole.IsPending):
            context.palette.setColor(QPalette.ColorRole.Text, QColor(QUIET))
        document.documentLayout().draw(painter, context)
        painter.restore()

    # -- links ---------------------------------------------------------------------------

    def link_at(self, option: QStyleOptionViewItem, index: ModelIndex, point: QPointF) -> str:
        """The link under a point of the row, or ""."""
        top = option.rect.top() + self._padding(index)
        if self._has_header(index):
            top += self._header_height(option)
        document = self.document(index, option.rect.width() - 2 * PADDING)
        local = QPointF(point.x() - option.rect.left() - PADDING, point.y() - top)
        return document.documentLayout().anchorAt(local)

    def editorEvent(self, event: QEvent, model: object, option: QStyleOptionViewItem,
                    index: ModelIndex) -> bool:
        if event.type() == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent):
            link = self.link_at(option, index, event.position())
            if link:
                QDesktopServices.openUrl(QUrl(link))
                return True
        return super().editorEvent(event, model, option, index)  # type: ignore[arg-type]
