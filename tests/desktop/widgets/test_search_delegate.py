"""A search result's look: the matching words marked in escaped text, rows that wrap to the
list's width (no sideways scrolling at 480 px), painted in both themes."""

from __future__ import annotations

from datetime import date

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListView
from pytestqt.qtbot import QtBot

from multichat.desktop import theme
from multichat.desktop.client.search import SearchPage
from multichat.desktop.models.search_results import SearchResultsModel
from multichat.desktop.widgets.search_delegate import SearchResultDelegate, body_html
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent

LONG = "Résumé " + "and a very long message that goes on " * 12


def test_the_body_marks_the_matches_and_never_reads_the_message_as_markup() -> None:
    html = body_html("<b>Résumé</b> lunch", [(3, 9), (14, 17)])
    assert "&lt;b&gt;" in html and "<b>" not in html
    marks = html.split("<span ")[1:]
    assert [mark.split(">", 1)[1].split("</span>")[0] for mark in marks] == ["Résumé", "lun"]
    assert theme.current().mention_background in html


def test_rows_wrap_to_the_list_and_paint_in_both_themes(qtbot: QtBot) -> None:
    model = SearchResultsModel(lambda *_: "1", lambda _room: "Lobby",
                               today=lambda: date(2026, 12, 6))
    model.start("resume")
    model.add_page(SearchPage("1", "resume", "", None, (
        RoomEvent(room=1, message="short resume", username="bob", msg_type=MsgType.MESSAGE,
                  seq=2, ts="2026-12-06T10:00:00+00:00"),
        RoomEvent(room=1, message=LONG, username="alice", msg_type=MsgType.MESSAGE, seq=1,
                  ts="2026-12-05T10:00:00+00:00"),
    ), False, None))
    view = QListView()
    qtbot.addWidget(view)
    view.setItemDelegate(SearchResultDelegate(view))
    view.setModel(model)
    view.resize(464, 400)
    view.show()
    qtbot.waitExposed(view)
    short, long = view.sizeHintForRow(0), view.sizeHintForRow(1)
    assert long > short  # the long one wraps (up to three lines), the short one does not
    assert view.horizontalScrollBar().maximum() == 0
    for look in (theme.LIGHT, theme.DARK):
        theme.set_current(look)
        image = view.viewport().grab().toImage()
        marked = QColor(look.mention_background).rgb()
        assert any(image.pixel(x, y) == marked  # the match's mark, in this theme's colour
                   for y in range(0, image.height(), 2) for x in range(0, image.width(), 2))
