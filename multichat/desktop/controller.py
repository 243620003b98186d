"""The app's flows: from the connect screen to the main window and back, hosting, closing.

``AppController`` owns the ChatClient, the workspace, the windows and the
services, and connects them: this is the one place where signals meet slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from PySide6.QtCore import QByteArray, QObject, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from multichat.desktop.client import ChatClient
from multichat.desktop.client.backoff import Backoff
from multichat.desktop.client.chat_client import OPEN_TIMEOUT
from multichat.desktop.notifications import Notifier
from multichat.desktop.services.credentials import CredentialStore, server_key
from multichat.desktop.services.discovery import LanBrowser
from multichat.desktop.services.settings import AppSettings, RecentServer
from multichat.desktop.widgets.admin_dialog import AdminDialog
from multichat.desktop.widgets.certificate_dialog import ask_to_trust
from multichat.desktop.widgets.connect_window import ConnectWindow, HostForm, JoinForm
from multichat.desktop.widgets.main_window import MainWindow
from multichat.desktop.workspace import Workspace
from multichat.protocol.frames import RoomInfo, UserInfo

if TYPE_CHECKING:
    from multichat.desktop.services.hosting import ServerThread

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StartOptions:
    """How the app was started: interactively, or scripted from the command line."""

    server: str | None = None
    username: str | None = None
    password: str | None = None
    join: list[str] = field(default_factory=list)
    data_dir: Path | None = None  # where a hosted server keeps its database
    host_interface: str = ""  # where a hosted server listens; "" is every interface
    discover: bool = True  # list the servers on the LAN on the connect screen


class StopHosting(enum.Enum):
    """The answers to "Stop hosting?" when the last window closes."""

    CANCEL = "cancel"
    KEEP_IN_TRAY = "tray"
    QUIT = "quit"


def stop_hosting_box(parent: QWidget | None, people: str, tray: bool) -> QMessageBox:
    """The question, with buttons that say what they do; Enter and Esc keep the chat up."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Stop hosting?")
    box.setText(f"This computer hosts the chat. Quitting Multichat disconnects {people}.")
    if tray:
        box.setInformativeText("It can keep running in the tray instead, chat and all.")
        keep = box.addButton("Keep running in the tray", QMessageBox.ButtonRole.AcceptRole)
    stop = box.addButton("Stop hosting and quit", QMessageBox.ButtonRole.DestructiveRole)
    stop.setObjectName("stopHosting")
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(keep if tray else cancel)  # Enter never cuts everyone off
    box.setEscapeButton(cancel)
    return box


def ask_to_stop_hosting(parent: QWidget | None, people: str, tray: bool) -> StopHosting:
    box = stop_hosting_box(parent, people, tray)
    box.exec()
    clicked = box.clickedButton()
    if clicked is None or clicked is box.button(QMessageBox.StandardButton.Cancel):
        return StopHosting.CANCEL
    if clicked.objectName() == "stopHosting":
        return StopHosting.QUIT
    return StopHosting.KEEP_IN_TRAY


TRAY_WORDS = ("Multichat keeps running in the tray",
              "Multichat keeps running in the tray — quit from its menu.")


