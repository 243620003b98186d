"""The first screen: join a server, or host a chat on this computer.

Plain data in (recent servers, whether hosting needs an admin account), user
intentions out as signals; errors are shown on the form they belong to.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop.models.found_servers import FoundServerModel, FoundServerRole
from multichat.desktop.services.settings import RecentServer
from multichat.protocol.fingerprint import for_display
from multichat.server.config import DEFAULT_PORT

DEFAULT_URL = f"ws://localhost:{DEFAULT_PORT}"


class _FormError(QLabel):
    """A red line under a form; empty and hidden until something goes wrong."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("formError")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_words(self, words: str) -> None:
        self.setText(words)
        self.setVisible(bool(words))


NOTHING_FOUND = (
    "No server found on this network yet. Servers announce themselves by multicast, "
    "which some networks drop (guest Wi-Fi, VPNs) or a firewall blocks (UDP 5353), and "
    "which stays inside one subnet. Type the server's address below instead, e.g. "
    "ws://192.168.1.20:8765."
)


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
        self.empty = QLabel(NOTHING_FOUND)
        self.empty.setObjectName("formHint")
        self.empty.setWordWrap(True)
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
        self.empty.setText(f"{words.capitalize()}. Type the server's address below.")

    def _update_empty(self) -> None:
        found = self.model.rowCount() > 0
        self.list.setVisible(found)
        self.empty.setVisible(not found)

    def _clicked(self, index: QModelIndex) -> None:
        self.chosen.emit(index.data(FoundServerRole.Url), index.data(FoundServerRole.Fingerprint))


class JoinForm(QWidget):
    submitted = Signal(str, str, str, bool)  # url, username, password, remember
    serverChosen = Signal(str, str)  # url, announced fingerprint: picked from the LAN list

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
        self.submit = QPushButton("Log in")
        self.submit.setDefault(True)
        self.submit.setObjectName("primaryButton")
        self.error = _FormError()
        self.progress = QLabel()
        self.progress.setObjectName("formProgress")
        self.plain = QLabel(PLAIN_WARNING)
        self.plain.setObjectName("formHint")
        self.plain.setWordWrap(True)
        self._recent: list[RecentServer] = []

        form = QFormLayout()
        form.addRow("Server", self.server)
        form.addRow("", self.plain)
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        form.addRow("", self.remember)
        layout = QVBoxLayout(self)
        layout.addWidget(self.found)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.submit)
        layout.addWidget(self.progress)
        layout.addStretch(1)

        self.found.chosen.connect(self._found_chosen)
        self.submit.clicked.connect(self._submit)
        self.password.returnPressed.connect(self._submit)
        self.server.currentIndexChanged.connect(self._recent_chosen)
        self.server.currentTextChanged.connect(self._update_plain)
        self._update_plain()

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

    def _found_chosen(self, url: str, fingerprint: str) -> None:
        self.server.setEditText(url)
        self.serverChosen.emit(url, fingerprint)
        (self.password if self.username.text() else self.username).setFocus()

    def _recent_chosen(self, index: int) -> None:
        if 0 <= index < len(self._recent):
            self.username.setText(self._recent[index].username)

    def _update_plain(self) -> None:
        self.plain.setVisible(crosses_network_in_clear(self.url()))

    def url(self) -> str:
        text = self.server.currentText().strip() or DEFAULT_URL
        return text if "://" in text else f"ws://{text}"

    def _submit(self) -> None:
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
                            self.remember.isChecked())

    def show_error(self, words: str) -> None:
        self.error.show_words(words)

    def set_busy(self, busy: bool, words: str = "") -> None:
        for widget in (self.server, self.username, self.password, self.remember, self.submit):
            widget.setEnabled(not busy)
        self.progress.setText(words)


class HostForm(QWidget):
    submitted = Signal(int, str, str)  # port, admin username, admin password

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
        self.error = _FormError()
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
        layout.addWidget(self.addresses)
        layout.addStretch(1)
        self.submit.clicked.connect(self._submit)
        self.set_first_run(True)

    def set_first_run(self, first_run: bool) -> None:
        """The first time, ask for the admin account; later, for a login to it."""
        self._first_run = first_run
        for widget in (self.admin_title, self.admin_name, self.admin_password, self.admin_repeat):
            self.form.setRowVisible(widget, first_run)
        for widget in (self.login_name, self.login_password):
            self.form.setRowVisible(widget, not first_run)

    def _submit(self) -> None:
        if self._first_run:
            name, password = self.admin_name.text().strip(), self.admin_password.text()
            if not name or not password:
                self.show_error("Choose the administrator's username and password.")
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
    """Join a server or host one. Signals carry what the person asked for."""

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
        card = QFrame()
        card.setObjectName("card")
        card_layout = QVBoxLayout(card)
        card_layout.addWidget(self.tabs)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addWidget(card, 1)
        self.resize(520, 520)
