"""The first screen: join a server, or host a chat on this computer.

Plain data in (recent servers, whether hosting needs an admin account), user
intentions out as signals; errors are shown on the form they belong to. The
window never opens larger than the screen (at ``QT_SCALE_FACTOR=2`` a 1280x800
screen is 640x400), and the card scrolls, so Log in stays within reach.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop.models.found_servers import FoundServerModel, FoundServerRole
from multichat.desktop.services.settings import RecentServer
from multichat.desktop.widgets.screen_fit import ScreenFit
from multichat.protocol.fingerprint import for_display
from multichat.protocol.passwords import check_password
from multichat.server.config import DEFAULT_PORT

DEFAULT_URL = f"ws://localhost:{DEFAULT_PORT}"
DEFAULT_SIZE = QSize(560, 640)  # shrunk to the screen's free area


class _FormError(QLabel):
    """A red line under a form; empty and hidden until something goes wrong."""

    def __init__(self, name: str = "formError") -> None:
        super().__init__()
        self.setObjectName(name)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_words(self, words: str) -> None:
        self.setText(words)
        self.setVisible(bool(words))


NOTHING_FOUND_LINE = "No server found on this network yet."
NOTHING_FOUND_WHY = (
    "Servers announce themselves by multicast, which some networks drop (guest Wi-Fi, "
    "VPNs) or a firewall blocks (UDP 5353), and which stays inside one subnet. Type the "
    "server's address below instead, e.g. ws://192.168.1.20:8765."
)
NOTHING_FOUND = f"{NOTHING_FOUND_LINE} {NOTHING_FOUND_WHY}"


PLAIN_WARNING = (
    "Not encrypted (ws://): anyone on this network can read your password and messages. "
    "Use wss:// if the server offers it."
)


def crosses_network_in_clear(url: str) -> bool:
    """A ws:// address that leaves this computer: worth a warning before a password goes."""
    parts = urlsplit(url.strip() if "://" in url else f"ws://{url.strip()}")
    return parts.scheme.lower() == "ws" and not _is_loopback(parts.hostname or "")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: it may resolve anywhere
        return False


class NothingFound(QWidget):
    """An empty LAN list in one short line; why it may be empty in its tooltip and
    behind "Why?", which opens the explanation in place (it took six lines always)."""

    def __init__(self) -> None:
        super().__init__()
        self.line = QLabel(NOTHING_FOUND_LINE)
        self.line.setObjectName("formHint")
        self.line.setWordWrap(True)
        self.why_button = QPushButton("Why?")
        self.why_button.setObjectName("linkButton")
        self.why_button.setCheckable(True)
        self.why_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.why_button.setAccessibleName("Why no server is found")
        self.why = QLabel(NOTHING_FOUND_WHY)
        self.why.setObjectName("formHint")
        self.why.setWordWrap(True)
        self.why.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.why.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.line, 1)
        row.addWidget(self.why_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.why)
        self.why_button.toggled.connect(self.why.setVisible)
        self.set_words(NOTHING_FOUND_LINE, NOTHING_FOUND_WHY)

    def set_words(self, line: str, why: str = "") -> None:
        """The line always shown, and (if any) the reason behind "Why?" and the tooltip."""
        self.line.setText(line)
        self.why.setText(why)
        self.line.setToolTip(why)
        self.why_button.setToolTip(why)
        self.why_button.setVisible(bool(why))
        if not why:
            self.why_button.setChecked(False)

    def text(self) -> str:
        """Every word it has to say, the line and the reason, shown or not."""
        return f"{self.line.text()} {self.why.text()}".strip()


class FoundServers(QWidget):
    """The servers announcing themselves on the LAN, live; one click fills the form."""

    chosen = Signal(str, str)  # url, the fingerprint the server announces ("" if none)

    def __init__(self) -> None:
        super().__init__()
        self.model = FoundServerModel(self)
        self.title = QLabel("On this network")
        self.title.setObjectName("sectionTitle")
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.list.setMaximumHeight(110)
        self.empty = NothingFound()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        self.list.clicked.connect(self._clicked)
        for change in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset):
            change.connect(self._update_empty)
        self._update_empty()

    def set_unavailable(self, words: str) -> None:
        """Browsing could not start at all (no network): say so where the list would be."""
        self.empty.set_words(f"{words.capitalize()}. Type the server's address below.")

    def _update_empty(self) -> None:
        found = self.model.rowCount() > 0
        self.list.setVisible(found)
        self.empty.setVisible(not found)

    def _clicked(self, index: QModelIndex) -> None:
        self.chosen.emit(index.data(FoundServerRole.Url), index.data(FoundServerRole.Fingerprint))


