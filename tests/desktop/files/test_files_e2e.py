"""Files end to end: real ChatClients (and windows) against a real server on port 0.

Alice attaches, the upload goes over the WebSocket with progress, the message
goes with the files; Bob sees the image as a thumbnail fetched over HTTP and
the PDF as a card whose Save downloads the exact bytes into a Downloads folder,
never over a file that is there. Offline, a message with files waits in the
outbox and goes when connected; a connection lost mid-upload sends the file
again; Cancel leaves no message; a file over the limit is said in words.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication, QImage
from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient, State
from multichat.desktop.client.file_http import FetchError, FileServer
from multichat.desktop.client.uploads import Attachment
from multichat.desktop.models import MessageListModel, MessageRole
from multichat.desktop.services.file_transfers import FileTransfers, file_server_of
from multichat.desktop.services.hosting import ServerThread
from multichat.desktop.widgets.main_window import MainWindow
from multichat.desktop.widgets.room_view import RoomView
from multichat.protocol import ErrorCode
from multichat.protocol.frames import FileObj, RoomEvent
from multichat.server.chat.passwords import Passwords
from tests.conftest import ALICE, BOB
from tests.desktop.conftest import hosting
from tests.desktop.helpers import WAIT_MS, joined, window_in_lobby

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

RED = QColor(200, 30, 30)


@pytest.fixture
def small_limit_server(tmp_path: Path, passwords: Passwords) -> Iterator[ServerThread]:
    yield from hosting(passwords, tmp_path / "small", max_file_bytes=1000)


def a_png(tmp_path: Path, name: str = "photo.png") -> Path:
    image = QImage(400, 300, QImage.Format.Format_RGB32)
    image.fill(RED)
    path = tmp_path / name
    assert image.save(str(path))
    return path


def a_pdf(tmp_path: Path, size: int = 300_000, name: str = "report.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4\n" + os.urandom(size - 9))
    return path


def record(client: ChatClient) -> list[RoomEvent]:
    events: list[RoomEvent] = []
    client.messageReceived.connect(lambda _room, event: events.append(event))
    return events


def with_files(events: list[RoomEvent]) -> list[RoomEvent]:
    return [e for e in events if e.files]


def row_with_files(model: MessageListModel) -> QModelIndex:
    for row in range(model.rowCount()):
        index = model.index(row)
        if index.data(MessageRole.Files) and index.data(MessageRole.Seq) is not None:
            return index
    return QModelIndex()


class FolderOpener(QObject):
    """Stands in for the desktop's file manager (QDesktopServices' handler of file://)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        QDesktopServices.setUrlHandler("file", self, "show")  # type: ignore[arg-type]

    @Slot(QUrl)
    def show(self, url: QUrl) -> None:
        self.urls.append(url.toLocalFile())

    def __del__(self) -> None:
        QDesktopServices.unsetUrlHandler("file")


def view_and_save(qtbot: QtBot, window: MainWindow, view: RoomView, at: QPoint,
                  downloads: Path, png: Path) -> None:
    """A click on the thumbnail: the image at full size, and its Save."""
    qtbot.mouseClick(view.messages.viewport(), Qt.MouseButton.LeftButton, pos=at)
    viewer = view.viewer
    assert viewer is not None and viewer.isVisible()
    qtbot.waitUntil(lambda: viewer.image is not None, timeout=WAIT_MS)
    assert viewer.image is not None
    assert (viewer.image.width(), viewer.image.height()) == (400, 300)
    with qtbot.waitSignal(window.files.downloadFinished, timeout=WAIT_MS):
        qtbot.mouseClick(viewer.save_button, Qt.MouseButton.LeftButton)
    assert (downloads / "photo.png").read_bytes() == png.read_bytes()
    assert "photo.png" in viewer.status.full_text()
    viewer.close()


def save_all_from_the_menu(qtbot: QtBot, window: MainWindow, view: RoomView,
                           seq: int) -> None:
    """The message's menu saves all its files at once, each beside the earlier copies."""
    menu = view.message_menu(seq)
    assert menu is not None
    action = next(a for a in menu.actions() if a.objectName() == "saveFilesAction")
    assert action.text() == "Save 2 files"
    finished: list[str] = []
    window.files.downloadFinished.connect(lambda _id, path: finished.append(path))
    action.trigger()
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=WAIT_MS)
    assert sorted(Path(p).name for p in finished) == ["photo (1).png", "report (2).pdf"]


