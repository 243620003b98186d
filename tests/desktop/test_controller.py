"""The app's flows end to end: log in or fail, remember me, scripted start, log out, host."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient
from multichat.desktop.controller import (
    AppController,
    StartOptions,
    StopHosting,
    stop_hosting_box,
)
from multichat.desktop.services.credentials import CredentialStore, server_key
from multichat.desktop.services.hosting import ServerThread
from multichat.desktop.services.settings import AppSettings
from multichat.protocol.fingerprint import for_display
from multichat.protocol.frames import RoomInfo, UserInfo
from tests.conftest import ALICE, BOB
from tests.desktop.conftest import MemoryKeyring
from tests.desktop.helpers import WAIT_MS, close_clients, fast_backoff, log_in, url_of
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import hashing_with


@pytest.fixture
def controllers(
    qtbot: QtBot, qapp: QApplication, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> Iterator[list[AppController]]:
    made: list[AppController] = []
    yield made
    for controller in made:
        close_clients(qtbot, [controller.client])
        stopping = asyncio.get_event_loop().create_task(controller.lan.stop())
        qtbot.waitUntil(stopping.done, timeout=WAIT_MS)
        if controller.host is not None:
            controller.host.stop()
        for window in (controller.main_window, controller.connect_window):
            window.hide()
            window.deleteLater()


def signed_in_as_alice(qtbot: QtBot, app: AppController, server: ServerThread) -> None:
    """Start ``app`` and log in as alice (not remembered), until the main window shows."""
    app.start()
    app.log_in(url_of(server), "alice", "alice-password", False)
    qtbot.waitUntil(app.main_window.isVisible, timeout=WAIT_MS)


def make(controllers: list[AppController], qapp: QApplication, tmp_path: Path,
         options: StartOptions | None = None) -> AppController:
    controller = AppController(
        qapp,
        settings=AppSettings(tmp_path / "settings.json"),
        credentials=CredentialStore(),
        options=options,
        backoff=fast_backoff(),  # reconnects within a fraction of a second
    )
    controllers.append(controller)
    return controller


def test_a_failed_login_is_told_on_the_form(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, hosted_server: ServerThread,
    controllers: list[AppController], memory_keyring: MemoryKeyring,
) -> None:
    app = make(controllers, qapp, tmp_path)
    app.start()
    assert app.connect_window.isVisible()
    app.log_in(url_of(hosted_server), "alice", "wrong", False)
    form = app.connect_window.join
    qtbot.waitUntil(lambda: not form.error.isHidden(), timeout=WAIT_MS)
    assert form.error.text() == "Wrong username or password."
    assert form.submit.isEnabled() and not app.main_window.isVisible()


def test_after_a_wrong_password_the_keyboard_is_back_in_the_password(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, hosted_server: ServerThread,
    controllers: list[AppController], memory_keyring: MemoryKeyring,
) -> None:
    """The fields are locked while connecting, which took the focus out of the form:
    typing again after "Wrong username or password." went nowhere."""
    app = make(controllers, qapp, tmp_path, StartOptions(discover=False))
    app.start()
    form = app.connect_window.join
    form.server.setEditText(url_of(hosted_server))
    qtbot.keyClicks(form.username, "alice")
    form.password.setFocus()
    qtbot.keyClicks(form.password, "wrong")
    qtbot.keyClick(form.password, Qt.Key.Key_Return)
    assert not form.password.isEnabled()  # locked while it connects
    qtbot.waitUntil(lambda: form.error.text() == "Wrong username or password.",
                    timeout=WAIT_MS)
    assert app.connect_window.focusWidget() is form.password
    assert form.password.selectedText() == "wrong"  # typing replaces it
    qtbot.keyClicks(form.password, "alice-password")
    assert form.password.text() == "alice-password"


def test_a_scripted_start_with_a_wrong_password_waits_in_the_password(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, hosted_server: ServerThread,
    controllers: list[AppController], memory_keyring: MemoryKeyring,
) -> None:
    options = StartOptions(server=url_of(hosted_server), username="alice",
                           password="wrong", discover=False)
    app = make(controllers, qapp, tmp_path, options)
    app.start()
    form = app.connect_window.join
    qtbot.waitUntil(lambda: form.error.text() == "Wrong username or password.",
                    timeout=WAIT_MS)
    assert app.connect_window.focusWidget() is form.password


def test_remember_me_logs_in_next_time_and_log_out_forgets(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, hosted_server: ServerThread,
    controllers: list[AppController], memory_keyring: MemoryKeyring,
) -> None:
    first = make(controllers, qapp, tmp_path)
    first.start()
    first.log_in(url_of(hosted_server), "alice", "alice-password", True)
    qtbot.waitUntil(first.main_window.isVisible, timeout=WAIT_MS)
    assert not first.connect_window.isVisible()
    (token,) = memory_keyring.secrets.values()
    assert "alice-password" not in memory_keyring.secrets.values()
    close_clients(qtbot, [first.client])

    second = make(controllers, qapp, tmp_path)  # the next start: no password typed
    second.start()
    qtbot.waitUntil(second.main_window.isVisible, timeout=WAIT_MS)
    assert second.client.token == token
    second.log_out()
    qtbot.waitUntil(second.connect_window.isVisible, timeout=WAIT_MS)
    join = second.connect_window.join
    assert join.info.text() == "You logged out." and not join.info.isHidden()
    assert join.error.isHidden()  # news, not an error
    assert memory_keyring.secrets == {}

    async def token_is_revoked() -> dict[str, object]:
        client = await ProtocolClient.open(url_of(hosted_server))
        reply = await client.request(command="login", token=token)
        await client.close()
        return reply

    task = asyncio.get_event_loop().create_task(token_is_revoked())
    qtbot.waitUntil(task.done, timeout=WAIT_MS)
    assert task.result()["error"] == "LOGIN_FAILED"


def test_a_scripted_start_joins_rooms_and_focuses_the_last(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, hosted_server: ServerThread,
    controllers: list[AppController], memory_keyring: MemoryKeyring,
) -> None:
    options = StartOptions(server=url_of(hosted_server), username="sam",
                           password="staff-password", join=["Staff room", "Lobby"])
    app = make(controllers, qapp, tmp_path, options)
    app.start()
    qtbot.waitUntil(lambda: set(app.main_window.views) == {"1", "2"}, timeout=WAIT_MS)
    lobby = app.main_window.views["1"]
    qtbot.waitUntil(lambda: app.main_window.tabs.currentWidget() is lobby, timeout=WAIT_MS)
    assert lobby.focusWidget() is lobby.input or app.main_window.focusWidget() is lobby.input
    assert not app.connect_window.isVisible()


def test_no_keyring_is_said_once_and_login_still_works(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, hosted_server: ServerThread,
    controllers: list[AppController],
) -> None:
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        app = make(controllers, qapp, tmp_path)
        join = app.connect_window.join
        # Said in one compact line under "Remember me", which is off: not a red error
        # that squashes the form.
        assert "no working keyring" in join.remember_hint.text()
        assert not join.remember.isEnabled() and not join.remember.isChecked()
        assert "keyring" in join.remember.toolTip()
        assert join.error.isHidden()
        app.start()
        assert not join.remember.isEnabled()  # set_busy(False) did not turn it back on
        app.log_in(url_of(hosted_server), "alice", "alice-password", True)
        qtbot.waitUntil(app.main_window.isVisible, timeout=WAIT_MS)
    finally:
        keyring.set_keyring(previous)


@pytest.mark.usefixtures("loopback_multicast")
def test_hosting_then_closing_warns_about_the_people_connected(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    app = make(controllers, qapp, tmp_path, StartOptions(data_dir=tmp_path / "hosted"))
    app.start()
    app.start_hosting(0, "boss", "boss-password")
    assert app.host is not None and app.host.running
    qtbot.waitUntil(app.main_window.isVisible, timeout=WAIT_MS)
    assert app.client.account == UserInfo("boss", is_staff=False, is_superuser=True)
    assert app.main_window.admin_button.isVisible()
    # Hosting is TLS: the app pinned its own server's certificate and asked nothing;
    # the fingerprint is shown for the others to confirm.
    fingerprint = app.host.fingerprint
    assert fingerprint is not None
    assert app.client.url.startswith("wss://") and app.client.pin == fingerprint
    label = app.main_window.hosting_label.text()
    assert label.startswith("Hosting") and "others join at wss://" in label
    # ... or open the browser client, which the hosted server serves (issue 18).
    page = app.host.page_urls()[0]
    assert page.startswith("https://") and page in app.main_window.hosting_details()
    assert page in label + app.main_window.hosting_label.toolTip()
    unverified = ssl.create_default_context()
    unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE  # self-signed
    with urllib.request.urlopen(page, context=unverified, timeout=10) as reply:
        assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html")
    # The fingerprint sits behind the compact banner, in its details.
    assert for_display(fingerprint) in label + app.main_window.hosting_label.toolTip()
    # ... and it announces itself on the LAN: this very app's list finds it.
    found, port = app.connect_window.join.found.model, app.host.port
    qtbot.waitUntil(lambda: any(s.port == port and s.fingerprint == fingerprint
                                for s in found.servers()), timeout=WAIT_MS * 3)

    questions: list[str] = []

    def answer_cancel() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            questions.append(box.text())
            box.button(QMessageBox.StandardButton.Cancel).click()

    QTimer.singleShot(0, answer_cancel)
    event = QCloseEvent()
    app.main_window.closeEvent(event)
    assert questions and "disconnects 0 other people" in questions[0]
    assert not event.isAccepted() and app.host.running


def test_open_rooms_and_mutes_come_back_after_a_restart(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, hosted_server: ServerThread,
    controllers: list[AppController], memory_keyring: MemoryKeyring,
) -> None:
    first = make(controllers, qapp, tmp_path)
    first.start()
    first.log_in(url_of(hosted_server), "sam", "staff-password", True)
    qtbot.waitUntil(first.main_window.isVisible, timeout=WAIT_MS)
    for room in ("1", "2"):
        first.workspace.open_room(room)
    qtbot.waitUntil(lambda: all(first.client.rooms[r].joined for r in ("1", "2")),
                    timeout=WAIT_MS)
    first.main_window.views["2"].mute_button.click()
    first.quit()
    qtbot.waitUntil(lambda: first.client.state.value == "offline", timeout=WAIT_MS)

    second = make(controllers, qapp, tmp_path)
    second.start()  # remembered: logs in, reopens both rooms, keeps the mute
    qtbot.waitUntil(lambda: set(second.main_window.views) == {"1", "2"}, timeout=WAIT_MS)
    assert second.workspace.rooms.is_muted("2") and not second.workspace.rooms.is_muted("1")
    assert second.main_window.views["2"].mute_button.isChecked()


def test_the_host_form_asks_for_the_admin_only_the_first_time(
    qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    first = make(controllers, qapp, tmp_path)
    first.start()
    assert not first.connect_window.host.admin_repeat.isHidden()
    first.settings.set_hosting(True)
    second = make(controllers, qapp, tmp_path)
    second.start()
    assert second.connect_window.host.admin_repeat.isHidden()
    assert not second.connect_window.host.login_name.isHidden()


# -- trusting a wss:// server's certificate ----------------------------------------------


class Answers:
    """Stands in for the person at the certificate dialog; records what was asked."""

    def __init__(self, *replies: bool) -> None:
        self.replies = list(replies)
        self.asked: list[tuple[str, str, str | None]] = []
        self.announced: list[str | None] = []

    def __call__(self, parent: object, url: str, presented: str, pinned: str | None,
                 announced: str | None = None) -> bool:
        self.asked.append((url, presented, pinned))
        self.announced.append(announced)
        return self.replies.pop(0)


def tls_host(tmp_path: Path, name: str = "") -> ServerThread:
    """A hosting app's server: TLS with its self-signed certificate; one account."""
    from multichat.server.chat.passwords import cheap_passwords
    from multichat.server.config import ServerConfig

    host = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "remote",
                                     tls=True, name=name, advertise=bool(name)),
                        make_server=hashing_with(cheap_passwords()))
    host.start()
    host.create_admin("alice", "alice-password")
    return host