class JoinForm(QWidget):
    """Signals: submitted(url, username, password, remember), serverChosen(url,
    fingerprint) when picked from the LAN list, cancelled() while connecting."""

    submitted = Signal(str, str, str, bool)  # url, username, password, remember
    serverChosen = Signal(str, str)  # url, announced fingerprint: picked from the LAN list
    cancelled = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.found = FoundServers()
        self.server = QComboBox()
        self.server.setEditable(True)
        self.server.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        line = self.server.lineEdit()
        assert line is not None
        line.setPlaceholderText(DEFAULT_URL)
        self.username = QLineEdit(placeholderText="Your username")
        self.password = QLineEdit(placeholderText="Your password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Remember me on this computer")
        # Why "Remember me" is off, in one short line under it (not a red error).
        self.remember_hint = QLabel()
        self.remember_hint.setObjectName("formHint")
        self.remember_hint.setWordWrap(True)
        self.remember_hint.hide()
        self.submit = QPushButton("Log in")
        self.submit.setDefault(True)
        self.submit.setObjectName("primaryButton")
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop connecting and change the address or login")
        self.cancel.hide()
        self.error = _FormError()
        self.info = _FormError("formHint")  # news that is no error: "You logged out."
        self._keyring_works = True
        self.progress = QLabel()
        self.progress.setObjectName("formProgress")
        self.plain = QLabel(PLAIN_WARNING)
        self.plain.setObjectName("formHint")
        self.plain.setWordWrap(True)
        self._recent: list[RecentServer] = []

        self._lay_out()

        self.found.chosen.connect(self._found_chosen)
        self.submit.clicked.connect(self._submit)
        self.cancel.clicked.connect(self.cancelled.emit)
        self.password.returnPressed.connect(self._submit)
        self.server.currentIndexChanged.connect(self._recent_chosen)
        self.server.currentTextChanged.connect(self._update_plain)
        self._update_plain()

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow("Server", self.server)
        form.addRow("", self.plain)
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        form.addRow("", self.remember)
        form.addRow("", self.remember_hint)
        layout = QVBoxLayout(self)
        layout.addWidget(self.found)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.info)
        layout.addWidget(self.submit)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel)
        layout.addStretch(1)

    def set_recent(self, servers: list[RecentServer]) -> None:
        self._recent = list(servers)
        self.server.blockSignals(True)
        self.server.clear()
        for entry in self._recent:
            self.server.addItem(entry.url)
        self.server.blockSignals(False)
        if self._recent:
            self.server.setCurrentIndex(0)
            self._recent_chosen(0)
        else:
            self.server.setEditText(DEFAULT_URL)
        self._update_plain()  # the current text may be set with no signal (blocked above)

    def focus_first_empty(self) -> None:
        """Put the cursor where the person types next: the username on a first start,
        the password when the name is filled in already (a return, a recent server)."""
        (self.password if self.username.text() else self.username).setFocus()

    def focus_to_retry(self) -> None:
        """After an attempt that failed or was cancelled: the keyboard back in the form
        (its fields were locked meanwhile, so the focus had left them), in the password
        with what was typed selected, ready to type it again."""
        self.focus_first_empty()
        self.password.selectAll()

    def _found_chosen(self, url: str, fingerprint: str) -> None:
        self.server.setEditText(url)
        self.serverChosen.emit(url, fingerprint)
        self.focus_first_empty()

    def _recent_chosen(self, index: int) -> None:
        if 0 <= index < len(self._recent):
            self.username.setText(self._recent[index].username)

    def _update_plain(self) -> None:
        self.plain.setVisible(crosses_network_in_clear(self.url()))

    def url(self) -> str:
        text = self.server.currentText().strip() or DEFAULT_URL
        return text if "://" in text else f"ws://{text}"

    def _submit(self) -> None:
        if not self.submit.isEnabled():
            return  # connecting already: Enter again must not start a second attempt
        if not self.username.text().strip():
            self.show_error("Enter your username.")
            self.username.setFocus()
            return
        if not self.password.text():
            self.show_error("Enter your password.")
            self.password.setFocus()
            return
        self.show_error("")
        self.submitted.emit(self.url(), self.username.text().strip(), self.password.text(),
                            self.remember.isChecked() and self._keyring_works)

    def show_error(self, words: str) -> None:
        """A red line: what went wrong (the news line is cleared, one message at a time)."""
        self.info.show_words("")
        self.error.show_words(words)

    def show_info(self, words: str) -> None:
        """A plain line for news that is not a failure, such as "You logged out."."""
        self.error.show_words("")
        self.info.show_words(words)

    def set_keyring_unavailable(self, reason: str) -> None:
        """No keyring: "Remember me" cannot work, so it is off, with the reason beside it."""
        self._keyring_works = False
        self.remember.setChecked(False)
        self.remember.setEnabled(False)
        why = (f"Multichat cannot remember your login on this computer: {reason}. "
               "It keeps secrets only in the system keyring, never in a file.")
        self.remember.setToolTip(why)
        self.remember_hint.setToolTip(why)
        self.remember_hint.setText("Not available: this computer has no working keyring.")
        self.remember_hint.show()

    def set_busy(self, busy: bool, words: str = "") -> None:
        """While connecting the fields are locked and Cancel is offered; after, all editable."""
        for widget in (self.server, self.username, self.password, self.submit):
            widget.setEnabled(not busy)
        self.remember.setEnabled(not busy and self._keyring_works)
        self.cancel.setVisible(busy)
        if busy:
            self.info.show_words("")
        self.progress.setText(words)


