"""How one search result looks: who and where on a line, the message under it with the
query's words marked.

The first line names the sender (bold), the room or conversation ("in Lobby")
and the time at the right; a long first line elides the room, never the
sender or the time. Under it, the message, wrapped, at most ``MAX_LINES``
lines, a long one cut around its first match (``search_matches.snippet``),
each match on the theme's mention colour, as a message naming the reader is.
Right-to-left text lays out as such.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPalette,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from multichat.desktop import theme
from multichat.desktop.models.search_matches import marked_html, snippet
from multichat.desktop.models.search_results import SearchRole

ModelIndex = QModelIndex | QPersistentModelIndex
PADDING = 8
GAP = 3
MAX_LINES = 3
SEPARATOR = 1


def body_html(text: str, spans: list[tuple[int, int]]) -> str:
    """The result's words as rich text, each match marked (the text escaped)."""
    now = theme.current()
    cut, kept = snippet(text, spans)
    marked = marked_html(cut, kept, f'<span style="background-color:{now.mention_background};'
                                    f' font-weight:600;">', "</span>")
    return marked.replace("\n", "<br>")


class SearchResultDelegate(QStyledItemDelegate):
    def _document(self, index: ModelIndex, width: int, font: QFont) -> QTextDocument:
        document = QTextDocument()
        document.setDefaultFont(font)
        document.setDocumentMargin(0)
        document.setDefaultStyleSheet(f"body {{ color: {theme.current().text}; }}")
        text = str(index.data(SearchRole.Text) or "")
        spans = index.data(SearchRole.Spans) or []
        document.setHtml(f"<body>{body_html(text, list(spans))}</body>")
        document.setTextWidth(max(width, 40))
        return document

    def _body_height(self, document: QTextDocument, font: QFont) -> int:
        line = QFontMetrics(font).lineSpacing()
        return min(int(document.size().height() + 0.5), line * MAX_LINES)

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        view = self.parent()
        # Rows as wide as the list (never wider: no sideways scrolling), their height
        # what the words need at that width.
        width = view.viewport().width() if isinstance(view, QAbstractItemView) else 400
        font = QFont(option.font)
        document = self._document(index, width - 2 * PADDING, font)
        header = option.fontMetrics.height()
        return QSize(0, PADDING + header + GAP + self._body_height(document, font) + PADDING
                     + SEPARATOR)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        now = theme.current()
        rect = QRect(option.rect)
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if selected:
            painter.fillRect(rect, QColor(now.highlight))
        elif hovered:
            painter.fillRect(rect, QColor(now.hover))
        painter.setPen(QColor(now.border))
        painter.drawLine(rect.left() + PADDING, rect.bottom(), rect.right() - PADDING,
                         rect.bottom())
        inner = rect.adjusted(PADDING, PADDING, -PADDING, -PADDING - SEPARATOR)
        font = QFont(option.font)
        metrics = option.fontMetrics
        header_height = metrics.height()
        # The time at the right, the sender bold, then "in Room" in what is left.
        when = str(index.data(SearchRole.When) or "")
        when_width = metrics.horizontalAdvance(when)
        painter.setPen(QColor(now.quiet))
        painter.setFont(font)
        painter.drawText(QRect(inner.right() - when_width, inner.top(), when_width,
                               header_height),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), when)
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        bold_metrics = QFontMetrics(bold)
        room_space = inner.width() - when_width - 2 * PADDING
        sender = bold_metrics.elidedText(str(index.data(SearchRole.Username) or ""),
                                         Qt.TextElideMode.ElideRight, max(room_space // 2, 40))
        sender_width = bold_metrics.horizontalAdvance(sender)
        painter.setPen(QColor(now.sender))
        painter.drawText(QRect(inner.left(), inner.top(), sender_width, header_height),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), sender)
        painter.setFont(font)
        painter.setPen(QColor(now.quiet))
        where = metrics.elidedText(f"in {index.data(SearchRole.Place) or ''}",
                                   Qt.TextElideMode.ElideRight,
                                   max(room_space - sender_width - PADDING, 0))
        painter.drawText(QRect(inner.left() + sender_width + PADDING // 2 + 2, inner.top(),
                               max(room_space - sender_width, 0), header_height),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), where)
        # The message, clipped to MAX_LINES lines.
        document = self._document(index, inner.width(), font)
        body_top = inner.top() + header_height + GAP
        body_height = self._body_height(document, font)
        painter.translate(inner.left(), body_top)
        clip = QRect(0, 0, inner.width(), body_height)
        painter.setClipRect(clip)
        context = QAbstractTextDocumentLayout.PaintContext()
        context.clip = clip.toRectF()
        context.palette.setColor(QPalette.ColorRole.Text, QColor(now.text))
        document.documentLayout().draw(painter, context)
        painter.restore()