def test_first_use_asks_once_then_the_pin_is_kept(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    host = tls_host(tmp_path)
    try:
        url = f"wss://127.0.0.1:{host.port}"
        first = make(controllers, qapp, tmp_path)
        first.confirm_certificate = answers = Answers(True)
        first.start()
        first.log_in(url, "alice", "alice-password", True)
        qtbot.waitUntil(first.main_window.isVisible, timeout=WAIT_MS)
        assert answers.asked == [(url, host.fingerprint, None)]
        assert first.settings.pin(url) == host.fingerprint
        close_clients(qtbot, [first.client])

        second = make(controllers, qapp, tmp_path)  # the next start, same settings
        second.confirm_certificate = unasked = Answers()
        second.start()  # remember me: logs in with the saved token
        qtbot.waitUntil(second.main_window.isVisible, timeout=WAIT_MS)
        assert unasked.asked == []
    finally:
        host.stop()


def test_a_refused_or_changed_certificate_leaves_the_person_on_the_form(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    host = tls_host(tmp_path)
    try:
        url = f"wss://127.0.0.1:{host.port}"
        app = make(controllers, qapp, tmp_path)
        app.settings.set_pin(url, "alice", ":".join(["AB"] * 32))  # trusted another before
        app.confirm_certificate = answers = Answers(False)
        app.start()
        app.log_in(url, "alice", "alice-password", False)
        form = app.connect_window.join
        qtbot.waitUntil(lambda: not form.error.isHidden(), timeout=WAIT_MS)
        assert answers.asked == [(url, host.fingerprint, ":".join(["AB"] * 32))]
        assert "changed" in form.error.text() and form.submit.isEnabled()
        assert not app.main_window.isVisible()
        assert app.settings.pin(url) == ":".join(["AB"] * 32)  # not replaced by refusing

        app.confirm_certificate = Answers(True)  # now the person accepts it deliberately
        app.log_in(url, "alice", "alice-password", False)
        qtbot.waitUntil(app.main_window.isVisible, timeout=WAIT_MS)
        assert app.settings.pin(url) == host.fingerprint
    finally:
        host.stop()


@pytest.mark.usefixtures("loopback_multicast")
def test_a_server_picked_from_the_lan_list_fills_the_form_and_its_record_is_compared(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    host = tls_host(tmp_path, name="Picked")
    try:
        app = make(controllers, qapp, tmp_path)
        app.confirm_certificate = answers = Answers(True)
        app.start()
        join = app.connect_window.join
        model = join.found.model
        qtbot.waitUntil(lambda: any(s.name == "Picked" for s in model.servers()),
                        timeout=WAIT_MS * 3)
        assert join.found.list.isVisible() and not join.found.empty.isVisible()
        row = next(i for i, s in enumerate(model.servers()) if s.name == "Picked")
        rect = join.found.list.visualRect(model.index(row))
        qtbot.mouseClick(join.found.list.viewport(), Qt.MouseButton.LeftButton,
                         pos=rect.center())
        url = f"wss://127.0.0.1:{host.port}"
        assert join.url() == url
        join.username.setText("alice")
        join.password.setText("alice-password")
        join.submit.click()
        qtbot.waitUntil(app.main_window.isVisible, timeout=WAIT_MS)
        # Still asked (a TXT record is unauthenticated), with the announced one to compare.
        assert answers.asked == [(url, host.fingerprint, None)]
        assert answers.announced == [host.fingerprint]
    finally:
        host.stop()


def test_the_lan_list_says_why_it_may_be_empty(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    app = make(controllers, qapp, tmp_path, StartOptions(discover=False))
    app.start()
    found = app.connect_window.join.found
    assert found.model.rowCount() == 0 and not found.list.isVisible()
    assert found.empty.isVisible()
    assert "multicast" in found.empty.text() and "ws://" in found.empty.text()


def test_the_form_starts_in_its_first_empty_field(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    """A first start types a name first; a return (the last server and name filled in)
    types only its password. The keyboard is where the person will type, no click."""
    first = make(controllers, qapp, tmp_path / "first", StartOptions(discover=False))
    first.start()
    assert first.connect_window.focusWidget() is first.connect_window.join.username
    settings = AppSettings(tmp_path / "again" / "settings.json")
    settings.add_recent_server("ws://127.0.0.1:9", "alice")
    again = AppController(qapp, settings=settings, credentials=CredentialStore(),
                          options=StartOptions(discover=False), backoff=fast_backoff())
    controllers.append(again)
    again.start()
    assert again.connect_window.join.username.text() == "alice"
    assert again.connect_window.focusWidget() is again.connect_window.join.password


# -- connecting, cancelling, the quit rule, the hosting restart ---------------------------


def silent_url() -> tuple[socket.socket, str]:
    """A listening socket that never answers, and its ws:// address."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    return listener, f"ws://127.0.0.1:{listener.getsockname()[1]}"


def test_no_answer_is_told_on_the_form_and_the_form_is_editable(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    app = AppController(qapp, settings=AppSettings(tmp_path / "settings.json"),
                        credentials=CredentialStore(), backoff=fast_backoff(),
                        open_timeout=0.5, options=StartOptions(discover=False))
    controllers.append(app)
    app.start()
    listener, url = silent_url()
    with listener:
        form = app.connect_window.join
        app.log_in(url, "alice", "alice-password", False)
        assert not form.username.isEnabled() and form.cancel.isVisible()
        qtbot.waitUntil(lambda: not form.error.isHidden(), timeout=WAIT_MS)
    assert form.error.text().startswith(f"No answer from {url.removeprefix('ws://')}")
    for field in (form.server, form.username, form.password, form.submit):
        assert field.isEnabled()
    assert not form.cancel.isVisible() and app.connect_window.isVisible()


def test_cancel_stops_the_attempt_at_once(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    app = make(controllers, qapp, tmp_path, StartOptions(discover=False))
    app.start()
    listener, url = silent_url()
    with listener:
        form = app.connect_window.join
        app.log_in(url, "alice", "alice-password", False)
        qtbot.mouseClick(form.cancel, Qt.MouseButton.LeftButton)
        assert form.submit.isEnabled() and form.username.isEnabled()
        assert form.error.isHidden() and not form.cancel.isVisible()
        # Back in the form, not on the hidden Cancel: its first empty field (nothing
        # was typed here).
        assert app.connect_window.focusWidget() is form.username
        qtbot.waitUntil(lambda: app.client.state.value == "offline", timeout=WAIT_MS)


def test_closing_the_connect_window_quits(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    app = make(controllers, qapp, tmp_path, StartOptions(discover=False))
    app.start()
    with qtbot.waitSignal(app.finished, timeout=WAIT_MS):
        app.connect_window.close()


@pytest.mark.usefixtures("loopback_multicast")
def test_closing_while_hosting_asks_and_cancel_keeps_it_running(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    app = make(controllers, qapp, tmp_path, StartOptions(data_dir=tmp_path / "hosted",
                                                         discover=False))
    app.start()
    app.start_hosting(0, "boss", "boss-password")
    qtbot.waitUntil(app.main_window.isVisible, timeout=WAIT_MS)
    asked: list[tuple[str, bool]] = []

    def cancel(parent: object, people: str, tray: bool) -> StopHosting:
        asked.append((people, tray))
        return StopHosting.CANCEL

    app.confirm_stop_hosting = cancel
    finished: list[bool] = []
    app.finished.connect(lambda: finished.append(True))
    app.main_window.close()
    assert asked == [("0 other people", app.notifier.tray_available)]
    assert app.main_window.isVisible() and app.host is not None and app.host.running
    qapp.processEvents()
    assert finished == []


@pytest.mark.parametrize("tray", [True, False])
def test_stop_hosting_defaults_to_the_safe_button(qtbot: QtBot, tray: bool) -> None:
    box = stop_hosting_box(None, "2 other people", tray)
    qtbot.addWidget(box)
    words = [button.text() for button in box.buttons()]
    assert "Stop hosting and quit" in words
    assert ("Keep running in the tray" in words) is tray
    default = box.defaultButton()
    assert default is not None and default.text() != "Stop hosting and quit"
    assert box.escapeButton() is box.button(QMessageBox.StandardButton.Cancel)


def test_after_hosting_a_restart_opens_on_the_host_tab(
    qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    settings = AppSettings(tmp_path / "settings.json")
    settings.set_hosting(True)
    settings.set_pin("wss://127.0.0.1:4567", "boss", ":".join(["AB"] * 32))
    app = make(controllers, qapp, tmp_path, StartOptions(discover=False))
    app.start()
    window, host = app.connect_window, app.connect_window.host
    assert window.isVisible() and window.tabs.currentWidget() is host
    assert not host.login_password.isHidden() and host.admin_repeat.isHidden()
    assert host.port.value() == 4567 and host.login_name.text() == "boss"
    assert host.submit.text() == "Start hosting again"


def test_a_room_made_staff_only_leaves_alice_a_closed_tab_that_says_why(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, hosted_server: ServerThread,
    controllers: list[AppController], memory_keyring: MemoryKeyring,
) -> None:
    from multichat.protocol import commands as cmd

    app = make(controllers, qapp, tmp_path, StartOptions(discover=False))
    signed_in_as_alice(qtbot, app, hosted_server)
    app.workspace.open_room("1")
    qtbot.waitUntil(lambda: "1" in app.client.rooms and app.client.rooms["1"].joined,
                    timeout=WAIT_MS)
    view = app.main_window.views["1"]
    admin = make(controllers, qapp, tmp_path / "admin", StartOptions(discover=False))
    admin.log_in(url_of(hosted_server), "admin", "admin-password", False)
    qtbot.waitUntil(lambda: admin.client.account is not None, timeout=WAIT_MS)
    admin.client.admin(cmd.UpdateRoom(room=1, staff_only=True))
    qtbot.waitUntil(lambda: view.closed, timeout=WAIT_MS)
    assert "removed from this room" in view.banner.text() and not view.banner.isHidden()
    assert not view.input.isEnabled() and not view.send_button.isEnabled()
    assert not view.leave_button.isEnabled()


# -- one attempt at a time, remembered logins on screen, Cancel that wins ----------------


@pytest.mark.usefixtures("loopback_multicast")
def test_hosting_while_a_join_attempt_connects_ends_that_attempt(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    app = make(controllers, qapp, tmp_path, StartOptions(data_dir=tmp_path / "hosted",
                                                         discover=False))
    app.start()
    listener, url = silent_url()
    with listener:
        join, host = app.connect_window.join, app.connect_window.host
        app.log_in(url, "alice", "alice-password", False)
        assert not join.submit.isEnabled() and join.cancel.isVisible()
        app.start_hosting(0, "boss", "boss-password")  # raised "already open" before
        # The Join form is free again; the Host form is the busy one now.
        assert join.submit.isEnabled() and join.username.isEnabled()
        assert not join.cancel.isVisible() and join.progress.text() == ""
        assert not host.submit.isEnabled()
        qtbot.waitUntil(app.main_window.isVisible, timeout=WAIT_MS)
    assert app.client.account is not None and app.client.account.username == "boss"
    assert host.submit.isEnabled() and join.submit.isEnabled()


def test_a_remembered_login_shows_the_connect_window_busy_with_cancel(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    listener, url = silent_url()
    with listener:
        settings = AppSettings(tmp_path / "settings.json")
        settings.add_recent_server(url, "alice")
        settings.set_remember_me(True)
        CredentialStore().save_token(url, "alice", "a-saved-token")
        app = AppController(qapp, settings=AppSettings(tmp_path / "settings.json"),
                            credentials=CredentialStore(), backoff=fast_backoff(),
                            open_timeout=0.5, options=StartOptions(discover=False))
        controllers.append(app)
        app.start()
        join = app.connect_window.join
        # On screen at once, saying what it does, with a way out.
        assert app.connect_window.isVisible() and not app.main_window.isVisible()
        assert app.connect_window.tabs.currentWidget() is join
        assert join.cancel.isVisible() and not join.submit.isEnabled()
        assert url in join.progress.text() and join.username.text() == "alice"
        # A dead server ends as words on the form, not as no window at all.
        qtbot.waitUntil(lambda: not join.error.isHidden(), timeout=WAIT_MS)
    assert join.error.text().startswith("No answer from")
    assert join.submit.isEnabled() and not join.cancel.isVisible()


def test_a_login_reply_after_cancel_opens_nothing(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, hosted_server: ServerThread,
    controllers: list[AppController], memory_keyring: MemoryKeyring,
) -> None:
    app = make(controllers, qapp, tmp_path, StartOptions(discover=False))
    app.start()
    app.log_in(url_of(hosted_server), "alice", "alice-password", True)
    app.cancel_connecting()
    assert app.client.state.value == "offline" and not app.client.running
    # A login that was already queued when Cancel was clicked comes in anyway.
    app.client.loggedIn.emit(UserInfo("alice", is_staff=False, is_superuser=False),
                             "a-late-token")
    qapp.processEvents()
    assert not app.main_window.isVisible() and app.connect_window.isVisible()
    assert app.client.state.value == "offline" and memory_keyring.secrets == {}
    join = app.connect_window.join
    assert join.submit.isEnabled() and join.error.isHidden()


# Offscreen has no raise() (the tray's Show raises the window) and no tray window.
OFFSCREEN_TRAY = pytest.mark.qt_log_ignore("This plugin does not support raise",
                                           "systemTrayWindowChanged")


@OFFSCREEN_TRAY
def test_the_trays_show_brings_the_connect_window_when_logged_out(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    app = make(controllers, qapp, tmp_path, StartOptions(discover=False))
    app.start()
    app.connect_window.hide()
    app.notifier.showRequested.emit()
    assert app.connect_window.isVisible() and not app.main_window.isVisible()


# -- the quit rule with and without a tray ------------------------------------------------


def with_tray(controllers: list[AppController], qapp: QApplication, tmp_path: Path,
              tray: bool) -> AppController:
    app = AppController(qapp, settings=AppSettings(tmp_path / "settings.json"),
                        credentials=CredentialStore(), backoff=fast_backoff(),
                        options=StartOptions(discover=False), tray=tray)
    controllers.append(app)
    return app


@OFFSCREEN_TRAY
def test_with_a_tray_closing_the_main_window_keeps_the_app_in_the_tray_and_says_so_once(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, hosted_server: ServerThread,
    controllers: list[AppController], memory_keyring: MemoryKeyring,
) -> None:
    app = with_tray(controllers, qapp, tmp_path, tray=True)
    signed_in_as_alice(qtbot, app, hosted_server)
    finished: list[bool] = []
    app.finished.connect(lambda: finished.append(True))
    told: list[str] = []
    app.notifier.delivered.connect(lambda route, title, body: told.append(body))
    app.main_window.close()
    assert not app.main_window.isVisible() and not app.connect_window.isVisible()
    qtbot.waitUntil(lambda: len(told) == 1, timeout=WAIT_MS)
    assert told == ["Multichat keeps running in the tray — quit from its menu."]
    assert app.client.state.value == "online" and finished == []
    app.notifier.showRequested.emit()  # the tray's Show: back as it was
    assert app.main_window.isVisible()
    app.main_window.close()
    qapp.processEvents()
    assert not app.main_window.isVisible() and len(told) == 1 and finished == []
    # Said once for good: the next run keeps quiet too.
    assert AppSettings(tmp_path / "settings.json").told_about_tray()


def test_without_a_tray_closing_the_main_window_quits(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, hosted_server: ServerThread,
    controllers: list[AppController], memory_keyring: MemoryKeyring,
) -> None:
    app = with_tray(controllers, qapp, tmp_path, tray=False)
    signed_in_as_alice(qtbot, app, hosted_server)
    with qtbot.waitSignal(app.finished, timeout=WAIT_MS):
        app.main_window.close()


def test_mute_all_is_kept_for_the_next_run(
    qapp: QApplication, tmp_path: Path, controllers: list[AppController],
    memory_keyring: MemoryKeyring,
) -> None:
    first = make(controllers, qapp, tmp_path, StartOptions(discover=False))
    first.notifier.mute_action.trigger()
    second = make(controllers, qapp, tmp_path, StartOptions(discover=False))
    assert second.notifier.muted


# -- read positions: the server's; an earlier version's settings move over ----------------


def read_seq_on_server(qtbot: QtBot, client: ChatClient, room: str) -> int:
    """This user's read position of ``room`` as a fresh room list tells it."""
    with qtbot.waitSignal(client.roomsChanged, timeout=WAIT_MS) as listed:
        client.refresh_rooms()
    rooms: list[RoomInfo] = listed.args[0]
    return next(info.read_seq for info in rooms if str(info.id) == room)


def test_read_positions_an_earlier_version_kept_move_to_the_server_and_leave_the_file(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, hosted_server: ServerThread,
    controllers: list[AppController], memory_keyring: MemoryKeyring,
    make_client: Callable[[], ChatClient],
) -> None:
    bob = make_client()
    log_in(qtbot, bob, hosted_server, BOB)
    bob.join("1")
    qtbot.waitUntil(lambda: bob.rooms["1"].joined, timeout=WAIT_MS)
    for text in ("one", "two", "three"):
        bob.send("1", text)
    qtbot.waitUntil(lambda: len(bob.outbox) == 0, timeout=WAIT_MS)
    url = url_of(hosted_server)
    (tmp_path / "settings.json").write_text(
        json.dumps({"read_seqs": {server_key(url): {"1": 2}}}), encoding="utf-8")

    app = make(controllers, qapp, tmp_path, StartOptions(discover=False))
    signed_in_as_alice(qtbot, app, hosted_server)
    qtbot.waitUntil(lambda: app.workspace.rooms.unread("1") == 1, timeout=WAIT_MS)
    assert not AppSettings(tmp_path / "settings.json").read_seqs_kept(url)
    checker = make_client()
    log_in(qtbot, checker, hosted_server, ALICE)
    qtbot.waitUntil(lambda: read_seq_on_server(qtbot, checker, "1") == 2, timeout=WAIT_MS)


def test_what_was_read_last_reaches_the_server_at_quit(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, hosted_server: ServerThread,
    controllers: list[AppController], memory_keyring: MemoryKeyring,
    make_client: Callable[[], ChatClient],
) -> None:
    bob = make_client()
    log_in(qtbot, bob, hosted_server, BOB)
    bob.join("1")
    qtbot.waitUntil(lambda: bob.rooms["1"].joined, timeout=WAIT_MS)
    app = make(controllers, qapp, tmp_path, StartOptions(discover=False))
    signed_in_as_alice(qtbot, app, hosted_server)
    app.main_window.open_room("1")
    app.workspace.set_window_active(True)
    qtbot.waitUntil(lambda: app.client.rooms["1"].joined, timeout=WAIT_MS)
    for text in ("one", "two"):  # read as they come, well within a second
        bob.send("1", text)
    qtbot.waitUntil(lambda: app.workspace.read_seq("1") == 2, timeout=WAIT_MS)
    with qtbot.waitSignal(app.finished, timeout=WAIT_MS):
        app.quit()
    checker = make_client()
    log_in(qtbot, checker, hosted_server, ALICE)
    assert read_seq_on_server(qtbot, checker, "1") == 2
