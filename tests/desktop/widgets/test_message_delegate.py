"""Rows as painted: links found where they are drawn, styles by type, nothing fetched."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QPointF, QRect
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QTextDocument, QTextFragment
from PySide6.QtWidgets import QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from multichat.desktop.models import MemberListModel, MessageListModel
from multichat.desktop.theme import DARK, LIGHT, contrast_ratio, set_current
from multichat.desktop.widgets.message_delegate import MessageDelegate
from multichat.desktop.widgets.room_view import RoomView
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent


def fragments(document: QTextDocument) -> Iterator[QTextFragment]:
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            yield it.fragment()
            it += 1
        block = block.next()


def test_a_link_is_clickable_where_it_is_drawn(qtbot: QtBot) -> None:
    model = MessageListModel(lambda _: None)
    model.prepend_history([RoomEvent(room=1, seq=1, username="bob", msg_type=MsgType.MESSAGE,
                                     message="see https://example.org/x for <b>details</b> "
                                             '<img src="https://example.org/y.png">')])
    view = RoomView("1", "Lobby")
    qtbot.addWidget(view)
    view.set_models(model, MemberListModel())
    view.resize(700, 400)
    view.show()
    delegate = view.messages.itemDelegate()
    assert isinstance(delegate, MessageDelegate)
    index = model.index(0)
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 600, delegate.sizeHint(option, index).height())
    option.fontMetrics = view.messages.fontMetrics()
    hits = {
        delegate.link_at(option, index, QPointF(x, y))
        for x in range(0, 600, 3)
        for y in range(0, option.rect.height(), 3)
    }
    assert hits == {"", "https://example.org/x", "https://example.org/y.png"}  # links, not images
    document = delegate.document(index, 580)
    # Shown as typed: markup is text, not bold type or an image to fetch.
    assert document.toPlainText() == ("see https://example.org/x for <b>details</b> "
                                      '<img src="https://example.org/y.png">')
    formats = [fragment.charFormat() for fragment in fragments(document)]
    assert not any(f.isImageFormat() for f in formats)  # nothing would be loaded
    assert not any(f.fontWeight() > QFont.Weight.Normal for f in formats)


def test_text_is_painted_in_the_themes_colours(qtbot: QtBot) -> None:
    model = MessageListModel(lambda _: None)
    model.prepend_history([RoomEvent(room=1, seq=1, username="bob", msg_type=MsgType.MESSAGE,
                                     message="█████ dark or light")])  # ink to sample
    delegate = MessageDelegate()
    index = model.index(0)
    for theme in (DARK, LIGHT):
        set_current(theme)
        option = QStyleOptionViewItem()
        option.rect = QRect(0, 0, 400, delegate.sizeHint(option, index).height())
        image = QImage(400, option.rect.height(), QImage.Format.Format_ARGB32)
        image.fill(QColor(theme.surface))
        painter = QPainter(image)
        delegate.paint(painter, option, index)
        painter.end()
        text = delegate.text_rect(option, index)
        ink = image.pixelColor(text.left() + 3, text.center().y()).name()
        assert contrast_ratio(ink, theme.surface) >= 4.5, (theme.name, ink)
    set_current(LIGHT)


def test_the_new_messages_label_stays_within_its_row(qtbot: QtBot) -> None:
    model = MessageListModel(lambda _: None)
    model.show_from(1)
    model.prepend_history([RoomEvent(room=1, seq=seq, username="bob", msg_type=MsgType.MESSAGE,
                                     message=f"m{seq}") for seq in (1, 2)])
    index = model.index(model.divider_row() or 0)
    view = RoomView("1", "Lobby")
    qtbot.addWidget(view)
    delegate = view.messages.delegate
    for width in (200, 333, 600):
        option = QStyleOptionViewItem()
        option.rect = QRect(0, 0, width, delegate.sizeHint(option, index).height())
        words = delegate.divider_words_rect(option, index)
        assert words is not None and option.rect.contains(words), (width, words)
        # Measured in the bold font it is drawn in: as wide as the painted words.
        painted = QImage(width, option.rect.height(), QImage.Format.Format_ARGB32)
        painted.fill(QColor(LIGHT.surface))
        painter = QPainter(painted)
        delegate.paint(painter, option, index)
        painter.end()
        ink = [x for x in range(width)
               for y in range(words.top(), words.bottom())
               if painted.pixelColor(x, y).name() != QColor(LIGHT.surface).name()]
        assert ink and max(ink) <= words.right() + 1 and max(ink) < width - 1
