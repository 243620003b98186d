"""Painting one message row: bands above it, a name and time over the text, notices by type.

Above a row go its date separator and the "New messages" divider when the
model says so; a message continuing its sender's group has no header; rows
folded into a membership line take no space. The text goes through
``linkify.to_html``: shown exactly as typed, with web links clickable and
nothing ever fetched. Every colour is read from ``theme.current()`` when
painting, so a theme change shows at the next repaint.

A message may carry more: a reply shows a one-line quote of its original
above its text (``quote_rect``: a click there jumps to it); an edited one ends
in "(edited)"; a deleted one reads "message deleted" in the quiet colour; its
reactions sit under the text as chips, each its emoji and count, the reader's
own outlined (``chip_rects``: a click toggles it, the "+" chip adds one). The
view tells the delegate which row is hovered and which was just jumped to.
A message's files go between its text and its reactions (``attachment_paint``:
images as thumbnails, other files as cards with Save; ``file_at`` says what a
click hit); thumbnails and download progress come from ``files`` (a
``FileTransfers``, set by the view).

Selecting part of a text: a painted row cannot hold a selection, so the view
asks this delegate for an editor, a read-only ``SelectableText`` laid exactly
over the painted text (same document settings, transparent), which takes the
mouse and Ctrl+C like any text field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QSize,
    Qt,
    QUrl,
)
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QDesktopServices,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QTextDocument,
    QTextOption,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTextBrowser,
    QToolTip,
    QWidget,
)

from multichat.desktop import theme
from multichat.desktop.models.messages import (
    DELETED_WORDS,
    MessageListModel,
    MessageRole,
    Quote,
    Reaction,
)
from multichat.desktop.services.file_transfers import FileTransfers
from multichat.desktop.widgets import attachment_paint
from multichat.desktop.widgets.attachment_paint import FileBox, Part
from multichat.desktop.widgets.linkify import to_html
from multichat.protocol import MsgType

PADDING = 8
GAP = 2
BAND = 6  # space above and below the words of a date separator or the divider
DIVIDER_WORDS = "New messages"
GAP_WORDS = "Loading earlier messages…"  # a stretch not loaded: it loads when seen
EDITED_WORDS = "(edited)"
QUOTE_BAR = 3  # the line left of a reply's quote
CHIP_PADDING = 7  # left and right of a reaction chip's words
CHIP_SPACING = 4
ADD_REACTION = "+"  # the last chip: add a reaction
ModelIndex = QModelIndex | QPersistentModelIndex
NOTICE_TYPES = (MsgType.WARNING, MsgType.ALERT)


def _msg_type(index: ModelIndex) -> MsgType:
    """The row's type; Qt hands the role back as a plain int."""
    return MsgType(int(index.data(MessageRole.MsgType) or MsgType.MESSAGE))


def _time(index: ModelIndex) -> str:
    ts = index.data(MessageRole.Timestamp)
    if isinstance(ts, datetime):
        return ts.astimezone().strftime("%H:%M")
    return ""


def _notice_colours(msg_type: MsgType) -> tuple[str, str]:
    """(background, text) of a warning or an alert, in the theme in use."""
    now = theme.current()
    if msg_type is MsgType.WARNING:
        return now.warning_background, now.warning_text
    return now.alert_background, now.alert_text


def quote_line(quote: Quote) -> tuple[str, str]:
    """A reply's quote as (who, what): the original's sender and its first line."""
    if not quote.loaded:
        return "", "Reply to an earlier message"
    if quote.deleted:
        return quote.username, DELETED_WORDS
    first = next((line for line in quote.text.splitlines() if line.strip()), "")
    return quote.username, first.strip()


def reaction_tooltip(reaction: Reaction, own_username: str) -> str:
    """Who reacted: "You, bob and carol reacted with 👍"."""
    names = ["You" if name == own_username else name for name in reaction.usernames]
    if "You" in names:
        names.insert(0, names.pop(names.index("You")))
    said = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{said} reacted with {reaction.emoji}"


@dataclass(slots=True)
class RowLayout:
    """Where each part of a row goes, in view coordinates."""

    header_top: int | None = None  # the name and time line, if the row has one
    quote: QRect | None = None  # a reply's quote of its original
    text: QRect = field(default_factory=QRect)
    chips: list[tuple[QRect, str | None]] = field(default_factory=list)  # None: the "+" chip
    files: list[FileBox] = field(default_factory=list)  # a message's files, under its text
    content_top: int = 0  # below the bands: where the row's own background starts
    bottom: int = 0  # the row's last pixel + 1


