"""The room view as a reader meets it: where it opens, following, jumping, selecting, narrow."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from PySide6.QtCore import QModelIndex, QPoint, QRect, Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication, QImage, QPainter, QTextDocument, QTextLine
from PySide6.QtWidgets import QStyleOptionViewItem, QTabWidget
from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient
from multichat.desktop.models import MemberListModel, MessageListModel
from multichat.desktop.models.messages import MessageRole
from multichat.desktop.widgets.message_delegate import PADDING
from multichat.desktop.widgets.message_input import MAX_LINES
from multichat.desktop.widgets.room_view import RoomView
from multichat.desktop.workspace import Workspace
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent

START = datetime.now(UTC) - timedelta(hours=1)


def event(seq: int, text: str | None = None, who: str = "bob") -> RoomEvent:
    ts = (START + timedelta(seconds=seq)).isoformat()
    return RoomEvent(room=1, seq=seq, username=who, msg_type=MsgType.MESSAGE,
                     message=text or f"message number {seq} " + "words " * (seq % 7), ts=ts)


def room(qtbot: QtBot, width: int = 600, height: int = 400) -> tuple[RoomView, MessageListModel]:
    model = MessageListModel(lambda _before: None)
    model.set_own_username("alice")
    view = RoomView("1", "Lobby")
    qtbot.addWidget(view)
    view.set_models(model, MemberListModel())
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    return view, model


def row_of(model: MessageListModel, seq: int) -> QModelIndex:
    return next(model.index(r) for r in range(model.rowCount())
                if model.index(r).data(MessageRole.Seq) == seq)


def in_view(view: RoomView, index: QModelIndex) -> bool:
    rect = view.messages.visualRect(index)
    return rect.top() >= 0 and rect.bottom() <= view.messages.viewport().height()


def last_in_view(view: RoomView, model: MessageListModel) -> bool:
    return in_view(view, model.index(model.rowCount() - 1))


def test_a_room_opens_at_the_first_unread_under_the_divider(qtbot: QtBot) -> None:
    view, model = room(qtbot)
    model.show_from(40)  # shown, read up to 40; the first page is on its way
    model.prepend_history([event(seq) for seq in range(1, 101)])
    first_unread = row_of(model, 41)
    assert model.divider_row() == first_unread.row()
    viewport = view.messages.viewport()

    def divider_near_top() -> bool:
        rect = view.messages.visualRect(first_unread)
        return 0 <= rect.top() <= viewport.height() // 4 and rect.bottom() <= viewport.height()

    qtbot.waitUntil(divider_near_top)
    assert not view.messages.at_bottom()
    assert view.messages.jump_button.isVisible()
    assert model.seen() is None  # scrolled up: nothing past the divider counts as read yet


def test_the_view_follows_new_messages_at_the_bottom_past_overflow(qtbot: QtBot) -> None:
    view, model = room(qtbot, height=300)
    bar = view.messages.verticalScrollBar()
    for seq in range(1, 61):
        model.append_live(event(seq))
        qtbot.waitUntil(lambda: last_in_view(view, model))
    assert bar.maximum() > 0  # it did overflow, many times over
    assert view.messages.at_bottom() and not view.messages.jump_button.isVisible()
    assert model.seen() == 60


def test_scrolled_up_it_stays_and_offers_to_jump(qtbot: QtBot) -> None:
    view, model = room(qtbot, height=300)
    model.prepend_history([event(seq) for seq in range(1, 61)])
    qtbot.waitUntil(lambda: last_in_view(view, model))
    bar = view.messages.verticalScrollBar()
    view.input.setFocus()
    qtbot.keyClick(view.input, Qt.Key.Key_PageUp)  # PgUp in the box scrolls the messages
    qtbot.waitUntil(view.messages.jump_button.isVisible)
    place = bar.value()
    assert place < bar.maximum()
    model.append_live(event(61))
    qtbot.waitUntil(lambda: bar.maximum() > place)
    assert bar.value() == place and not last_in_view(view, model)
    qtbot.mouseClick(view.messages.jump_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: last_in_view(view, model))
    assert not view.messages.jump_button.isVisible() and model.seen() == 61

    qtbot.keyClick(view.input, Qt.Key.Key_PageUp)
    qtbot.waitUntil(lambda: not view.messages.at_bottom())
    qtbot.keyClick(view.input, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: last_in_view(view, model))


def test_a_message_in_a_background_tab_is_in_view_when_shown(qtbot: QtBot) -> None:
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    models, views = [], []
    for name in ("Lobby", "Other"):
        model = MessageListModel(lambda _before: None)
        view = RoomView("1", name)
        view.set_models(model, MemberListModel())
        tabs.addTab(view, name)
        models.append(model)
        views.append(view)
    tabs.resize(600, 300)
    tabs.show()
    qtbot.waitExposed(tabs)
    for seq in range(1, 41):
        models[1].append_live(event(seq))  # the tab behind
    tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: last_in_view(views[1], models[1]))
    assert views[1].messages.at_bottom()


def first_line(document: QTextDocument) -> QTextLine:
    document.size()  # laid out now, not when first painted
    layout = document.firstBlock().layout()
    assert layout.lineCount() > 0
    return layout.lineAt(0)


def x_of(line: QTextLine, position: int) -> int:
    x, _cursor = cast(tuple[float, int], line.cursorToX(position))
    return int(x)


def text_rect_of(view: RoomView, index: QModelIndex) -> QRect:
    """Where the delegate draws the row's text, with the view's own font (a style sheet's)."""
    option = QStyleOptionViewItem()
    option.rect = view.messages.visualRect(index)
    option.font = view.messages.font()
    option.fontMetrics = view.messages.fontMetrics()
    return view.messages.delegate.text_rect(option, index)


def test_part_of_a_message_can_be_selected_and_copied(qtbot: QtBot) -> None:
    view, model = room(qtbot)
    model.prepend_history([event(1, "hello wonderful world")])
    index = model.index(0)
    qtbot.waitUntil(lambda: in_view(view, index))
    rect = text_rect_of(view, index)
    document = view.messages.delegate.document(index, rect.width())  # owns the line below
    line = first_line(document)
    y = rect.top() + int(line.height() / 2)
    start = QPoint(rect.left() + x_of(line, 6) + 1, y)
    end = QPoint(rect.left() + x_of(line, 15) + 1, y)  # just past the "l": rounds to 15
    viewport = view.messages.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    editor = view.messages.text_editor()
    assert editor is not None
    qtbot.keyClick(editor, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "wonderful"


def test_right_to_left_text_sits_with_its_sender(qtbot: QtBot) -> None:
    view, model = room(qtbot, width=1000)
    model.prepend_history([event(1, "مرحبا بالعالم"), event(2, "שלום עולם", "carol")])
    for row in (0, 1):
        index = model.index(row)
        rect = view.messages.visualRect(index)
        left = text_rect_of(view, index).left()
        document = view.messages.delegate.document(index, rect.width() - 2 * PADDING)
        text_x = left + first_line(document).naturalTextRect().left()
        name_x = rect.left() + PADDING  # where the sender's name is drawn
        assert abs(text_x - name_x) < 20, (row, text_x, name_x)


def test_narrow_the_members_fold_and_a_long_title_elides(qtbot: QtBot) -> None:
    view, _model = room(qtbot, width=900)
    assert view.members.isVisible() and view.members_button.isChecked()
    view.title.setText(("A room with a very long title that goes on and on " * 2)[:60])
    assert len(view.title.text()) == 60
    assert view.minimumSizeHint().width() <= 300
    view.resize(300, 400)
    qtbot.waitUntil(lambda: not view.members.isVisible())
    assert not view.members_button.isChecked()
    qtbot.mouseClick(view.members_button, Qt.MouseButton.LeftButton)
    assert view.members.isVisible()
    view.resize(900, 400)
    qtbot.waitUntil(view.members.isVisible)


def test_emoji_are_drawn_in_colour_from_the_system_font(qtbot: QtBot) -> None:
    families = [f for f in QFontDatabase.families() if "emoji" in f.casefold()]
    if not families:
        missing = "no emoji font installed (the .deb depends on fonts-noto-color-emoji)"
        if os.environ.get("CI"):
            pytest.fail(f"{missing}; CI installs one")
        pytest.skip(missing)
    document = QTextDocument()
    document.setPlainText("😀")
    image = QImage(64, 64, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    document.drawContents(painter)
    painter.end()
    saturations = [image.pixelColor(x, y).saturation() for x in range(64) for y in range(64)]
    assert max(saturations) > 100  # not a box, nor black and white


def test_coming_back_to_the_window_scrolled_up_moves_nothing(
    qtbot: QtBot, make_client: Callable[[], ChatClient]
) -> None:
    """Alt+Tab away and back (or a dialog closing) while reading older messages."""
    client = make_client()
    workspace = Workspace(client)
    workspace.read_positions_from({"1": 30}.get)
    client.roomJoined.emit("1", "Lobby")
    model = workspace.messages["1"]
    view = RoomView("1", "Lobby")
    qtbot.addWidget(view)
    view.set_models(model, workspace.members["1"])
    view.resize(600, 300)
    view.show()
    qtbot.waitExposed(view)
    workspace.set_current("1")  # opened: the divider goes above 31, in view
    client.historyLoaded.emit("1", [event(seq) for seq in range(1, 61)])
    qtbot.waitUntil(lambda: in_view(view, row_of(model, 31)))
    view.messages.scroll_to_latest()  # read it all
    qtbot.waitUntil(lambda: workspace.read_seq("1") == 60)
    bar = view.messages.verticalScrollBar()
    view.messages.scroll_pages(-2)  # up, to read something older
    qtbot.waitUntil(lambda: not view.messages.at_bottom())
    place = bar.value()
    workspace.set_window_active(False)
    for seq in range(61, 66):  # new while away: unread, a divider's worth
        client.messageReceived.emit("1", event(seq))
    qtbot.waitUntil(lambda: bar.maximum() > place)
    workspace.set_window_active(True)
    qapp = QGuiApplication.instance()
    assert qapp is not None
    qapp.processEvents()
    assert bar.value() == place and not view.messages.at_bottom()
    workspace.set_window_active(False)
    workspace.set_window_active(True)
    qapp.processEvents()
    assert bar.value() == place
    # Switching to the room while scrolled up places the divider but leaves the reader.
    workspace.set_current(None)
    workspace.set_current("1")
    qapp.processEvents()
    assert model.divider_row() == row_of(model, 61).row() and bar.value() == place


def test_the_jump_button_gets_its_look_from_the_app_sheet_only(qtbot: QtBot) -> None:
    view, model = room(qtbot, height=300)
    model.prepend_history([event(seq) for seq in range(1, 61)])
    qtbot.waitUntil(lambda: last_in_view(view, model))
    for _ in range(5):
        view.messages.scroll_pages(-1)
    qtbot.waitUntil(view.messages.jump_button.isVisible)
    assert view.messages.jump_button.styleSheet() == ""
    assert view.messages.styleSheet() == "" and view.styleSheet() == ""


def test_the_member_list_takes_no_focus(qtbot: QtBot) -> None:
    view, _model = room(qtbot)
    assert view.members.focusPolicy() == Qt.FocusPolicy.NoFocus


def test_the_entry_buttons_sit_on_a_one_line_box_and_stay_on_its_last_line_as_it_grows(
        qtbot: QtBot) -> None:
    view, _model = room(qtbot, width=480)
    box, buttons = view.input, (view.attach_button, view.send_button)

    def laid_out() -> bool:  # the row follows a new height on the layout's next pass
        return all(b.geometry().bottom() == box.geometry().bottom() for b in buttons)

    qtbot.waitUntil(laid_out)
    one_line = box.height()
    for button in buttons:  # as tall as the one-line box: centred on it, as in Slack and Element
        assert button.height() == one_line
        assert abs(button.geometry().center().y() - box.geometry().center().y()) <= 1

    qtbot.keyClicks(box, "first")
    for line in ("second", "third"):
        qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
        qtbot.keyClicks(box, line)
    qtbot.waitUntil(lambda: box.height() > 2 * one_line and laid_out())
    assert box.verticalScrollBar().maximum() == 0  # all three lines shown
    for button in buttons:  # on the last line, not centred on the taller box
        assert button.height() == one_line
        assert button.geometry().top() > box.geometry().center().y()
    assert view.messages.geometry().bottom() < box.geometry().top()

    three_lines = box.height()
    for _ in range(MAX_LINES):
        qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
        qtbot.keyClicks(box, "more")
    qtbot.waitUntil(lambda: box.verticalScrollBar().maximum() > 0)  # it scrolls from here
    assert three_lines < box.height() < MAX_LINES * one_line
    box.submit()  # sent: one line again
    qtbot.waitUntil(lambda: box.height() == one_line and laid_out())


def test_the_placeholder_names_the_keys_only_where_it_fits_on_the_line(qtbot: QtBot) -> None:
    view, _model = room(qtbot, width=1000)
    assert "Shift+Enter" in view.input.placeholderText()
    view.resize(480, 400)
    qtbot.waitUntil(lambda: view.input.placeholderText() == "Write a message…")