def test_attached_in_the_window_then_seen_saved_and_viewed_by_the_other(
        qtbot: QtBot, hosted_server: ServerThread,
        make_client: Callable[[], ChatClient], tmp_path: Path) -> None:
    alice, bob = make_client(), make_client()
    alice_window, alice_view = window_in_lobby(qtbot, alice, hosted_server, ALICE, height=700)
    bob_window, bob_view = window_in_lobby(qtbot, bob, hosted_server, BOB, height=700)
    downloads = tmp_path / "Downloads"
    bob_window.files.folder = downloads
    png, pdf = a_png(tmp_path), a_pdf(tmp_path)

    bars: dict[str, list[int]] = {}

    def progressed(_room: str, key: str, _sent: int, _size: int) -> None:
        row = alice_view.uploads.rows.get(key)
        if row is not None:
            bars.setdefault(key, []).append(row.bar.value())

    alice.uploadProgress.connect(progressed)
    alice_view.attach_files([str(png), str(pdf)])
    alice_view.input.setPlainText("the photo and the report")
    qtbot.keyClick(alice_view.input, Qt.Key.Key_Return)
    assert alice_view.uploads.isVisible() and len(alice_view.uploads.rows) == 2

    model = bob_window.workspace.messages["1"]
    qtbot.waitUntil(lambda: row_with_files(model).isValid(), timeout=WAIT_MS)
    index = row_with_files(model)
    assert index.data(MessageRole.Text) == "the photo and the report"
    photo, report = index.data(MessageRole.Files)
    assert (photo.name, photo.width, photo.height, photo.is_image) == ("photo.png", 400, 300,
                                                                       True)
    assert (report.name, report.size, report.is_image) == ("report.pdf", 300_000, False)
    assert report.sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert sorted(max(values) for values in bars.values()) == [100, 100]  # both reached 100%
    assert len(bars[next(iter(bars))]) >= 2  # shown as it went, not only at the end
    qtbot.waitUntil(lambda: not alice_view.uploads.isVisible(), timeout=WAIT_MS)

    # Bob's window draws the thumbnail, fetched over HTTP with his token.
    bob_view.messages.scrollTo(index)
    qtbot.waitUntil(lambda: bob_window.files.thumbnail(photo) is not None, timeout=WAIT_MS)
    boxes = bob_view.messages.delegate.layout(bob_view.messages.visualRect(index), index).files
    image_box, card_box = boxes

    def thumbnail_drawn() -> bool:
        shown = bob_view.messages.viewport().grab().toImage()
        colour = shown.pixelColor(image_box.rect.center() * shown.devicePixelRatio())
        return abs(colour.red() - RED.red()) < 20 and abs(colour.green() - RED.green()) < 20

    qtbot.waitUntil(thumbnail_drawn, timeout=WAIT_MS)

    # Save on the card: the exact bytes, in the Downloads folder; again: beside it.
    assert card_box.save is not None
    with qtbot.waitSignal(bob_window.files.downloadFinished, timeout=WAIT_MS) as saved:
        qtbot.mouseClick(bob_view.messages.viewport(), Qt.MouseButton.LeftButton,
                         pos=card_box.save.center())
    assert saved.args == [report.id, str(downloads / "report.pdf")]
    assert (downloads / "report.pdf").read_bytes() == pdf.read_bytes()
    shown = FolderOpener()
    qtbot.mouseClick(bob_view.messages.viewport(), Qt.MouseButton.LeftButton,
                     pos=card_box.rect.topLeft() + QPoint(60, 8))  # the card, not Save
    assert shown.urls == [str(downloads)]  # its folder, never the file itself
    with qtbot.waitSignal(bob_window.files.downloadFinished, timeout=WAIT_MS) as again:
        bob_window.files.save(report)
    assert again.args[1] == str(downloads / "report (1).pdf")
    assert (downloads / "report.pdf").read_bytes() == pdf.read_bytes()  # not overwritten

    view_and_save(qtbot, bob_window, bob_view, image_box.rect.center(), downloads, png)

    save_all_from_the_menu(qtbot, bob_window, bob_view, int(index.data(MessageRole.Seq)))
    del alice_window