class HostForm(QWidget):
    """Signals: submitted(port, username, password) to host (and log in to) a server;
    cancelled() while it logs in to it."""

    submitted = Signal(int, str, str)  # port, admin username, admin password
    cancelled = Signal()

    def __init__(self) -> None:
        super().__init__()
        intro = QLabel(
            "Run the chat server inside this app, so everyone on your network can "
            "join it. It keeps running while this app is open (or in the tray)."
        )
        intro.setWordWrap(True)
        self.port = QSpinBox()
        self.port.setRange(1024, 65535)
        self.port.setValue(DEFAULT_PORT)
        self.admin_title = QLabel("First run: create the administrator account.")
        self.admin_name = QLineEdit(placeholderText="Administrator username")
        self.admin_password = QLineEdit(placeholderText="Password")
        self.admin_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.admin_repeat = QLineEdit(placeholderText="Password again")
        self.admin_repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.login_name = QLineEdit(placeholderText="Your username on this server")
        self.login_password = QLineEdit(placeholderText="Your password")
        self.login_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.submit = QPushButton("Start hosting")
        self.submit.setObjectName("primaryButton")
        self.submit.setDefault(True)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop logging in to the hosted chat (it keeps running)")
        self.cancel.hide()
        self.error = _FormError()
        self.progress = QLabel()
        self.progress.setObjectName("formProgress")
        self.addresses = QLabel()
        self.addresses.setObjectName("hostAddresses")
        self.addresses.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.addresses.setWordWrap(True)

        self.form = QFormLayout()
        self.form.addRow("Port", self.port)
        self.form.addRow(self.admin_title)
        self.form.addRow("Username", self.admin_name)
        self.form.addRow("Password", self.admin_password)
        self.form.addRow("Repeat", self.admin_repeat)
        self.form.addRow("Username", self.login_name)
        self.form.addRow("Password", self.login_password)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.submit)
        layout.addWidget(self.cancel)
        layout.addWidget(self.progress)
        layout.addWidget(self.addresses)
        layout.addStretch(1)
        self.submit.clicked.connect(self._submit)
        self.cancel.clicked.connect(self.cancelled.emit)
        # Enter in any field submits, as in the join form (a plain QWidget has no default
        # button, so the line edits say it themselves).
        for line in (self.admin_name, self.admin_password, self.admin_repeat,
                     self.login_name, self.login_password):
            line.returnPressed.connect(self._submit)
        self.set_first_run(True)

    def set_first_run(self, first_run: bool) -> None:
        """The first time, ask for the admin account; later, for a login to it."""
        self._first_run = first_run
        for widget in (self.admin_title, self.admin_name, self.admin_password, self.admin_repeat):
            self.form.setRowVisible(widget, first_run)
        for widget in (self.login_name, self.login_password):
            self.form.setRowVisible(widget, not first_run)
        self.submit.setText("Start hosting" if first_run else "Start hosting again")

    def set_last_hosted(self, port: int, username: str) -> None:
        """After a restart: the port and login used last time, so one password starts it."""
        self.port.setValue(port)
        self.login_name.setText(username)

    def first_field(self) -> QLineEdit:
        """Where typing starts: the first empty field of the rows shown."""
        lines = ([self.admin_name, self.admin_password, self.admin_repeat] if self._first_run
                 else [self.login_name, self.login_password])
        return next((line for line in lines if not line.text()), lines[-1])

    def _submit(self) -> None:
        if not self.submit.isEnabled():
            return  # starting already
        if self._first_run:
            name, password = self.admin_name.text().strip(), self.admin_password.text()
            if not name or not password:
                self.show_error("Choose the administrator's username and password.")
                return
            try:  # the server's own rule and words, before the server is even started
                check_password(password)
            except ValueError as exc:
                words = str(exc)
                self.show_error(words[0].upper() + words[1:] + ".")
                self.admin_password.setFocus()
                return
            if password != self.admin_repeat.text():
                self.show_error("The two passwords differ.")
                return
        else:
            name, password = self.login_name.text().strip(), self.login_password.text()
            if not name or not password:
                self.show_error("Enter your username and password on this server.")
                return
        self.show_error("")
        self.submitted.emit(self.port.value(), name, password)

    def show_error(self, words: str) -> None:
        self.error.show_words(words)

    def set_busy(self, busy: bool, words: str = "") -> None:
        """While logging in the fields are locked and Cancel is offered; after, all editable."""
        for line in (self.port, self.admin_name, self.admin_password, self.admin_repeat,
                     self.login_name, self.login_password, self.submit):
            line.setEnabled(not busy)
        self.cancel.setVisible(busy)
        self.progress.setText(words)

    def show_addresses(self, urls: list[str], fingerprint: str | None = None) -> None:
        if not urls:
            self.addresses.clear()
            return
        text = "Others on your network can join at:\n" + "\n".join(urls)
        if fingerprint:
            text += ("\n\nThey will be asked to confirm this certificate fingerprint:\n"
                     + for_display(fingerprint))
        self.addresses.setText(text)


