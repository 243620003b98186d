"""Attaching in the room view (paperclip API, drop, paste), the upload rows, and files in
messages: where they are drawn and what a click on them asks for. No server here: the
end-to-end tests (test_files_e2e.py) send and fetch for real."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from multichat.desktop.client.uploads import Attachment
from multichat.desktop.models import MemberListModel, MessageListModel
from multichat.desktop.models.messages import MessageRole
from multichat.desktop.widgets.attachment_paint import IMAGE_MAX, Part
from multichat.desktop.widgets.attachment_tray import UploadList
from multichat.desktop.widgets.room_view import RoomView
from multichat.protocol import MsgType
from multichat.protocol.frames import FileObj, RoomEvent

PHOTO = FileObj("img1", "photo.jpg", 123_456, "image/jpeg", "ab" * 32, 800, 600)
PDF = FileObj("pdf1", "report.pdf", 2_500_000, "application/pdf", "cd" * 32)


def room(qtbot: QtBot, width: int = 600) -> tuple[RoomView, MessageListModel]:
    model = MessageListModel(lambda _before: None)
    model.set_own_username("alice")
    view = RoomView("1", "Lobby")
    qtbot.addWidget(view)
    view.set_models(model, MemberListModel())
    view.resize(width, 500)
    view.show()
    qtbot.waitExposed(view)
    return view, model


def files_in(tmp_path: Path) -> tuple[Path, Path]:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 " + b"x" * 1000)
    png = tmp_path / "dot.png"
    image = QImage(4, 3, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    assert image.save(str(png))
    return pdf, png


def submitted(qtbot: QtBot, view: RoomView) -> list[Any]:
    with qtbot.waitSignal(view.filesSubmitted, timeout=1000) as sent:
        qtbot.keyClick(view.input, Qt.Key.Key_Return)
    return list(sent.args)


def test_files_attached_go_with_enter_even_without_text(qtbot: QtBot, tmp_path: Path) -> None:
    view, _model = room(qtbot)
    pdf, png = files_in(tmp_path)
    view.attach_files([str(pdf), str(png)])
    assert [a.name for a in view.staged.files] == ["report.pdf", "dot.png"]
    assert view.staged.isVisible()
    text, reply_to, attachments = submitted(qtbot, view)
    assert (text, reply_to) == ("", None)
    assert [(a.name, a.size, a.type) for a in attachments] == [
        ("report.pdf", 1009, "application/pdf"), ("dot.png", png.stat().st_size, "image/png")]
    assert view.staged.files == [] and not view.staged.isVisible()
    with qtbot.assertNotEmitted(view.filesSubmitted), qtbot.assertNotEmitted(
            view.messageSubmitted):
        qtbot.keyClick(view.input, Qt.Key.Key_Return)  # nothing staged, nothing typed


def test_a_staged_file_can_be_taken_off_and_a_missing_one_is_said(
        qtbot: QtBot, tmp_path: Path) -> None:
    view, _model = room(qtbot)
    pdf, png = files_in(tmp_path)
    view.attach_files([str(pdf), str(png), str(tmp_path / "gone.txt")])
    assert "gone.txt" in view.banner.text() and view.banner.isVisible()
    remove = view.staged.findChildren(type(view.attach_button), "stagedFileRemove")
    qtbot.mouseClick(remove[0], Qt.MouseButton.LeftButton)
    assert [a.name for a in view.staged.files] == ["dot.png"]
    view.input.setPlainText("the dot")
    assert submitted(qtbot, view)[0] == "the dot"


def test_dropping_files_on_the_room_attaches_them(qtbot: QtBot, tmp_path: Path) -> None:
    view, _model = room(qtbot)
    pdf, _png = files_in(tmp_path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(pdf))])
    # Through the window, as the platform delivers a drag: Qt finds the widget under the
    # pointer (the message list) and hands the drop to the nearest one that takes drops.
    window = view.window().windowHandle()
    at = view.messages.viewport().mapTo(view.window(), QPoint(30, 30))
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(window, QDragEnterEvent(at, Qt.DropAction.CopyAction, mime,
                                                   buttons, keys))
    assert view.banner.isVisible() and "Drop the files" in view.banner.text()
    QApplication.sendEvent(window, QDropEvent(QPointF(at), Qt.DropAction.CopyAction, mime,
                                              buttons, keys))
    assert [a.name for a in view.staged.files] == ["report.pdf"]
    assert not view.banner.isVisible()


def test_pasting_an_image_attaches_it_as_a_png(qtbot: QtBot) -> None:
    view, _model = room(qtbot)
    image = QImage(30, 20, QImage.Format.Format_RGB32)
    image.fill(QColor("blue"))
    QGuiApplication.clipboard().setImage(image)
    view.input.setFocus()
    view.input.paste()
    (attachment,) = view.staged.files
    assert attachment.name.startswith("Pasted image ") and attachment.name.endswith(".png")
    assert attachment.type == "image/png"
    assert attachment.data is not None and attachment.data.startswith(b"\x89PNG")
    back = QImage.fromData(attachment.data)
    assert (back.width(), back.height()) == (30, 20)
    assert view.input.toPlainText() == ""  # the image went to the tray, not the text


def test_pasting_copied_files_attaches_them(qtbot: QtBot, tmp_path: Path) -> None:
    view, _model = room(qtbot)
    pdf, _png = files_in(tmp_path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(pdf))])
    QGuiApplication.clipboard().setMimeData(mime)
    view.input.paste()
    assert [a.name for a in view.staged.files] == ["report.pdf"]


def test_each_upload_has_a_bar_and_cancel(qtbot: QtBot) -> None:
    uploads = UploadList()
    qtbot.addWidget(uploads)
    pending = [{"client_id": "c1", "message": "", "files": [
        {"key": "k1", "name": "a.pdf", "size": 1000, "type": "application/pdf",
         "state": "waiting", "sent": 0},
        {"key": "k2", "name": "b.png", "size": 10, "type": "image/png",
         "state": "sending", "sent": 5}]}]
    uploads.set_pending(pending)
    assert set(uploads.rows) == {"k1", "k2"}
    assert uploads.rows["k1"].bar.text() == "Waiting…"
    assert uploads.rows["k2"].bar.value() == 50
    uploads.progress("k1", 1000, 1000)
    assert uploads.rows["k1"].bar.value() == 100
    with qtbot.waitSignal(uploads.cancelled) as cancelled:
        qtbot.mouseClick(uploads.rows["k2"].cancel_button, Qt.MouseButton.LeftButton)
    assert cancelled.args == ["k2"]
    uploads.set_pending([])
    assert uploads.rows == {} and not uploads.isVisible()


def test_an_image_shows_as_a_thumbnail_and_a_file_as_a_card_with_save(qtbot: QtBot) -> None:
    view, model = room(qtbot)
    ts = datetime.now(UTC).isoformat()
    model.append_live(RoomEvent(room=1, seq=1, username="bob", msg_type=MsgType.MESSAGE,
                                message="", ts=ts, files=(PHOTO, PDF)))
    index = model.index(0)
    assert index.data(MessageRole.Files) == (PHOTO, PDF)
    rect = view.messages.visualRect(index)
    delegate = view.messages.delegate
    option = QStyleOptionViewItem()
    option.rect = rect
    boxes = delegate.layout(rect, index).files
    assert [b.file for b in boxes] == [PHOTO, PDF]
    image, card = boxes
    assert (image.rect.width(), image.rect.height()) == (IMAGE_MAX, IMAGE_MAX * 600 // 800)
    assert card.save is not None and card.rect.top() > image.rect.bottom()
    assert rect.bottom() >= card.rect.bottom()  # the row is tall enough for them
    with qtbot.waitSignal(view.messages.imageClicked) as opened:
        qtbot.mouseClick(view.messages.viewport(), Qt.MouseButton.LeftButton,
                         pos=image.rect.center())
    assert opened.args == [PHOTO]
    with qtbot.waitSignal(view.messages.saveClicked) as saved:
        qtbot.mouseClick(view.messages.viewport(), Qt.MouseButton.LeftButton,
                         pos=card.save.center())
    assert saved.args == [PDF]
    hit = delegate.file_at(option, index, QPointF(card.rect.topLeft() + QPoint(4, 4)))
    assert hit is not None and hit[1] is Part.CARD


def test_a_narrow_window_shrinks_an_image_to_fit(qtbot: QtBot) -> None:
    view, model = room(qtbot, width=200)
    wide = FileObj("w", "wide.png", 10, "image/png", "00", 4000, 1000)
    model.append_live(RoomEvent(room=1, seq=1, username="bob", msg_type=MsgType.MESSAGE,
                                message="look", ts=datetime.now(UTC).isoformat(),
                                files=(wide,)))
    index = model.index(0)
    rect = view.messages.visualRect(index)
    (box,) = view.messages.delegate.layout(rect, index).files
    assert box.rect.right() <= view.messages.viewport().width()
    assert box.rect.width() == 4 * box.rect.height()


def test_a_pending_message_shows_its_files_waiting(qtbot: QtBot) -> None:
    view, model = room(qtbot)
    model.set_pending([{"client_id": "c", "message": "", "files": [
        {"key": "k", "name": "a.pdf", "size": 5, "type": "application/pdf",
         "state": "waiting", "sent": 0}]}])
    index = model.index(0)
    (box,) = view.messages.delegate.layout(view.messages.visualRect(index), index).files
    assert box.file.name == "a.pdf" and box.save is None  # nothing to save yet
    assert Attachment.from_bytes("a.pdf", b"12345").size == 5


def test_a_reply_to_a_files_only_message_quotes_its_files(qtbot: QtBot) -> None:
    _view, model = room(qtbot)
    ts = datetime.now(UTC).isoformat()
    model.append_live(RoomEvent(room=1, seq=1, username="bob", msg_type=MsgType.MESSAGE,
                                message="", ts=ts, files=(PHOTO, PDF)))
    model.append_live(RoomEvent(room=1, seq=2, username="alice", msg_type=MsgType.MESSAGE,
                                message="nice", ts=ts, reply_to=1))
    quote = model.index(1).data(MessageRole.Quote)
    assert quote.text == "📎 photo.jpg and 1 more file"


def test_the_paperclip_and_ctrl_u_pick_files(qtbot: QtBot, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    view, _model = room(qtbot)
    pdf, png = files_in(tmp_path)
    asked: list[str] = []

    def the_os_file_dialog(_parent: object, title: str) -> tuple[list[str], str]:
        asked.append(title)  # the one edge we don't own: the platform's file dialog
        return [str(pdf)], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", the_os_file_dialog)
    qtbot.mouseClick(view.attach_button, Qt.MouseButton.LeftButton)
    assert [a.name for a in view.staged.files] == ["report.pdf"]
    view.input.setFocus()
    qtbot.waitUntil(view.input.hasFocus)
    qtbot.keyClick(view.input, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["Attach files", "Attach files"]
    assert [a.name for a in view.staged.files] == ["report.pdf", "report.pdf"]
    del png
