"""What one does with a message in the room view: its menu, replies, edits, deletions,
reactions, jumps to a reply's original, and who is typing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QModelIndex, QPoint, QRect, Qt
from PySide6.QtGui import QAction, QContextMenuEvent, QGuiApplication
from PySide6.QtWidgets import QMenu, QMessageBox, QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from multichat.desktop.models import MemberListModel, MessageListModel
from multichat.desktop.models.messages import MessageRole
from multichat.desktop.services.emoji_usage import DEFAULT_EMOJI, EmojiUsage
from multichat.desktop.widgets.message_delegate import EDITED_WORDS
from multichat.desktop.widgets.room_view import RoomView, message_link
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent

START = datetime.now(UTC) - timedelta(hours=1)
# Menus and the emoji picker are popups; offscreen, Qt says it can't raise them or grab keys.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


def message(seq: int, text: str, who: str = "bob", **more: object) -> RoomEvent:
    ts = (START + timedelta(minutes=seq * 10)).isoformat()
    return RoomEvent(room=1, seq=seq, username=who, msg_type=MsgType.MESSAGE, message=text,
                     ts=ts, **more)  # type: ignore[arg-type]


def change(seq: int, target: int, msg_type: MsgType, who: str = "bob",
           text: str | None = None, **more: object) -> RoomEvent:
    return RoomEvent(room=1, seq=seq, username=who, msg_type=msg_type, target=target,
                     message=text, ts=START.isoformat(), **more)  # type: ignore[arg-type]


@pytest.fixture
def usage(tmp_path: Path) -> EmojiUsage:
    return EmojiUsage(tmp_path / "emoji.json")


def room(qtbot: QtBot, usage: EmojiUsage, *events: RoomEvent,
         members: list[str] | None = None) -> tuple[RoomView, MessageListModel]:
    model = MessageListModel(lambda _before: None)
    model.set_own_username("alice")
    model.prepend_history(list(events))
    view = RoomView("7", "Lobby")
    view.emoji_usage = usage
    qtbot.addWidget(view)
    member_model = MemberListModel()
    member_model.set_me("alice")
    member_model.set_members(members or ["alice", "bob"])
    view.set_models(model, member_model)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    return view, model


def option_of(view: RoomView, index: QModelIndex) -> QStyleOptionViewItem:
    option = QStyleOptionViewItem()
    option.rect = view.messages.visualRect(index)
    option.font = view.messages.font()
    option.fontMetrics = view.messages.fontMetrics()
    return option


def action_names(menu: QMenu | None) -> list[str]:
    assert menu is not None
    return [a.objectName() for a in menu.actions() if not a.isSeparator()]


def actions_of(menu: QMenu | None) -> list[QAction]:
    assert menu is not None
    return menu.actions()


def trigger(view: RoomView, seq: int, name: str) -> None:
    menu = view.message_menu(seq)
    assert menu is not None
    action = next(a for a in menu.actions() if a.objectName() == name)
    action.trigger()


def menu_shown(view: RoomView) -> QMenu:
    assert view.menu is not None
    return view.menu


def in_view(view: RoomView, index: QModelIndex) -> bool:
    rect = view.messages.visualRect(index)
    return rect.top() >= 0 and rect.bottom() <= view.messages.viewport().height()


def test_the_menu_offers_what_the_reader_may_do(qtbot: QtBot, usage: EmojiUsage) -> None:
    view, model = room(qtbot, usage, message(1, "bob's"), message(2, "mine", "alice"),
                       message(3, "", deleted=True))
    everyone = ["replyAction", "reactAction", "copyTextAction", "copyLinkAction"]
    assert action_names(view.message_menu(1)) == everyone
    assert action_names(view.message_menu(2)) == ["replyAction", "editAction", "reactAction",
                                                  "copyTextAction", "copyLinkAction",
                                                  "deleteAction"]
    assert action_names(view.message_menu(3)) == ["copyLinkAction"]
    view.set_permissions(delete_any=True)
    assert action_names(view.message_menu(1)) == [*everyone, "deleteAction"]
    assert action_names(view.message_menu(3)) == ["copyLinkAction"]
    model.set_pending([{"message": "on its way", "client_id": "c1"}])
    assert model.index(model.rowCount() - 1).data(MessageRole.IsPending)
    assert view.message_menu(99) is None  # not a stored message
    assert action_names(view.pending_menu("c1")) == ["copyTextAction", "cancelSendingAction"]
    assert view.pending_menu("c2") is None  # not in the outbox
    with qtbot.waitSignal(view.cancelSendingRequested) as cancelled:
        next(a for a in actions_of(view.pending_menu("c1"))
             if a.objectName() == "cancelSendingAction").trigger()
    assert cancelled.args == ["c1"]

    trigger(view, 1, "copyTextAction")
    assert QGuiApplication.clipboard().text() == "bob's"
    trigger(view, 1, "copyLinkAction")
    assert QGuiApplication.clipboard().text() == message_link("7", 1) == "multichat://7/1"


def test_right_click_the_hover_bar_and_the_menu_key_open_the_menu(
    qtbot: QtBot, usage: EmojiUsage,
) -> None:
    view, model = room(qtbot, usage, message(1, "first"), message(2, "second"))
    viewport = view.messages.viewport()
    index = model.index_of(2)
    qtbot.waitUntil(lambda: in_view(view, index))
    centre = view.messages.visualRect(index).center()

    qtbot.mouseMove(viewport, centre)
    bar = view.messages.hover_bar
    qtbot.waitUntil(bar.isVisible)
    assert bar.seq == 2
    assert [b.accessibleName() for b in (bar.react_button, bar.reply_button,
                                         bar.more_button)] == ["React", "Reply", "More actions"]
    qtbot.mouseClick(bar.more_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.menu is not None and view.menu.isVisible())
    assert "replyAction" in action_names(view.menu)
    assert menu_shown(view).activeAction() is None  # by the mouse: none chosen for it
    menu_shown(view).close()

    # A right click: the context menu event Qt sends after the press.
    QGuiApplication.sendEvent(viewport, QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, centre, viewport.mapToGlobal(centre)))
    qtbot.waitUntil(lambda: view.menu is not None and view.menu.isVisible())
    menu_shown(view).close()
    qtbot.waitUntil(lambda: not menu_shown(view).isVisible())

    view.messages.setFocus()
    view.messages.setCurrentIndex(model.index_of(1))
    qtbot.keyClick(view.messages, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: view.menu is not None and view.menu.isVisible())
    assert action_names(view.menu)[0] == "replyAction"
    # Opened from the keyboard, the first action is the active one: Enter picks it
    # (it did nothing until an arrow key had chosen one).
    assert menu_shown(view).activeAction() is actions_of(view.menu)[0]
    qtbot.keyClick(view.menu, Qt.Key.Key_Return)  # Reply, the first action
    qtbot.waitUntil(view.compose_bar.isVisible)
    assert view.replying_to() == 1


def test_a_reply_quotes_the_original_over_the_input_and_sends_its_seq(
    qtbot: QtBot, usage: EmojiUsage,
) -> None:
    view, _model = room(qtbot, usage, message(1, "Lunch at noon?\nOr later"), message(2, "x"))
    trigger(view, 1, "replyAction")
    assert view.compose_bar.isVisible()
    assert view.compose_bar.title.text() == "Replying to bob"
    assert view.compose_bar.detail.full_text() == "Lunch at noon?"
    assert view.compose_bar.close_button.accessibleName() == "Cancel reply"
    assert view.focusWidget() is view.input
    qtbot.keyClicks(view.input, "Noon works")
    with qtbot.waitSignal(view.messageSubmitted) as sent:
        qtbot.keyClick(view.input, Qt.Key.Key_Return)
    assert sent.args == ["Noon works", 1]
    assert not view.compose_bar.isVisible()

    trigger(view, 2, "replyAction")
    qtbot.keyClick(view.input, Qt.Key.Key_Escape)
    assert not view.compose_bar.isVisible()
    qtbot.keyClicks(view.input, "not a reply")
    with qtbot.waitSignal(view.messageSubmitted) as sent:
        qtbot.keyClick(view.input, Qt.Key.Key_Return)
    assert sent.args == ["not a reply", None]

    trigger(view, 2, "replyAction")
    qtbot.mouseClick(view.compose_bar.close_button, Qt.MouseButton.LeftButton)
    assert view.replying_to() is None and not view.compose_bar.isVisible()


def test_up_in_an_empty_input_edits_the_last_own_message(qtbot: QtBot,
                                                         usage: EmojiUsage) -> None:
    view, model = room(qtbot, usage, message(1, "old one", "alice"),
                       message(2, "typo'd mesage", "alice"), message(3, "bob's"))
    view.input.setFocus()
    qtbot.keyClick(view.input, Qt.Key.Key_Up)
    assert view.editing() == 2
    assert view.input.toPlainText() == "typo'd mesage"
    assert view.compose_bar.title.text() == "Editing your message"
    with qtbot.assertNotEmitted(view.editSubmitted):
        qtbot.keyClick(view.input, Qt.Key.Key_Return)  # unchanged: nothing to send
    assert view.editing() is None and view.input.toPlainText() == ""

    qtbot.keyClick(view.input, Qt.Key.Key_Up)
    view.input.selectAll()
    qtbot.keyClicks(view.input, "typo'd message")
    with qtbot.waitSignal(view.editSubmitted) as saved:
        qtbot.keyClick(view.input, Qt.Key.Key_Return)
    assert saved.args == [2, "typo'd message"]
    model.append_live(change(4, 2, MsgType.EDIT, "alice", "typo'd message"))
    index = model.index_of(2)
    assert index.data(MessageRole.Edited)
    document = view.messages.delegate.document(index, 500)
    assert document.toPlainText().endswith(EDITED_WORDS)

    # A draft survives an edit that is given up with Esc; Up in a non-empty box moves the
    # cursor as ever.
    qtbot.keyClicks(view.input, "half a thought")
    qtbot.keyClick(view.input, Qt.Key.Key_Up)
    assert view.editing() is None
    view.input.clear()
    qtbot.keyClick(view.input, Qt.Key.Key_Up)
    view.input.clear()  # the draft is kept aside while editing
    trigger(view, 1, "editAction")
    assert view.editing() == 1 and view.input.toPlainText() == "old one"
    qtbot.keyClick(view.input, Qt.Key.Key_Escape)
    assert view.editing() is None and not view.compose_bar.isVisible()


def test_esc_gives_back_the_draft_an_edit_replaced(qtbot: QtBot, usage: EmojiUsage) -> None:
    view, _model = room(qtbot, usage, message(1, "mine", "alice"))
    qtbot.keyClicks(view.input, "a draft")
    trigger(view, 1, "editAction")
    assert view.input.toPlainText() == "mine"
    qtbot.keyClick(view.input, Qt.Key.Key_Escape)
    assert view.input.toPlainText() == "a draft"


def test_delete_asks_first_and_cancel_is_the_default(qtbot: QtBot, usage: EmojiUsage) -> None:
    view, model = room(qtbot, usage, message(1, "mine", "alice"))

    def box() -> QMessageBox | None:
        found = view.findChild(QMessageBox, "deleteConfirmation")
        return found if found is not None and found.isVisible() else None

    trigger(view, 1, "deleteAction")
    qtbot.waitUntil(lambda: box() is not None)
    confirm = box()
    assert confirm is not None
    assert confirm.defaultButton().text() == "Cancel"
    with qtbot.assertNotEmitted(view.deleteRequested):
        qtbot.keyClick(confirm, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: box() is None)

    trigger(view, 1, "deleteAction")
    qtbot.waitUntil(lambda: box() is not None)
    confirm = box()
    assert confirm is not None
    delete = next(b for b in confirm.buttons() if b.text() == "Delete")
    with qtbot.waitSignal(view.deleteRequested) as asked:
        qtbot.mouseClick(delete, Qt.MouseButton.LeftButton)
    assert asked.args == [1]

    model.append_live(change(2, 1, MsgType.DELETE, "alice"))
    index = model.index_of(1)
    assert view.messages.delegate.document(index, 500).toPlainText() == "message deleted"
    assert action_names(view.message_menu(1)) == ["copyLinkAction"]


def chip_rects(view: RoomView, index: QModelIndex) -> list[tuple[QRect, str | None]]:
    return view.messages.delegate.chip_rects(option_of(view, index), index)


def test_reaction_chips_toggle_the_readers_own(qtbot: QtBot, usage: EmojiUsage) -> None:
    view, model = room(qtbot, usage, message(
        1, "ship it", reactions=(("👍", ("alice", "bob")), ("🎉", ("carol",)))))
    index = model.index_of(1)
    qtbot.waitUntil(lambda: in_view(view, index))
    chips = chip_rects(view, index)
    assert [emoji for _rect, emoji in chips] == ["👍", "🎉", None]
    viewport = view.messages.viewport()
    with qtbot.waitSignal(view.reactionToggled) as toggled:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=chips[0][0].center())
    assert toggled.args == [1, "👍", False]  # alice's own: taken back
    with qtbot.waitSignal(view.reactionToggled) as toggled:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=chips[1][0].center())
    assert toggled.args == [1, "🎉", True]
    assert usage.most_used() == ["🎉"]

    # The "+" chip: the picker, the reader's favourites first; arrows and Enter choose.
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=chips[2][0].center())
    picker = view.emoji_picker
    qtbot.waitUntil(picker.isVisible)
    assert picker.offered()[0] == "🎉"
    assert len(picker.offered()) == len(DEFAULT_EMOJI)
    assert picker.grid.hasFocus()
    qtbot.keyClick(picker.grid, Qt.Key.Key_Right)
    with qtbot.waitSignal(view.reactionToggled) as toggled:
        qtbot.keyClick(picker.grid, Qt.Key.Key_Return)
    assert toggled.args == [1, "👍", False]  # 👍 second; given already: taken back
    assert not picker.isVisible()

    trigger(view, 1, "reactAction")
    qtbot.waitUntil(picker.isVisible)
    with qtbot.assertNotEmitted(view.reactionToggled):
        qtbot.keyClick(picker.grid, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: not picker.isVisible())

    model.append_live(change(2, 1, MsgType.REACTION, "alice", emoji="🎉", on=True))
    reactions = index.data(MessageRole.Reactions)
    assert [(r.emoji, r.count, r.mine) for r in reactions] == [("👍", 2, True),
                                                               ("🎉", 2, True)]


def test_a_quote_jumps_to_its_original_loading_it_when_needed(qtbot: QtBot,
                                                              usage: EmojiUsage) -> None:
    events = [message(seq, f"message {seq} " + "words " * 12) for seq in range(40, 80)]
    events.append(message(80, "about the old one", "carol", reply_to=41))
    events.append(message(81, "about a very old one", "carol", reply_to=5))
    view, model = room(qtbot, usage, *events)
    reply = model.index_of(80)
    qtbot.waitUntil(lambda: in_view(view, reply))
    quote = view.messages.delegate.quote_rect(option_of(view, reply), reply)
    assert quote is not None
    viewport = view.messages.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=quote.center())
    original = model.index_of(41)
    qtbot.waitUntil(lambda: in_view(view, original))
    assert view.messages.delegate.highlighted_seq == 41
    qtbot.waitUntil(lambda: view.messages.delegate.highlighted_seq is None, timeout=5000)

    view.messages.scroll_to_latest()
    far = model.index_of(81)
    qtbot.waitUntil(lambda: in_view(view, far))
    quote = view.messages.delegate.quote_rect(option_of(view, far), far)
    assert quote is not None
    with qtbot.waitSignal(view.messageWanted) as wanted:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=quote.center())
    assert wanted.args == [5]
    model.insert_around([message(seq, f"old {seq}") for seq in range(1, 10)])
    qtbot.waitUntil(lambda: in_view(view, model.index_of(5)))
    assert view.messages.delegate.highlighted_seq == 5
    assert model.index_of(40).data(MessageRole.GapAbove)


def test_who_is_typing_shows_on_a_line_kept_under_the_messages(qtbot: QtBot,
                                                              usage: EmojiUsage) -> None:
    view, _model = room(qtbot, usage, message(1, "hi"))
    line = view.typing_line
    height, messages_height = line.height(), view.messages.height()
    assert line.isVisible() and line.full_text() == ""
    view.set_typing(["bob"])
    assert line.full_text() == "bob is typing…"
    view.set_typing(["bob", "ann"])
    assert line.full_text() == "bob and ann are typing…"
    view.set_typing(["bob", "ann", "carol"])
    assert line.full_text() == "several people are typing…"
    view.set_typing([])
    assert line.full_text() == ""
    assert (line.height(), view.messages.height()) == (height, messages_height)


def test_typing_is_reported_only_for_words_in_a_new_message(qtbot: QtBot,
                                                             usage: EmojiUsage) -> None:
    view, _model = room(qtbot, usage, message(1, "mine", "alice"))
    reports: list[None] = []
    view.typingActivity.connect(lambda: reports.append(None))
    view.input.setFocus()
    qtbot.keyClick(view.input, Qt.Key.Key_Space)  # blank: nothing to say
    assert reports == []
    qtbot.keyClicks(view.input, "he")
    assert len(reports) == 2
    view.input.clear()
    count = len(reports)
    qtbot.keyClick(view.input, Qt.Key.Key_Up)  # editing: not typing a message
    qtbot.keyClicks(view.input, "!")
    assert len(reports) == count


def test_the_member_list_offers_a_direct_message(qtbot: QtBot, usage: EmojiUsage) -> None:
    view, _model = room(qtbot, usage, message(1, "hi"), members=["alice", "bob"])
    members = view.members
    bob = members.model().index(1, 0)
    with qtbot.waitSignal(members.customContextMenuRequested):
        members.customContextMenuRequested.emit(members.visualRect(bob).center())
    menu = view.member_menu
    assert menu is not None and menu.isVisible()
    assert [a.text() for a in menu.actions()] == ["Message bob"]
    with qtbot.waitSignal(view.directMessageRequested) as asked:
        menu.actions()[0].trigger()
    assert asked.args == ["bob"]
    menu.close()
    alice = members.model().index(0, 0)
    members.customContextMenuRequested.emit(members.visualRect(alice).center())
    assert view.member_menu is menu and not menu.isVisible()  # nothing for oneself


def test_hovering_off_the_messages_hides_the_bar(qtbot: QtBot, usage: EmojiUsage) -> None:
    view, model = room(qtbot, usage, message(1, "first"))
    index = model.index_of(1)
    viewport = view.messages.viewport()
    qtbot.mouseMove(viewport, view.messages.visualRect(index).center())
    qtbot.waitUntil(view.messages.hover_bar.isVisible)
    qtbot.mouseMove(view.input, QPoint(5, 5))
    QGuiApplication.sendEvent(view.messages, QEvent(QEvent.Type.Leave))
    qtbot.waitUntil(lambda: not view.messages.hover_bar.isVisible())