def test_a_files_only_message_goes_and_a_stranger_cannot_fetch_it(
        qtbot: QtBot, hosted_server: ServerThread,
        make_client: Callable[[], ChatClient], tmp_path: Path) -> None:
    alice = joined(qtbot, make_client(), hosted_server, ALICE)
    bob = joined(qtbot, make_client(), hosted_server, BOB)
    bob_events = record(bob)
    data = os.urandom(5000)
    alice.send("1", "", None, [Attachment.from_bytes("notes.bin", data)])
    qtbot.waitUntil(lambda: bool(with_files(bob_events)), timeout=WAIT_MS)
    (event,) = with_files(bob_events)
    assert event.message in ("", None)
    (stored,) = event.files
    transfers = FileTransfers(lambda: file_server_of(bob))
    task = asyncio.get_event_loop().create_task(transfers.fetch_bytes(stored))
    qtbot.waitUntil(task.done, timeout=WAIT_MS)
    assert task.result() == data
    # The same request with a token nobody has: refused, the file stays unseen.
    stranger = FileTransfers(lambda: FileServer(bob.url, "not-a-token"))
    refused = asyncio.get_event_loop().create_task(stranger.fetch_bytes(stored))
    qtbot.waitUntil(refused.done, timeout=WAIT_MS)
    error = refused.exception()
    assert isinstance(error, FetchError) and error.status == 401


def test_a_file_attached_offline_waits_and_goes_when_connected(
        qtbot: QtBot, hosted_server: ServerThread,
        make_client: Callable[[], ChatClient], tmp_path: Path) -> None:
    alice = joined(qtbot, make_client(), hosted_server, ALICE)
    bob = joined(qtbot, make_client(), hosted_server, BOB)
    bob_events = record(bob)
    alice.cancel()
    assert alice.state is State.OFFLINE
    started: list[str] = []
    alice.uploadProgress.connect(lambda _r, key, _s, _n: started.append(key))
    pdf = a_pdf(tmp_path, 70_000)
    outbox: list[object] = []
    alice.outboxChanged.connect(lambda _room, pending: outbox.append(pending))
    alice.send("1", "written offline", None, [Attachment.from_path(pdf)])
    assert started == [] and len(alice.outbox) == 1  # nothing goes while offline
    assert outbox[-1][0]["files"][0]["state"] == "waiting"  # type: ignore[index]

    with qtbot.waitSignal(alice.loggedIn, timeout=WAIT_MS):
        alice.open(alice.url, alice.username, token=alice.token)
    qtbot.waitUntil(lambda: bool(with_files(bob_events)), timeout=WAIT_MS)
    (event,) = with_files(bob_events)
    assert event.message == "written offline"
    assert event.files[0].sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()
    qtbot.waitUntil(lambda: len(alice.outbox) == 0, timeout=WAIT_MS)


def test_a_connection_lost_mid_upload_sends_the_file_again(
        qtbot: QtBot, hosted_server: ServerThread,
        make_client: Callable[[], ChatClient], tmp_path: Path) -> None:
    alice = joined(qtbot, make_client(), hosted_server, ALICE)
    bob = joined(qtbot, make_client(), hosted_server, BOB)
    bob_events = record(bob)
    pdf = a_pdf(tmp_path, 1_000_000)
    cut: list[int] = []

    def lose_it(_room: str, _key: str, sent: int, _size: int) -> None:
        if sent > 0 and not cut:
            cut.append(sent)
            alice.cancel()  # the connection goes, mid-file

    alice.uploadProgress.connect(lose_it)
    alice.send("1", "big one", None, [Attachment.from_path(pdf)])
    qtbot.waitUntil(lambda: bool(cut), timeout=WAIT_MS)
    assert alice.state is State.OFFLINE and len(alice.outbox) == 1
    alice.uploadProgress.disconnect(lose_it)
    with qtbot.waitSignal(alice.loggedIn, timeout=WAIT_MS):
        alice.open(alice.url, alice.username, token=alice.token)
    qtbot.waitUntil(lambda: bool(with_files(bob_events)), timeout=WAIT_MS)
    (event,) = with_files(bob_events)
    assert event.files[0].size == 1_000_000
    assert event.files[0].sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()


def test_cancel_leaves_no_message_and_the_next_upload_goes(
        qtbot: QtBot, hosted_server: ServerThread,
        make_client: Callable[[], ChatClient], tmp_path: Path) -> None:
    alice = make_client()
    window, view = window_in_lobby(qtbot, alice, hosted_server, ALICE, height=700)
    bob = joined(qtbot, make_client(), hosted_server, BOB)
    bob_events = record(bob)
    errors: list[str] = []
    alice.errorOccurred.connect(lambda _room, code, _words: errors.append(code))
    big = a_pdf(tmp_path, 2_000_000, "big.pdf")
    cancelled: list[str] = []

    def press_cancel(_room: str, key: str, sent: int, _size: int) -> None:
        row = view.uploads.rows.get(key)
        if sent > 0 and row is not None and not cancelled:
            cancelled.append(key)
            qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)

    alice.uploadProgress.connect(press_cancel)
    view.attach_files([str(big)])
    qtbot.keyClick(view.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(cancelled), timeout=WAIT_MS)
    assert len(alice.outbox) == 0 and not view.uploads.isVisible()
    alice.uploadProgress.disconnect(press_cancel)

    # The connection still takes an upload: the cancelled one was ended on the server.
    small = a_pdf(tmp_path, 3000, "small.pdf")
    view.attach_files([str(small)])
    view.input.setPlainText("this one")
    qtbot.keyClick(view.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(with_files(bob_events)), timeout=WAIT_MS)
    assert [e.message for e in bob_events if e.seq is not None] == ["this one"]
    assert [f.name for f in with_files(bob_events)[0].files] == ["small.pdf"]
    assert errors == [] and alice.state is State.ONLINE
    del window