class ConnectWindow(QWidget):
    """Join a server or host one. Signals carry what the person asked for.

    Signals: closeRequested(QCloseEvent): the person closed the window (Alt+F4, the
    title bar); the controller decides whether that quits and may ignore the event.
    """

    closeRequested = Signal(QCloseEvent)

    def __init__(self, icon: QIcon | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Multichat")
        self.setObjectName("connectWindow")
        if icon is not None:
            self.setWindowIcon(icon)
        title = QLabel("Multichat")
        title.setObjectName("appTitle")
        subtitle = QLabel("Chat with your team or everyone on your network.")
        subtitle.setObjectName("appSubtitle")
        self.join = JoinForm()
        self.host = HostForm()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.join, "Join a server")
        self.tabs.addTab(self.host, "Host a chat on this computer")
        # On a short screen the forms scroll inside the card: every field and Log in
        # stay reachable, where a fixed layout ran past the screen's bottom edge.
        self.card_scroll = QScrollArea()
        self.card_scroll.setObjectName("cardScroll")
        self.card_scroll.setWidgetResizable(True)
        self.card_scroll.setFrameShape(QFrame.Shape.NoFrame)
        # In a plain box, not straight in the scroll area: through its layout the area
        # learns the forms' height for a width (wrapped words), so nothing overlaps.
        content = QWidget()
        content.setObjectName("cardContent")
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addWidget(self.tabs)
        self.card_scroll.setWidget(content)
        content.setAutoFillBackground(False)  # setWidget turned it on: the card shows
        self.card_scroll.viewport().setAutoFillBackground(False)
        card = QFrame()
        card.setObjectName("card")
        card_layout = QVBoxLayout(card)
        card_layout.addWidget(self.card_scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addWidget(card, 1)
        self.screen_fit = ScreenFit(self)
        self.resize(DEFAULT_SIZE.boundedTo(self.screen().availableGeometry().size()))

    def show_host_tab(self) -> None:
        """Open on hosting (after a restart of an app that hosted), typing in its form."""
        self.tabs.setCurrentWidget(self.host)
        self.host.first_field().setFocus()

    def closeEvent(self, event: QCloseEvent) -> None:
        event.accept()
        self.closeRequested.emit(event)
