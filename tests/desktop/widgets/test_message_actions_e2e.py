"""Replies, edits, deletions, reactions, jumps and typing end to end: the main window and
its room view, the workspace and a real ChatClient against a real server, and a second
person on another client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QContextMenuEvent, QGuiApplication
from PySide6.QtWidgets import QMenu, QMessageBox, QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient, State
from multichat.desktop.models import MessageListModel, MessageRole
from multichat.desktop.services.emoji_usage import EmojiUsage
from multichat.desktop.services.hosting import ServerThread
from multichat.desktop.widgets import message_list_view
from multichat.desktop.widgets.room_view import RoomView
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent
from multichat.server.chat.passwords import Passwords
from multichat.server.net import ChatServer
from multichat.server.store.records import NewMessage
from tests.conftest import ADMIN, ALICE, BOB
from tests.desktop.helpers import WAIT_MS, joined, window_in_lobby
from tests.helpers.servers import hashing_with

# Menus and the emoji picker are popups; offscreen, Qt says it can't raise them or grab keys.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


def row_with(model: MessageListModel, text: str) -> QModelIndex:
    for row in range(model.rowCount()):
        index = model.index(row)
        if index.data(MessageRole.Text) == text and index.data(MessageRole.Seq) is not None:
            return index
    return QModelIndex()


def has_row(model: MessageListModel, text: str) -> Callable[[], bool]:
    return lambda: row_with(model, text).isValid()


def trigger(view: RoomView, seq: int, name: str) -> None:
    menu = view.message_menu(seq)
    assert menu is not None, seq
    next(a for a in menu.actions() if a.objectName() == name).trigger()


def confirm_delete(qtbot: QtBot, view: RoomView) -> None:
    def box() -> QMessageBox | None:
        found = view.findChild(QMessageBox, "deleteConfirmation")
        return found if found is not None and found.isVisible() else None

    qtbot.waitUntil(lambda: box() is not None)
    shown = box()
    assert shown is not None
    qtbot.mouseClick(next(b for b in shown.buttons() if b.text() == "Delete"),
                     Qt.MouseButton.LeftButton)


def click_first_chip(qtbot: QtBot, view: RoomView, index: QModelIndex) -> str | None:
    option = QStyleOptionViewItem()
    option.rect = view.messages.visualRect(index)
    chip, emoji = view.messages.delegate.chip_rects(option, index)[0]
    qtbot.mouseClick(view.messages.viewport(), Qt.MouseButton.LeftButton, pos=chip.center())
    return emoji


def test_reply_edit_react_and_delete_reach_the_other_person(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient],
    tmp_path: Path,
) -> None:
    alice = make_client()
    window, view = window_in_lobby(qtbot, alice, hosted_server, ALICE)
    bob = joined(qtbot, make_client(), hosted_server, BOB)
    seen_by_bob: list[RoomEvent] = []
    bob.messageReceived.connect(lambda _room, event: seen_by_bob.append(event))
    model = window.workspace.messages["1"]

    bob.send("1", "Lunch at noon?\nOr later")
    qtbot.waitUntil(has_row(model, "Lunch at noon?\nOr later"), timeout=WAIT_MS)
    question = int(row_with(model, "Lunch at noon?\nOr later").data(MessageRole.Seq))

    # Reply: the bar over the input, then the reply goes out with its reply_to.
    trigger(view, question, "replyAction")
    assert view.compose_bar.title.text() == "Replying to bob"
    qtbot.keyClicks(view.input, "Noon works")
    qtbot.keyClick(view.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(e.message == "Noon works" for e in seen_by_bob),
                    timeout=WAIT_MS)
    reply_event = next(e for e in seen_by_bob if e.message == "Noon works")
    assert reply_event.reply_to == question
    qtbot.waitUntil(has_row(model, "Noon works"), timeout=WAIT_MS)
    reply = row_with(model, "Noon works")
    assert reply.data(MessageRole.Quote).username == "bob"
    reply_seq = int(reply.data(MessageRole.Seq))

    # Edit with Up in the empty input.
    view.input.setFocus()
    qtbot.keyClick(view.input, Qt.Key.Key_Up)
    assert view.editing() == reply_seq
    view.input.selectAll()
    qtbot.keyClicks(view.input, "Noon works for me")
    qtbot.keyClick(view.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(e.msg_type is MsgType.EDIT for e in seen_by_bob),
                    timeout=WAIT_MS)
    edit = next(e for e in seen_by_bob if e.msg_type is MsgType.EDIT)
    assert (edit.target, edit.message) == (reply_seq, "Noon works for me")
    qtbot.waitUntil(lambda: model.index_of(reply_seq).data(MessageRole.Edited), timeout=WAIT_MS)
    assert model.index_of(reply_seq).data(MessageRole.Text) == "Noon works for me"

    # React through the picker; bob reacts too; a click on the chip takes alice's back.
    view.emoji_usage = EmojiUsage(tmp_path / "emoji.json")
    trigger(view, question, "reactAction")
    qtbot.waitUntil(view.emoji_picker.isVisible)
    qtbot.keyClick(view.emoji_picker.grid, Qt.Key.Key_Return)  # the first: 👍
    bob.react("1", question, "🎉")

    def reactions() -> list[tuple[str, int, bool]]:
        found = model.index_of(question).data(MessageRole.Reactions)
        return [(r.emoji, r.count, r.mine) for r in found]

    qtbot.waitUntil(lambda: reactions() == [("👍", 1, True), ("🎉", 1, False)],
                    timeout=WAIT_MS)
    assert any(e.msg_type is MsgType.REACTION and e.emoji == "👍" and e.on
               for e in seen_by_bob)
    assert click_first_chip(qtbot, view, model.index_of(question)) == "👍"
    qtbot.waitUntil(lambda: reactions() == [("🎉", 1, False)], timeout=WAIT_MS)

    # Delete, once confirmed: grey words for everyone.
    trigger(view, reply_seq, "deleteAction")
    confirm_delete(qtbot, view)
    qtbot.waitUntil(lambda: any(e.msg_type is MsgType.DELETE for e in seen_by_bob),
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: model.index_of(reply_seq).data(MessageRole.Deleted),
                    timeout=WAIT_MS)
    assert model.index_of(reply_seq).data() == "message deleted"


def test_a_superuser_deletes_anyones_message_in_a_room(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient],
) -> None:
    admin = make_client()
    window, view = window_in_lobby(qtbot, admin, hosted_server, ADMIN)
    bob = joined(qtbot, make_client(), hosted_server, BOB)
    model = window.workspace.messages["1"]
    bob.send("1", "something regrettable")
    qtbot.waitUntil(has_row(model, "something regrettable"), timeout=WAIT_MS)
    seq = int(row_with(model, "something regrettable").data(MessageRole.Seq))
    menu = view.message_menu(seq)
    assert isinstance(menu, QMenu)
    names = [a.objectName() for a in menu.actions()]
    assert "deleteAction" in names and "editAction" not in names
    trigger(view, seq, "deleteAction")
    confirm_delete(qtbot, view)
    qtbot.waitUntil(lambda: model.index_of(seq).data(MessageRole.Deleted), timeout=WAIT_MS)


def test_a_quote_of_a_message_far_back_loads_it_and_jumps(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The highlight lasts long enough to be seen on a loaded machine (it failed there).
    monkeypatch.setattr(message_list_view, "HIGHLIGHT_MS", 60_000)
    async def fill(server: ChatServer) -> None:
        assert server.store is not None
        batch = [NewMessage(1, None, "bob", MsgType.MESSAGE, f"old {i}", None, 1_000 + i)
                 for i in range(1, 201)]
        await asyncio.to_thread(server.store.append_messages, batch)

    hosted_server.call(fill)
    bob = joined(qtbot, make_client(), hosted_server, BOB)
    alice = make_client()
    window, view = window_in_lobby(qtbot, alice, hosted_server, ALICE)
    model = window.workspace.messages["1"]
    qtbot.waitUntil(lambda: model.oldest_seq() is not None, timeout=WAIT_MS)
    assert not model.index_of(3).isValid()
    bob.send("1", "about that very first thing", reply_to=3)
    qtbot.waitUntil(has_row(model, "about that very first thing"), timeout=WAIT_MS)
    reply = row_with(model, "about that very first thing")
    qtbot.waitUntil(lambda: view.messages.visualRect(reply).bottom()
                    <= view.messages.viewport().height(), timeout=WAIT_MS)
    option = QStyleOptionViewItem()
    option.rect = view.messages.visualRect(reply)
    quote = view.messages.delegate.quote_rect(option, reply)
    assert quote is not None
    qtbot.mouseClick(view.messages.viewport(), Qt.MouseButton.LeftButton, pos=quote.center())

    def original_in_view() -> bool:
        index = model.index_of(3)
        rect = view.messages.visualRect(index)
        return (index.isValid() and rect.top() >= 0
                and rect.bottom() <= view.messages.viewport().height())

    qtbot.waitUntil(original_in_view, timeout=WAIT_MS)
    assert view.messages.delegate.highlighted_seq == 3
    assert row_with(model, "about that very first thing").data(MessageRole.Quote).text == "old 3"


def test_who_types_shows_under_the_other_persons_view(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient],
) -> None:
    alice = make_client()
    _window, view = window_in_lobby(qtbot, alice, hosted_server, ALICE)
    bob = joined(qtbot, make_client(), hosted_server, BOB)
    typed: list[tuple[str, str]] = []
    bob.typingReceived.connect(lambda room, who: typed.append((room, who)))
    bob.typing("1")
    qtbot.waitUntil(lambda: view.typing_line.full_text() == "bob is typing…", timeout=WAIT_MS)
    qtbot.keyClicks(view.input, "hi")
    qtbot.waitUntil(lambda: ("1", "alice") in typed, timeout=WAIT_MS)


def test_a_pending_message_offers_copy_and_cancel_sending_and_a_cancelled_one_never_goes(
        qtbot: QtBot, hosted_server: ServerThread, passwords: Passwords,
        make_client: Callable[[], ChatClient]) -> None:
    window, view = window_in_lobby(qtbot, make_client(), hosted_server, ALICE)
    alice = window.workspace.client
    bob = joined(qtbot, make_client(), hosted_server, BOB)
    bob_texts: list[str] = []
    bob.messageReceived.connect(lambda _room, event: bob_texts.append(event.message or ""))
    port = hosted_server.port
    stopping = asyncio.get_event_loop().create_task(asyncio.to_thread(hosted_server.stop))
    qtbot.waitUntil(stopping.done, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: alice.state is State.RECONNECTING, timeout=WAIT_MS)

    model = window.workspace.messages["1"]
    for text in ("never mind", "kept"):  # written offline: they wait in the outbox
        view.input.setPlainText(text)
        view.input.submit()
    qtbot.waitUntil(lambda: pending_row(model, "kept").isValid(), timeout=WAIT_MS)
    index = pending_row(model, "never mind")
    qtbot.waitUntil(lambda: view.messages.visualRect(index).isValid())
    viewport = view.messages.viewport()
    centre = view.messages.visualRect(index).center()
    QGuiApplication.sendEvent(viewport, QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, centre, viewport.mapToGlobal(centre)))
    qtbot.waitUntil(lambda: view.menu is not None and view.menu.isVisible())
    menu = view.menu
    assert menu is not None
    actions = {a.objectName(): a for a in menu.actions() if not a.isSeparator()}
    assert list(actions) == ["copyTextAction", "cancelSendingAction"]
    assert actions["cancelSendingAction"].text() == "Cancel sending"
    actions["copyTextAction"].trigger()
    assert QGuiApplication.clipboard().text() == "never mind"
    actions["cancelSendingAction"].trigger()
    qtbot.waitUntil(lambda: not pending_row(model, "never mind").isValid(), timeout=WAIT_MS)
    assert pending_row(model, "kept").isValid()
    assert len(alice.outbox) == 1

    again = ServerThread(hosted_server.config.replace(port=port),
                         make_server=hashing_with(passwords))
    again.start()
    try:
        qtbot.waitUntil(lambda: "kept" in bob_texts, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: len(alice.outbox) == 0, timeout=WAIT_MS)
        view.input.setPlainText("after")
        view.input.submit()
        qtbot.waitUntil(lambda: "after" in bob_texts, timeout=WAIT_MS)
        assert "never mind" not in bob_texts
    finally:
        again.stop()


def pending_row(model: MessageListModel, text: str) -> QModelIndex:
    for row in range(model.rowCount()):
        index = model.index(row)
        if index.data(MessageRole.IsPending) and index.data(MessageRole.Text) == text:
            return index
    return QModelIndex()