def test_a_file_over_the_limit_is_said_in_words_and_not_sent(
        qtbot: QtBot, small_limit_server: ServerThread,
        make_client: Callable[[], ChatClient], tmp_path: Path) -> None:
    alice = joined(qtbot, make_client(), small_limit_server, ALICE)
    bob = joined(qtbot, make_client(), small_limit_server, BOB)
    bob_events = record(bob)
    with qtbot.waitSignal(alice.errorOccurred, timeout=WAIT_MS) as refused:
        alice.send("1", "", None, [Attachment.from_bytes("big.iso", bytes(5000))])
    assert refused.args == ["1", ErrorCode.FILE_TOO_LARGE,
                            "“big.iso” is larger than the server allows (1000 bytes)."]
    assert len(alice.outbox) == 0
    alice.send("1", "after it")
    qtbot.waitUntil(lambda: any(e.message == "after it" for e in bob_events), timeout=WAIT_MS)
    assert with_files(bob_events) == []


def test_with_text_a_refused_file_leaves_the_text_to_go(
        qtbot: QtBot, small_limit_server: ServerThread,
        make_client: Callable[[], ChatClient]) -> None:
    alice = joined(qtbot, make_client(), small_limit_server, ALICE)
    bob = joined(qtbot, make_client(), small_limit_server, BOB)
    bob_events = record(bob)
    alice.send("1", "see attached", None, [Attachment.from_bytes("big.iso", bytes(5000)),
                                           Attachment.from_bytes("ok.txt", b"fine")])
    qtbot.waitUntil(lambda: any(e.message == "see attached" for e in bob_events),
                    timeout=WAIT_MS)
    (event,) = [e for e in bob_events if e.message == "see attached"]
    assert [f.name for f in event.files] == ["ok.txt"]
    assert isinstance(event.files[0], FileObj)


def test_over_tls_files_are_fetched_from_the_pinned_server_only(
        qtbot: QtBot, tls_hosted: ServerThread,
        make_client: Callable[[], ChatClient], tmp_path: Path) -> None:
    url = f"wss://127.0.0.1:{tls_hosted.port}"
    alice = make_client()
    with qtbot.waitSignal(alice.loggedIn, timeout=WAIT_MS):
        alice.open(url, "alice", password=ALICE[1], pin=tls_hosted.fingerprint)
    alice.join("1")
    qtbot.waitUntil(lambda: alice.rooms["1"].joined, timeout=WAIT_MS)
    events = record(alice)
    alice.send("1", "over TLS", None, [Attachment.from_path(a_png(tmp_path))])
    qtbot.waitUntil(lambda: bool(with_files(events)), timeout=WAIT_MS)
    (photo,) = with_files(events)[0].files

    pinned = FileTransfers(lambda: file_server_of(alice))
    assert pinned.thumbnail(photo) is None  # asked for now
    qtbot.waitUntil(lambda: pinned.thumbnail(photo) is not None, timeout=WAIT_MS)
    image = pinned.thumbnail(photo)
    assert image is not None and max(image.width(), image.height()) <= 320

    # The same token to the same address, pinned to another certificate: refused
    # before the request, so the token never left.
    other = FileTransfers(lambda: FileServer(url, alice.token or "", ":".join(["AB"] * 32)))
    other.folder = tmp_path / "Downloads"
    with qtbot.waitSignal(other.downloadFailed, timeout=WAIT_MS) as failed:
        other.save(photo)
    assert "certificate" in failed.args[1]
    assert not any((tmp_path / "Downloads").iterdir())  # nothing left behind