class AppController(QObject):
    """Signals: finished() when the person quits.

    The quit rule: closing the last window quits, unless the app hosts a chat (then
    it asks, and where a tray works it may keep running there) or, logged in, sits
    in a working tray: then closing the main window hides it to the tray, and the
    first time says so. Closing the connect window with nothing hosted quits.

    One connection attempt at a time: starting one (Join, Host, a remembered login)
    ends any still running first, and the form it began on is the one busy with it.
    """

    finished = Signal()

    def __init__(
        self,
        app: QApplication,
        *,
        settings: AppSettings,
        credentials: CredentialStore,
        icon: QIcon | None = None,
        options: StartOptions | None = None,
        backoff: Backoff | None = None,
        open_timeout: float = OPEN_TIMEOUT,
        tray: bool | None = None,
    ) -> None:
        """``tray``: whether a system tray works (None: ask Qt), as for ``Notifier``."""
        super().__init__()
        self.app = app
        self.settings = settings
        self.credentials = credentials
        self.options = options or StartOptions()
        self.icon = icon
        self.client = ChatClient(self, backoff=backoff, open_timeout=open_timeout)
        self.workspace = Workspace(self.client, self)
        self.connect_window = ConnectWindow(icon)
        self.main_window = MainWindow(self.workspace, icon)
        self.notifier = Notifier(icon, self, tray=tray)
        self.admin_dialog: AdminDialog | None = None
        self.host: ServerThread | None = None
        self.lan = LanBrowser(self)
        self._announced: dict[str, str] = {}  # server key -> fingerprint its record carries
        self._remember = False
        self._pending_joins: list[str] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        # Asks the person to trust a wss:// server's certificate; tests answer for them.
        self.confirm_certificate = ask_to_trust
        # Asks before closing the last window stops a hosted chat; tests answer for them.
        self.confirm_stop_hosting = ask_to_stop_hosting
        # The form the running connection attempt began on; None when none runs.
        self._attempt: JoinForm | HostForm | None = None
        self._signed_in = False  # the main window is the one in use (else the connect one)
        self._logging_out = False
        credentials.on_unavailable = self._keyring_unavailable
        if credentials.unavailable_reason is not None:  # found out before we listened
            self._keyring_unavailable(credentials.unavailable_reason)
        self._wire()

    # -- wiring ------------------------------------------------------------------------

    def _wire(self) -> None:
        client, main = self.client, self.main_window
        self.connect_window.join.submitted.connect(self.log_in)
        self.connect_window.join.cancelled.connect(self.cancel_connecting)
        self.connect_window.host.cancelled.connect(self.cancel_connecting)
        self.connect_window.host.submitted.connect(self.start_hosting)
        self.connect_window.closeRequested.connect(self._connect_close_requested)
        found = self.connect_window.join.found.model
        self.lan.serverFound.connect(found.upsert)
        self.lan.serverLost.connect(found.remove)
        self.connect_window.join.serverChosen.connect(self._server_chosen)
        client.stateChanged.connect(main.set_connection_state)
        client.loggedIn.connect(self._logged_in)
        client.loginFailed.connect(self._login_failed)
        client.connectFailed.connect(self._login_failed)
        client.sessionEnded.connect(self._session_ended)
        client.accountChanged.connect(main.set_account)
        client.errorOccurred.connect(self._error)
        client.roomsChanged.connect(self._rooms_listed)
        client.roomJoined.connect(self._room_joined)
        client.roomRemoved.connect(main.show_room_error)
        client.certificateUntrusted.connect(self._certificate_untrusted)
        main.logoutRequested.connect(self.log_out)
        main.adminRequested.connect(self.show_admin)
        main.reconnectRequested.connect(client.reconnect_now)
        main.closeRequested.connect(self._main_close_requested)
        self.workspace.notificationRequested.connect(self.notifier.notify)
        self.workspace.mutedChanged.connect(self._muted_changed)
        self.workspace.rooms.totalsChanged.connect(self.notifier.set_totals)
        self.notifier.activated.connect(self._notification_clicked)
        self.notifier.showRequested.connect(self._show_main_window)
        self.notifier.quitRequested.connect(self.quit)  # the tray menu's Quit
        self.notifier.mutedChanged.connect(self._all_muted)
        self.notifier.set_window(main)  # alerted when no notification can show
        self.notifier.set_muted(self.settings.all_muted())
        main.set_theme_choice(self.settings.theme())
        main.themeChosen.connect(self.settings.set_theme)
        main.files.folder = self.settings.downloads_folder()
        main.downloadsFolderChosen.connect(self.settings.set_downloads_folder)

    # -- starting ----------------------------------------------------------------------

    def start(self) -> None:
        """Log in with what we have (command line, saved login), else show the connect form."""
        recent = self.settings.recent_servers()
        self.connect_window.join.set_recent(recent)
        if self.options.discover:
            self._spawn(self._browse())
        hosted_before = self.settings.hosting()
        self.connect_window.host.set_first_run(not hosted_before)
        if hosted_before:
            self._offer_hosting_again(recent)
        options = self.options
        if options.server and options.username:
            self._pending_joins = list(options.join)
            token = self.credentials.load_token(options.server, options.username)
            password = options.password or self.credentials.load_password(
                options.server, options.username
            )
            self.connect_window.join.server.setEditText(options.server)
            self.connect_window.join.username.setText(options.username)
            if token or password:
                self._begin_shown(options.server, options.username, password=password,
                                  token=token)
                return
            self.connect_window.join.show_error("Enter your password to log in.")
        elif recent and self.settings.remember_me():
            last = recent[0]
            token = self.credentials.load_token(last.url, last.username)
            if token:
                self._remember = True
                self._begin_shown(last.url, last.username, token=token)
                return
        self.connect_window.show()
        if hosted_before:
            self.connect_window.show_host_tab()
        else:
            self.connect_window.join.focus_first_empty()
        self._after_first_window()

    def _after_first_window(self) -> None:
        """What need not delay the first window: finding the keyring (a notice on the
        form when there is none). Browsing the LAN was spawned above and, like this,
        runs once the loop turns."""
        QTimer.singleShot(0, self.credentials.check)

    def _begin_shown(self, url: str, username: str, *, password: str | None = None,
                     token: str | None = None) -> None:
        """A login nobody typed (remembered, scripted): on screen at once, busy, with
        Cancel, so a dead server shows as the form's error, not as no window at all."""
        self.connect_window.tabs.setCurrentWidget(self.connect_window.join)
        self.connect_window.show()
        self._begin(url, username, password=password, token=token)
        self._after_first_window()

    def _offer_hosting_again(self, recent: list[RecentServer]) -> None:
        """This app hosted before: its own address is dead until it hosts again, so the
        Host tab comes first, filled with last time's port and login."""
        own = next((entry for entry in recent if _is_own_server(entry.url)), None)
        if own is not None:
            port = urlsplit(own.url).port
            if port is not None:
                self.connect_window.host.set_last_hosted(port, own.username)

    async def _browse(self) -> None:
        await self.lan.start()
        if self.lan.error is not None:
            self.connect_window.join.found.set_unavailable(self.lan.error)

    def _server_chosen(self, url: str, fingerprint: str) -> None:
        if fingerprint:
            self._announced[server_key(url)] = fingerprint

    def log_in(self, url: str, username: str, password: str, remember: bool) -> None:
        self._remember = remember
        self._begin(url, username, password=password)

    def _begin(self, url: str, username: str, *, password: str | None = None,
               token: str | None = None, form: JoinForm | HostForm | None = None) -> None:
        """Start an attempt on ``form`` (the Join form by default), ending any running."""
        self._stop_attempt()
        self._attempt = form or self.connect_window.join
        self._attempt.show_error("")
        self._attempt.set_busy(True, f"Connecting to {url} …")
        self.client.open(url, username, password=password, token=token,
                         pin=self.settings.pin(url))

    def _stop_attempt(self) -> JoinForm | HostForm | None:
        """End the running attempt now (the client offline before this returns) and free
        its form; the form it was, if any."""
        form, self._attempt = self._attempt, None
        if form is not None:
            form.set_busy(False)
        if self.client.running and not self._signed_in:
            self.client.cancel()
        return form

    def cancel_connecting(self) -> None:
        """Stop the attempt now: the form is editable at once, and a login reply already
        on its way is never read (the client is cancelled synchronously)."""
        form = self._stop_attempt() or self.connect_window.join
        form.show_error("")
        self.connect_window.show()
        if isinstance(form, JoinForm):
            form.focus_to_retry()

    def _end_attempt(self, words: str) -> None:
        """An attempt ended without a session: words on its form, the form editable."""
        form, self._attempt = self._attempt or self.connect_window.join, None
        form.set_busy(False)
        if isinstance(form, JoinForm):
            form.focus_to_retry()
        else:
            self.connect_window.show_host_tab()
        form.show_error(words)

    def _certificate_untrusted(self, url: str, presented: str, pinned: str) -> None:
        # The client emits this from inside its task; a modal dialog there would run a
        # nested event loop inside an asyncio step. Ask from Qt's loop instead.
        QTimer.singleShot(0, lambda: self._ask_trust(url, presented, pinned or None))

    def _ask_trust(self, url: str, presented: str, pinned: str | None) -> None:
        if self._attempt is None:
            return  # cancelled (or another attempt began) while the question waited
        parent = self.main_window if self.main_window.isVisible() else self.connect_window
        announced = self._announced.get(server_key(url))
        if self.confirm_certificate(parent, url, presented, pinned, announced):
            self.settings.set_pin(url, self.client.username, presented)
            self.client.trust(presented)
            return
        words = ("Not connected: the server's certificate was not confirmed."
                 if pinned is None else
                 "Not connected: the server's certificate has changed and was not accepted.")
        self._end_attempt(words)
        self._signed_in = False
        self.main_window.hide()
        self.connect_window.show()

    def _logged_in(self, account: UserInfo, token: str) -> None:
        if not self._signed_in:
            self._first_login(account, token)
        if self._signed_in:
            self.main_window.set_account(account)

    def _first_login(self, account: UserInfo, token: str) -> None:
        if self._attempt is None:
            # No attempt runs (it was cancelled): a late reply opens nothing, and the
            # client stays offline as Cancel left it.
            self.client.cancel()
            return
        url, username = self.client.url, account.username
        self.settings.add_recent_server(url, username)
        self.settings.set_remember_me(self._remember)
        if self._remember:
            self.credentials.save_token(url, username, token)
        self._attempt.set_busy(False)
        self._attempt = None
        self._signed_in = True
        self.connect_window.join.password.clear()
        self.connect_window.hide()
        self._restore_layout()
        # Read positions this app kept before the server did: moved over to the server
        # with the first room list (see Workspace), then forgotten here.
        self.workspace.read_positions_from(lambda room: self.settings.read_seq(url, room))
        for room in self.settings.muted_rooms(url):
            self.workspace.set_muted(room, True)
        self.main_window.show()
        wanted = self._pending_joins or self.settings.open_rooms(url)
        self._pending_joins = wanted if self.options.join else []
        for room in wanted:
            if room.isascii() and room.isdigit():
                self.workspace.open_room(room)

    def _rooms_listed(self, rooms: list[RoomInfo]) -> None:
        if self.client.url and self.settings.read_seqs_kept(self.client.url):
            # The workspace (connected first) has sent them to the server by now.
            self.settings.forget_read_seqs(self.client.url)
        # --join may name rooms by title; ids are known once the list arrives.
        if not self._pending_joins:
            return
        by_title = {room.title.casefold(): str(room.id) for room in rooms}
        for wanted in self._pending_joins:
            is_id = wanted.isascii() and wanted.isdigit()
            room = wanted if is_id else by_title.get(wanted.casefold())
            if room is None:
                self.main_window.statusBar().showMessage(f"There is no room “{wanted}”.", 10_000)
            elif room not in self.workspace.messages:
                self.workspace.open_room(room)

    def _room_joined(self, room: str, title: str) -> None:
        # A direct conversation's title is its other members, as the room list shows it.
        self.main_window.set_room_title(room, self.workspace.title(room) or title)
        wanted = [w.casefold() for w in self._pending_joins]
        if wanted and (room in wanted or title.casefold() in wanted):
            last = wanted[-1]
            if last in (room, title.casefold()):
                self._pending_joins = []
                self.main_window.show_room(room)  # focus in its input, ready to type
        self._save_layout()

    def _login_failed(self, words: str) -> None:
        self._signed_in = False
        if self.main_window.isVisible():
            self.main_window.hide()
        self._end_attempt(words)
        self.connect_window.show()

    def _session_ended(self, words: str) -> None:
        if self.client.url and self.client.username:
            self.credentials.forget(self.client.url, self.client.username)
        self._save_layout()
        self._signed_in = False
        self._attempt = None
        self.main_window.hide()
        join = self.connect_window.join
        join.set_busy(False)
        if self._logging_out:  # asked for: news, not an error
            self._logging_out = False
            join.show_info(words)
        else:
            join.show_error(words)
        self.connect_window.tabs.setCurrentWidget(join)
        self.connect_window.show()
        join.focus_to_retry()

    def _error(self, room: str, code: str, words: str) -> None:
        self.main_window.show_room_error(room, words)

    def _keyring_unavailable(self, reason: str) -> None:
        self.connect_window.join.set_keyring_unavailable(reason)
        self.main_window.statusBar().showMessage(
            "Cannot remember your login here: no working keyring.", 15_000
        )

    # -- what the person does in the main window ------------------------------------------

    def log_out(self) -> None:
        self.workspace.flush_reads()
        self._save_layout()
        self._logging_out = True
        self._spawn(self.client.logout())

    def show_admin(self) -> None:
        if self.admin_dialog is None:
            self.admin_dialog = AdminDialog(self.client, self.main_window)
        self.admin_dialog.show()
        self.admin_dialog.raise_()

    def _muted_changed(self, muted: list[str]) -> None:
        if self.client.url:
            self.settings.set_muted_rooms(self.client.url, muted)

    def _show_main_window(self) -> None:
        """The tray's Show: the window in use, the main one or (logged out) the connect one."""
        window: QWidget = self.main_window if self._signed_in else self.connect_window
        window.show()
        window.raise_()
        window.activateWindow()

    def _all_muted(self, muted: bool) -> None:
        self.settings.set_all_muted(muted)

    def _notification_clicked(self, room: str) -> None:
        self._show_main_window()
        if room in self.main_window.views:
            self.main_window.show_room(room)
        else:  # a direct conversation not open here yet
            self.main_window.open_room(room)

    # -- hosting --------------------------------------------------------------------------

    def start_hosting(self, port: int, username: str, password: str) -> None:
        # The server (its store, peewee, Argon2, the TLS code) is imported when the
        # person hosts, not before the first window: most starts never host.
        from multichat.desktop.services.hosting import ServerThread  # noqa: PLC0415
        from multichat.server.config import ServerConfig, default_data_dir  # noqa: PLC0415
        from multichat.server.net import ServerError  # noqa: PLC0415

        form = self.connect_window.host
        data_dir = self.options.data_dir or default_data_dir() / "hosted"
        # TLS on: a self-signed certificate made once in the data dir; this app pins its
        # own server's at once, the others confirm the fingerprint shown with the addresses.
        config = ServerConfig(host=self.options.host_interface, port=port, data_dir=data_dir,
                              tls=True)
        if self.host is None:
            host = ServerThread(config)
            try:
                host.start()
            except (OSError, ServerError) as exc:
                form.show_error(_hosting_words(exc, port))
                return
            self.host = host
        try:
            if not self.host.has_users():
                self.host.create_admin(username, password)
        except ServerError as exc:
            form.show_error(str(exc))
            return
        form.set_first_run(False)  # the admin exists now: a retry logs in to it
        form.set_last_hosted(self.host.port, username)
        fingerprint = self.host.fingerprint
        form.show_addresses(self.host.urls(), fingerprint)
        self.main_window.set_hosting(self.host.urls(), fingerprint, self.host.page_urls())
        self.settings.set_hosting(True)
        self._remember = False
        url = f"wss://127.0.0.1:{self.host.port}"
        if fingerprint is not None:
            self.settings.set_pin(url, username, fingerprint)
        self._begin(url, username, password=password, form=form)

    def _main_close_requested(self, event: QCloseEvent) -> None:
        self._last_window_closed(event, self.main_window)

    def _connect_close_requested(self, event: QCloseEvent) -> None:
        if self.main_window.isVisible():
            return  # not the last window
        self._last_window_closed(event, self.connect_window)

    def _last_window_closed(self, event: QCloseEvent, window: QWidget) -> None:
        """The quit rule (see the class): hosting asks; logged in with a tray, the main
        window goes to the tray; else quit."""
        if self.host is not None and self.host.running:
            answer = self._may_stop_hosting(window)
        elif window is self.main_window and self.notifier.tray_available:
            answer = StopHosting.KEEP_IN_TRAY
        else:
            answer = StopHosting.QUIT
        if answer is StopHosting.QUIT:
            event.accept()
            self.quit()
            return
        event.ignore()
        if answer is StopHosting.KEEP_IN_TRAY:
            window.hide()
            self._save_layout()
            if not self.settings.told_about_tray():
                self.settings.set_told_about_tray(True)
                self.notifier.inform(*TRAY_WORDS)

    def _may_stop_hosting(self, parent: QWidget) -> StopHosting:
        """Ask before cutting everyone off; offer the tray where there is one."""
        assert self.host is not None
        others = max(0, self.host.connection_count() - (1 if self.client.account else 0))
        people = f"{others} other {'person' if others == 1 else 'people'}"
        return self.confirm_stop_hosting(parent, people, self.notifier.tray_available)

    def quit(self) -> None:
        self.workspace.flush_reads()  # the last second's reading, to the server
        self._save_layout()
        self._spawn(self._shutdown())

    async def _shutdown(self) -> None:
        await self.lan.stop()
        await self.client.close()
        if self.host is not None:
            await asyncio.to_thread(self.host.stop)  # off the GUI thread: no frozen window
        self.notifier.hide()
        self.finished.emit()

    # -- remembering the layout ----------------------------------------------------------

    def _save_layout(self) -> None:
        if not self.client.url:
            return
        self.settings.set_open_rooms(self.client.url, self.workspace.open_rooms())
        geometry = _base64(self.main_window.saveGeometry())
        state = _base64(self.main_window.saveState())
        self.settings.set_window(geometry, state)

    def _restore_layout(self) -> None:
        window = self.settings.window()
        if window.geometry:
            self.main_window.restoreGeometry(QByteArray.fromBase64(window.geometry.encode()))
        if window.state:
            self.main_window.restoreState(QByteArray.fromBase64(window.state.encode()))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _is_own_server(url: str) -> bool:
    """The address this app logs in to its hosted server at (``start_hosting``'s)."""
    return url.lower().startswith("wss://127.0.0.1:")


def _base64(data: QByteArray) -> str:
    return bytes(data.toBase64().data()).decode("ascii")


def _hosting_words(exc: BaseException, port: int) -> str:
    if isinstance(exc, OSError) and "address already in use" in str(exc).lower():
        return f"Port {port} is in use by another program: choose another port."
    with contextlib.suppress(Exception):
        return f"Cannot host here: {exc}"
    return "Cannot host here."