class SelectableText(QTextBrowser):
    """A message's text as a read-only field: select part of it, copy it, click its links.

    Transparent and frameless, it sits exactly where the delegate paints the
    text. Links open in the browser (never loaded here); the wheel scrolls
    the message list, not this one-message field.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("selectableText")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setOpenLinks(False)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard
                                     | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        # No frame, padding or border from the app's sheet (its input rules): the text
        # must sit exactly where the delegate painted it.
        self.setStyleSheet("QTextBrowser#selectableText { background: transparent; "
                           "border: none; padding: 0; margin: 0; }")
        self.viewport().setAutoFillBackground(False)
        self.anchorClicked.connect(QDesktopServices.openUrl)

    def wheelEvent(self, event: QWheelEvent) -> None:
        event.ignore()  # up to the message list


class MessageDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._editing: QPersistentModelIndex | None = None
        # Set by the view: the row under the pointer, and a message just jumped to.
        self.hovered: QPersistentModelIndex | None = None
        self.highlighted_seq: int | None = None
        self.files: FileTransfers | None = None  # thumbnails and downloads, once set

    # The view's font, read when used: a style sheet's font reaches the view (and the
    # selection editor laid over a row) only once they are polished, and the painted
    # text must match the editor's to the pixel.

    @property
    def _body_font(self) -> QFont:
        view = self.parent()
        return QFont(view.font()) if isinstance(view, QWidget) else QFont()

    @property
    def _name_font(self) -> QFont:
        font = self._body_font
        font.setBold(True)
        return font

    @property
    def _small_font(self) -> QFont:
        font = self._body_font
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        return font

    # -- text ---------------------------------------------------------------------------

    def _body(self, index: ModelIndex) -> tuple[str, QFont]:
        """The row's text as rich text (escaped, links as anchors), and its font."""
        now = theme.current()
        msg_type = _msg_type(index)
        text = index.data(MessageRole.Text) or ""
        username = index.data(MessageRole.Username) or ""
        summary = index.data(MessageRole.Summary)
        if summary:
            return f'<span style="color:{now.quiet}">{to_html(summary)}</span>', self._small_font
        if msg_type in (MsgType.ENTER, MsgType.LEAVE):
            verb = "joined" if msg_type is MsgType.ENTER else "left"
            return (f'<span style="color:{now.quiet}">{to_html(username)} {verb} the room</span>',
                    self._small_font)
        if msg_type is MsgType.MUTED:
            return (f'<span style="color:{now.quiet}"><i>{to_html(username)}: '
                    f"{to_html(text)}</i></span>", self._small_font)
        if msg_type in NOTICE_TYPES:
            label = "Warning" if msg_type is MsgType.WARNING else "Alert"
            accent = _notice_colours(msg_type)[1]
            return (f'<span style="color:{accent}"><b>{label} from {to_html(username)}:</b> '
                    f"{to_html(text)}</span>", self._body_font)
        if index.data(MessageRole.Deleted):
            return (f'<span style="color:{now.quiet}"><i>{DELETED_WORDS}</i></span>',
                    self._body_font)
        if index.data(MessageRole.Edited):
            size = self._small_font.pointSizeF()
            return (f'{to_html(text)}&nbsp;<span style="color:{now.quiet}; '
                    f'font-size:{size:.1f}pt">{EDITED_WORDS}</span>', self._body_font)
        return to_html(text), self._body_font

    def prepare(self, document: QTextDocument, index: ModelIndex, width: int) -> None:
        """Lay ``document`` out as the row's text: the painted one and the editor's alike.

        Every paragraph starts at the left, with its sender's name: Qt would
        put a right-to-left paragraph against the right edge, far from the
        name, in a left-to-right window. Its words still read right to left.
        """
        html, font = self._body(index)
        document.setDocumentMargin(0)
        document.setDefaultFont(font)
        option = QTextOption(document.defaultTextOption())
        option.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignAbsolute)
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        document.setDefaultTextOption(option)
        document.setDefaultStyleSheet(f"a {{ color: {theme.current().link}; }}")
        document.setHtml(html)
        document.setTextWidth(max(10, width))

    def document(self, index: ModelIndex, width: int) -> QTextDocument:
        """The row's text as laid out and painted at ``width``: what sizeHint and link_at use."""
        document = QTextDocument()
        self.prepare(document, index, width)
        return document

    # -- layout -------------------------------------------------------------------------

    def _has_header(self, index: ModelIndex) -> bool:
        return (_msg_type(index) is MsgType.MESSAGE
                and not index.data(MessageRole.Continued))

    def _padding(self, index: ModelIndex) -> tuple[int, int]:
        """(above, below) the row's content: messages breathe, a group's rows sit close."""
        if _msg_type(index) is not MsgType.MESSAGE:
            return PADDING // 2, PADDING // 2
        above = GAP if index.data(MessageRole.Continued) else PADDING
        return above, PADDING // 2

    def _band_height(self) -> int:
        return QFontMetrics(self._small_font).height() + 2 * BAND

    def _bands(self, index: ModelIndex) -> int:
        """Height of the bands above the row: messages not loaded, a date, the divider."""
        count = (bool(index.data(MessageRole.GapAbove)) + bool(index.data(MessageRole.DateLabel))
                 + bool(index.data(MessageRole.Divider)))
        return count * self._band_height()

    def _header_height(self) -> int:
        return QFontMetrics(self._name_font).height() + GAP

    def _quote_height(self) -> int:
        return QFontMetrics(self._small_font).height() + 2 * GAP

    def _chip_height(self) -> int:
        return QFontMetrics(self._body_font).height() + 4

    def chip_words(self, reaction: Reaction | None) -> str:
        return ADD_REACTION if reaction is None else f"{reaction.emoji} {reaction.count}"

    def layout(self, rect: QRect, index: ModelIndex) -> RowLayout:
        """Where the row's parts go when the row is drawn in ``rect``."""
        out = RowLayout()
        top = rect.top() + self._bands(index)
        out.content_top = top
        above, below = self._padding(index)
        top += above
        left = rect.left() + PADDING
        width = max(10, rect.width() - 2 * PADDING)
        if self._has_header(index):
            out.header_top = top
            top += self._header_height()
        deleted = bool(index.data(MessageRole.Deleted))
        if isinstance(index.data(MessageRole.Quote), Quote) and not deleted:
            out.quote = QRect(left, top, width, self._quote_height() - GAP)
            top += self._quote_height()
        files = index.data(MessageRole.Files) or ()
        text = index.data(MessageRole.Text) or ""
        height = 0 if files and not text and not index.data(MessageRole.Edited) \
            else int(self.document(index, width).size().height())
        out.text = QRect(left, top, width, height)
        top += height
        if files:
            out.files, top = attachment_paint.lay_out(
                tuple(files), left, top + (2 * GAP if height else 0), width, self._body_font)
        reactions: tuple[Reaction, ...] = index.data(MessageRole.Reactions) or ()
        if reactions and not deleted:
            metrics = QFontMetrics(self._body_font)
            chip_height = self._chip_height()
            x, y = left, top + 2 * GAP
            for reaction in (*reactions, None):
                chip_width = metrics.horizontalAdvance(self.chip_words(reaction)) \
                    + 2 * CHIP_PADDING
                if x > left and x + chip_width > left + width:
                    x, y = left, y + chip_height + CHIP_SPACING  # wrap to a new line
                out.chips.append((QRect(x, y, chip_width, chip_height),
                                  None if reaction is None else reaction.emoji))
                x += chip_width + CHIP_SPACING
            top = y + chip_height
        out.bottom = top + below
        return out

    def text_rect(self, option: QStyleOptionViewItem, index: ModelIndex) -> QRect:
        """Where the row's text is drawn (and its editor goes), in view coordinates."""
        return self.layout(option.rect, index).text

    def quote_rect(self, option: QStyleOptionViewItem, index: ModelIndex) -> QRect | None:
        """Where a reply's quote of its original is drawn (a click there jumps to it)."""
        return self.layout(option.rect, index).quote

    def chip_rects(self, option: QStyleOptionViewItem,
                   index: ModelIndex) -> list[tuple[QRect, str | None]]:
        """The reaction chips: each emoji's rect, then the "+" chip's (emoji None)."""
        return self.layout(option.rect, index).chips

    def chip_at(self, option: QStyleOptionViewItem, index: ModelIndex,
                point: QPointF) -> tuple[bool, str | None]:
        """(on a chip, its emoji or None for "+") under a point."""
        for rect, emoji in self.chip_rects(option, index):
            if rect.contains(point.toPoint()):
                return True, emoji
        return False, None

    def file_at(self, option: QStyleOptionViewItem, index: ModelIndex,
                point: QPointF) -> tuple[FileBox, Part] | None:
        """The file (and which part of it: image, card, Save) under a point, if any."""
        at = point.toPoint()
        return attachment_paint.part_at(self.layout(option.rect, index).files, at.x(), at.y())

    def content_top(self, option: QStyleOptionViewItem, index: ModelIndex) -> int:
        """The top of the row's message, below its bands (where the hover bar goes)."""
        return self.layout(option.rect, index).content_top

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        width = option.rect.width() if option.rect.width() > 0 else 400
        if index.data(MessageRole.Hidden):
            return QSize(width, 0)
        return QSize(width, self.layout(QRect(0, 0, width, 0), index).bottom)

    # -- painting -----------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        if index.data(MessageRole.Hidden):
            return
        now = theme.current()
        painter.save()
        rect = QRect(option.rect)
        top = self._paint_bands(painter, rect, index)
        parts = self.layout(rect, index)
        content = QRect(rect.left(), top, rect.width(), rect.bottom() - top + 1)
        background = self._background(index)
        if background is not None:
            painter.fillRect(content, QColor(background))
        if option.state & QStyle.StateFlag.State_HasFocus:
            # The current row of a focused list: what the Menu key acts on.
            painter.fillRect(QRect(rect.left(), top, QUOTE_BAR, content.height()),
                             QColor(now.accent))
        if parts.header_top is not None:
            self._paint_header(painter, rect.left() + PADDING, parts.header_top, index)
        if parts.quote is not None:
            self._paint_quote(painter, parts.quote, index.data(MessageRole.Quote))
        for chip, emoji in parts.chips:
            self._paint_chip(painter, chip, emoji, index)
        for box in parts.files:
            self._paint_file(painter, box)
        if self._editing is None or self._editing != index:
            document = self.document(index, parts.text.width())
            painter.translate(parts.text.topLeft())
            context = QAbstractTextDocumentLayout.PaintContext()
            colour = now.quiet if index.data(MessageRole.IsPending) else now.text
            context.palette.setColor(QPalette.ColorRole.Text, QColor(colour))
            document.documentLayout().draw(painter, context)
        painter.restore()

    def _paint_bands(self, painter: QPainter, rect: QRect, index: ModelIndex) -> int:
        """The bands above the row; where the row's message starts below them."""
        now = theme.current()
        top = rect.top()
        if index.data(MessageRole.GapAbove):
            self._paint_band(painter, rect, top, GAP_WORDS, ink=now.quiet, line=now.border,
                             centred=True)
            top += self._band_height()
        label = index.data(MessageRole.DateLabel)
        if label:
            self._paint_band(painter, rect, top, str(label), ink=now.quiet, line=now.border,
                             centred=True)
            top += self._band_height()
        if index.data(MessageRole.Divider):
            self._paint_band(painter, rect, top, DIVIDER_WORDS, ink=now.divider,
                             line=now.divider, centred=False)
            top += self._band_height()
        return top

    def _background(self, index: ModelIndex) -> str | None:
        """Behind the row: just jumped to, naming the reader, a notice, one's own, hovered."""
        now = theme.current()
        msg_type = _msg_type(index)
        seq = index.data(MessageRole.Seq)
        if seq is not None and seq == self.highlighted_seq:
            return now.highlight
        if index.data(MessageRole.MentionsMe):
            return now.mention_background
        if msg_type in NOTICE_TYPES:
            return _notice_colours(msg_type)[0]
        if index.data(MessageRole.IsOwn) and msg_type is MsgType.MESSAGE:
            return now.own_background
        if self.hovered is not None and self.hovered == index:
            return now.hover
        return None

    def _paint_header(self, painter: QPainter, left: int, top: int, index: ModelIndex) -> None:
        """The sender's name, then the time (or "sending…")."""
        now = theme.current()
        name = index.data(MessageRole.Username) or ""
        own = bool(index.data(MessageRole.IsOwn))
        painter.setFont(self._name_font)
        painter.setPen(QColor(now.own_name if own else now.sender))
        metrics = painter.fontMetrics()
        painter.drawText(left, top + metrics.ascent(), name)
        advance = metrics.horizontalAdvance(name) + 8
        painter.setFont(self._small_font)
        painter.setPen(QColor(now.quiet))
        stamp = "sending…" if index.data(MessageRole.IsPending) else _time(index)
        painter.drawText(left + advance, top + metrics.ascent(), stamp)

    def _paint_quote(self, painter: QPainter, rect: QRect, quote: Quote) -> None:
        """A bar, the original's sender in bold and its first line, elided to the row."""
        now = theme.current()
        painter.fillRect(QRect(rect.left(), rect.top(), QUOTE_BAR, rect.height()),
                         QColor(now.control_border))
        who, what = quote_line(quote)
        x = rect.left() + QUOTE_BAR + 6
        right = rect.right()
        font = self._small_font
        font.setBold(True)
        painter.setFont(font)
        metrics = QFontMetrics(font)
        baseline = rect.top() + GAP + metrics.ascent()
        if who:
            painter.setPen(QColor(now.sender))
            shown = metrics.elidedText(who, Qt.TextElideMode.ElideRight, max(0, right - x))
            painter.drawText(x, baseline, shown)
            x += metrics.horizontalAdvance(shown) + 6
        font = self._small_font
        font.setItalic(quote.deleted or not quote.loaded)
        painter.setFont(font)
        painter.setPen(QColor(now.quiet))
        painter.drawText(x, baseline, QFontMetrics(font).elidedText(
            what, Qt.TextElideMode.ElideRight, max(0, right - x)))

    def _paint_file(self, painter: QPainter, box: FileBox) -> None:
        files, file = self.files, box.file
        if box.is_image:
            image = files.thumbnail(file) if files is not None else None
            failed = files is None or files.thumbnail_failed(file.id)
            attachment_paint.paint_image(painter, box, image, failed, self._small_font)
            return
        download = files.progress(file.id) if files is not None and file.id else None
        if download is None:
            status = attachment_paint.card_status(file)
        elif download.path is not None:
            status = attachment_paint.card_status(file, saved_as=download.path.name)
        elif download.error:
            status = attachment_paint.card_status(file, error=download.error)
        else:
            status = attachment_paint.card_status(file, done=download.done)
        attachment_paint.paint_card(painter, box, status, self._body_font)

    def _paint_chip(self, painter: QPainter, rect: QRect, emoji: str | None,
                    index: ModelIndex) -> None:
        now = theme.current()
        reactions: tuple[Reaction, ...] = index.data(MessageRole.Reactions) or ()
        reaction = next((r for r in reactions if r.emoji == emoji), None)
        mine = reaction is not None and reaction.mine
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QColor(now.own_name if mine else now.control_border))
        painter.setBrush(QColor(now.chip_own_background if mine else now.chip_background))
        radius = rect.height() / 2
        painter.drawRoundedRect(rect.adjusted(0, 0, -1, -1), radius, radius)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setFont(self._body_font)
        painter.setPen(QColor(now.own_name if mine else now.text))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), self.chip_words(reaction))

    def _band_font(self, centred: bool) -> QFont:
        """A date separator's words in the small font; the divider's in it, bold."""
        font = self._small_font
        font.setBold(not centred)
        return font

    def band_words_rect(self, rect: QRect, top: int, words: str, *, centred: bool) -> QRect:
        """Where a band's words go: measured in the font they are drawn in (a bold label
        measured in the regular font ran past the row's right edge)."""
        metrics = QFontMetrics(self._band_font(centred))
        width = metrics.horizontalAdvance(words)
        left, right = rect.left() + PADDING, rect.right() - PADDING
        start = (left + right - width) // 2 if centred else right - width
        return QRect(start, top + BAND, width, metrics.height())

    def divider_words_rect(self, option: QStyleOptionViewItem, index: ModelIndex) -> QRect | None:
        """Where "New messages" is drawn in the row, if the divider is above it."""
        if not index.data(MessageRole.Divider) or index.data(MessageRole.Hidden):
            return None
        top = option.rect.top()
        if index.data(MessageRole.GapAbove):
            top += self._band_height()
        if index.data(MessageRole.DateLabel):
            top += self._band_height()
        return self.band_words_rect(option.rect, top, DIVIDER_WORDS, centred=False)

    def _paint_band(self, painter: QPainter, rect: QRect, top: int, words: str, *,
                    ink: str, line: str, centred: bool) -> None:
        """A date separator (words centred on a rule) or the divider (rule, words right)."""
        font = self._band_font(centred)
        words_rect = self.band_words_rect(rect, top, words, centred=centred)
        start, width = words_rect.left(), words_rect.width()
        middle = top + self._band_height() // 2
        left, right = rect.left() + PADDING, rect.right() - PADDING
        painter.setPen(QColor(line))
        if centred:
            painter.drawLine(left, middle, start - 8, middle)
        painter.drawLine(start + width + 8 if centred else left, middle,
                         right if centred else start - 8, middle)
        painter.setPen(QColor(ink))
        painter.setFont(font)
        painter.drawText(start, top + BAND + QFontMetrics(font).ascent(), words)

    # -- selecting text ---------------------------------------------------------------------

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: ModelIndex) -> QWidget:
        editor = SelectableText(parent)
        self._editing = QPersistentModelIndex(index)
        return editor

    def setEditorData(self, editor: QWidget, index: ModelIndex) -> None:
        if isinstance(editor, SelectableText):
            colour = QColor(theme.current().text)
            palette = editor.palette()
            palette.setColor(QPalette.ColorRole.Text, colour)
            editor.setPalette(palette)
            self.prepare(editor.document(), index, max(10, editor.width()))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel,
                     index: ModelIndex) -> None:
        """Read-only: nothing goes back to the model."""

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem,
                             index: ModelIndex) -> None:
        rect = self.text_rect(option, index)
        editor.setGeometry(rect)
        if isinstance(editor, SelectableText):
            editor.document().setTextWidth(rect.width())

    def destroyEditor(self, editor: QWidget, index: ModelIndex) -> None:
        if self._editing is not None and self._editing == index:
            self._editing = None
        super().destroyEditor(editor, index)

    def selectable(self, index: ModelIndex) -> bool:
        """Rows whose text can be selected: any row shown with words of its own."""
        return index.isValid() and not index.data(MessageRole.Hidden)

    # -- links ------------------------------------------------------------------------------

    def link_at(self, option: QStyleOptionViewItem, index: ModelIndex, point: QPointF) -> str:
        """The link under a point of the row, or ""."""
        rect = self.text_rect(option, index)
        document = self.document(index, rect.width())
        local = QPointF(point.x() - rect.left(), point.y() - rect.top())
        return document.documentLayout().anchorAt(local)

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView,
                   option: QStyleOptionViewItem, index: ModelIndex) -> bool:
        """Tooltips: who gave a reaction, what a quote and the "+" chip do."""
        if event.type() != QEvent.Type.ToolTip:
            return super().helpEvent(event, view, option, index)
        point = QPointF(event.pos())
        on_chip, emoji = self.chip_at(option, index, point)
        words = ""
        hit = self.file_at(option, index, point)
        if hit is not None:
            words = attachment_paint.tooltip(*hit)
        elif on_chip and emoji is None:
            words = "Add a reaction"
        elif on_chip:
            reactions: tuple[Reaction, ...] = index.data(MessageRole.Reactions) or ()
            reaction = next((r for r in reactions if r.emoji == emoji), None)
            model = index.model()
            own = model.own_username() if isinstance(model, MessageListModel) else ""
            if reaction is not None:
                words = reaction_tooltip(reaction, own)
        else:
            quote = self.quote_rect(option, index)
            if quote is not None and quote.contains(event.pos()):
                words = "Go to the original message"
        if words:
            QToolTip.showText(event.globalPos(), words, view)
            return True
        QToolTip.hideText()
        return False

    def editorEvent(self, event: QEvent, model: QAbstractItemModel,
                    option: QStyleOptionViewItem, index: ModelIndex) -> bool:
        if event.type() == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent):
            link = self.link_at(option, index, event.position())
            if link:
                QDesktopServices.openUrl(QUrl(link))
                return True
        return super().editorEvent(event, model, option, index)