def test_a_pending_message_deleted_mid_upload_stops_its_file(
        qtbot: QtBot, hosted_server: ServerThread,
        make_client: Callable[[], ChatClient], tmp_path: Path) -> None:
    alice = joined(qtbot, make_client(), hosted_server, ALICE)
    bob = joined(qtbot, make_client(), hosted_server, BOB)
    bob_events = record(bob)
    errors: list[str] = []
    alice.errorOccurred.connect(lambda _room, code, _words: errors.append(code))
    sent: list[int] = []
    client_id = ""

    def delete_it(_room: str, _key: str, done: int, _size: int) -> None:
        sent.append(done)
        if done > 0 and len(sent) == 2:
            alice.delete_pending("1", client_id)

    alice.uploadProgress.connect(delete_it)
    client_id = alice.send("1", "never mind", None,
                           [Attachment.from_path(a_pdf(tmp_path, 2_000_000, "big.pdf"))])
    qtbot.waitUntil(lambda: len(alice.outbox) == 0, timeout=WAIT_MS)
    alice.uploadProgress.disconnect(delete_it)
    assert max(sent) < 2_000_000  # it stopped, it did not send the rest
    alice.send("1", "", None, [Attachment.from_bytes("next.txt", b"next")])
    qtbot.waitUntil(lambda: bool(with_files(bob_events)), timeout=WAIT_MS)
    assert [e.files[0].name for e in with_files(bob_events)] == ["next.txt"]
    assert not any(e.message == "never mind" for e in bob_events)
    assert errors == []


def test_a_file_gone_or_cut_short_after_attaching_is_said_and_the_rest_goes(
        qtbot: QtBot, hosted_server: ServerThread,
        make_client: Callable[[], ChatClient], tmp_path: Path) -> None:
    alice = joined(qtbot, make_client(), hosted_server, ALICE)
    bob = joined(qtbot, make_client(), hosted_server, BOB)
    bob_events = record(bob)
    gone, short = a_pdf(tmp_path, 5000, "gone.pdf"), a_pdf(tmp_path, 300_000, "short.pdf")
    attachments = [Attachment.from_path(gone), Attachment.from_path(short),
                   Attachment.from_bytes("kept.txt", b"kept")]
    gone.unlink()
    short.write_bytes(short.read_bytes()[:1000])
    said: list[str] = []
    alice.errorOccurred.connect(lambda _room, _code, words: said.append(words))
    alice.send("1", "three files", None, attachments)
    qtbot.waitUntil(lambda: bool(with_files(bob_events)), timeout=WAIT_MS)
    (event,) = with_files(bob_events)
    assert event.message == "three files" and [f.name for f in event.files] == ["kept.txt"]
    assert said[0].startswith("“gone.pdf” was not sent: it cannot be read any more")
    assert said[1] == ("“short.pdf” was not sent: it changed after it was attached; attach it "
                       "again.")
    assert alice.state is State.ONLINE and len(said) == 2


def test_a_pasted_screenshot_reaches_the_other_as_an_image(
        qtbot: QtBot, hosted_server: ServerThread,
        make_client: Callable[[], ChatClient]) -> None:
    alice = make_client()
    window, view = window_in_lobby(qtbot, alice, hosted_server, ALICE, height=700)
    bob = joined(qtbot, make_client(), hosted_server, BOB)
    bob_events = record(bob)
    screenshot = QImage(640, 360, QImage.Format.Format_RGB32)
    screenshot.fill(RED)
    QGuiApplication.clipboard().setImage(screenshot)
    view.input.setFocus()
    qtbot.keyClick(view.input, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert len(view.staged.files) == 1
    qtbot.keyClick(view.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(with_files(bob_events)), timeout=WAIT_MS)
    (pasted,) = with_files(bob_events)[0].files
    assert pasted.name.startswith("Pasted image ") and pasted.name.endswith(".png")
    assert (pasted.type, pasted.width, pasted.height) == ("image/png", 640, 360)
    del window


def test_a_download_cancelled_leaves_nothing(
        qtbot: QtBot, hosted_server: ServerThread,
        make_client: Callable[[], ChatClient], tmp_path: Path) -> None:
    alice = joined(qtbot, make_client(), hosted_server, ALICE)
    events = record(alice)
    alice.send("1", "", None, [Attachment.from_path(a_pdf(tmp_path, 3_000_000, "big.pdf"))])
    qtbot.waitUntil(lambda: bool(with_files(events)), timeout=WAIT_MS)
    (big,) = with_files(events)[0].files
    transfers = FileTransfers(lambda: file_server_of(alice))
    transfers.folder = tmp_path / "Downloads"
    with qtbot.waitSignal(transfers.downloadFailed, timeout=WAIT_MS) as failed:
        transfers.save(big)  # its file is made at once, its bytes come on a thread …
        transfers.cancel_all()  # … which stops before the next chunk (as at quit)
    assert failed.args == [big.id, "Saving “big.pdf” was cancelled."]
    assert list((tmp_path / "Downloads").iterdir()) == []  # the file made is gone
    assert transfers.progress(big.id) is None  # Save starts afresh
