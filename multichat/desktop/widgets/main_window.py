"""The main window: rooms on the left, open rooms as tabs, the connection always in view.

It shows the workspace's models and calls the workspace for what the person
does; the composition root connects the rest (login, logout, admin, tray).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, Qt, Signal
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop.models.rooms import RoomRole
from multichat.desktop.widgets.room_delegate import RoomDelegate
from multichat.desktop.widgets.room_view import RoomView
from multichat.desktop.workspace import Workspace
from multichat.protocol.fingerprint import for_display
from multichat.protocol.frames import UserInfo

STATE_WORDS = {
    "online": "● Online",
    "connecting": "● Connecting…",
    "reconnecting": "● Reconnecting…",
    "offline": "● Offline",
}


class MainWindow(QMainWindow):
    """Signals: logoutRequested(), adminRequested(), closeRequested(QCloseEvent)."""

    logoutRequested = Signal()
    adminRequested = Signal()
    reconnectRequested = Signal()
    closeRequested = Signal(QCloseEvent)

    def __init__(self, workspace: Workspace, icon: QIcon | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.setObjectName("mainWindow")
        self.setWindowTitle("Multichat")
        if icon is not None:
            self.setWindowIcon(icon)
        self.views: dict[str, RoomView] = {}
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_sidebar())
        splitter.addWidget(self._build_center())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([220, 780])
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(8, 6, 8, 0)
        body_layout.addLayout(self._build_header())
        body_layout.addWidget(splitter, 1)
        self.setCentralWidget(body)
        self.resize(1000, 640)

        self.room_list.activated.connect(self._room_activated)
        self.room_list.clicked.connect(self._room_activated)
        self.tabs.tabCloseRequested.connect(self._tab_close_requested)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.logout_button.clicked.connect(self.logoutRequested)
        self.admin_button.clicked.connect(self.adminRequested)
        self.reconnect_button.clicked.connect(self.reconnectRequested)
        workspace.roomOpened.connect(self.add_room_view)
        workspace.mutedChanged.connect(self._muted_changed)
        workspace.roomClosed.connect(self.remove_room_view)
        self._update_empty_hint()

    def _build_header(self) -> QHBoxLayout:
        self.state_label = QLabel(STATE_WORDS["offline"])
        self.state_label.setObjectName("connectionState")
        self.state_detail = QLabel()
        self.state_detail.setObjectName("connectionDetail")
        self.reconnect_button = QPushButton("Reconnect now")
        self.reconnect_button.hide()
        self.user_label = QLabel()
        self.hosting_label = QLabel()
        self.hosting_label.setObjectName("hostingLabel")
        self.hosting_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hosting_label.hide()
        self.admin_button = QPushButton("Administration…")
        self.admin_button.hide()
        self.logout_button = QPushButton("Log out")
        top = QHBoxLayout()
        top.addWidget(self.state_label)
        top.addWidget(self.state_detail, 1)
        for widget in (self.reconnect_button, self.hosting_label, self.user_label,
                       self.admin_button, self.logout_button):
            top.addWidget(widget)
        return top

    def _build_sidebar(self) -> QWidget:
        self.room_list = QListView()
        self.room_list.setObjectName("roomList")
        self.room_list.setModel(self.workspace.rooms)
        self.room_list.setItemDelegate(RoomDelegate(self.room_list))
        self.room_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.room_list.setMinimumWidth(180)
        rooms_title = QLabel("Rooms")
        rooms_title.setObjectName("sidebarTitle")
        sidebar = QWidget()
        sidebar.setObjectName("sidebar")
        layout = QVBoxLayout(sidebar)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(rooms_title)
        layout.addWidget(self.room_list, 1)
        return sidebar

    def _build_center(self) -> QWidget:
        self.tabs = QTabWidget()
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.empty_hint = QLabel("Pick a room on the left to start chatting.")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setObjectName("emptyHint")
        center = QWidget()
        layout = QVBoxLayout(center)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.empty_hint, 1)
        return center

    # -- attributes down ------------------------------------------------------------

    def set_connection_state(self, state: str, detail: str) -> None:
        self.state_label.setText(STATE_WORDS.get(state, state))
        self.state_label.setProperty("state", state)
        self.state_label.style().unpolish(self.state_label)
        self.state_label.style().polish(self.state_label)
        self.state_detail.setText(detail)
        self.reconnect_button.setVisible(state == "reconnecting")

    def set_hosting(self, urls: list[str], fingerprint: str | None = None) -> None:
        """While this computer hosts the chat: the addresses others can join at."""
        text = "Hosting — others join at " + ", ".join(urls) if urls else ""
        if urls and fingerprint:
            text += f"\nCertificate fingerprint, for them to confirm:\n{for_display(fingerprint)}"
        self.hosting_label.setText(text)
        self.hosting_label.setVisible(bool(urls))

    def set_account(self, account: UserInfo) -> None:
        self.user_label.setText(account.username)
        self.admin_button.setVisible(account.is_superuser)

    def add_room_view(self, room: str, title: str) -> RoomView:
        view = self.views.get(room)
        if view is not None and view.closed:  # reopened after a refusal or removal
            view.set_models(self.workspace.messages[room], self.workspace.members[room])
            view.set_closed(False)
        if view is None:
            view = RoomView(room, title or f"Room {room}")
            view.set_models(self.workspace.messages[room], self.workspace.members[room])
            view.set_muted(self.workspace.rooms.is_muted(room))
            view.messageSubmitted.connect(lambda text, r=room: self.workspace.send(r, text))
            view.leaveRequested.connect(lambda r=room: self.workspace.close_room(r))
            view.muteToggled.connect(lambda muted, r=room: self.workspace.set_muted(r, muted))
            self.views[room] = view
            self.tabs.addTab(view, title or f"Room {room}")
        self._update_empty_hint()
        return view

    def remove_room_view(self, room: str) -> None:
        view = self.views.get(room)
        if view is not None and not view.banner.isHidden():
            view.set_closed(True)  # keep the tab, so the reason stays where it happened
            return
        view = self.views.pop(room, None)
        if view is not None:
            self.tabs.removeTab(self.tabs.indexOf(view))
            view.deleteLater()
        self._update_empty_hint()

    def _muted_changed(self, muted: list[str]) -> None:
        for room, view in self.views.items():
            view.set_muted(room in muted)

    def set_room_title(self, room: str, title: str) -> None:
        view = self.views.get(room)
        if view is not None:
            view.title.setText(title)
            self.tabs.setTabText(self.tabs.indexOf(view), title)

    def show_room(self, room: str) -> None:
        view = self.views.get(room)
        if view is not None:
            self.tabs.setCurrentWidget(view)
            view.focus_input()

    def show_room_error(self, room: str, words: str) -> None:
        view = self.views.get(room)
        if view is not None:
            view.show_banner(words)
        else:
            self.statusBar().showMessage(words, 10_000)

    def current_room(self) -> str | None:
        view = self.tabs.currentWidget()
        return view.room if isinstance(view, RoomView) else None

    # -- what the person does ------------------------------------------------------------

    def _room_activated(self, index: QModelIndex) -> None:
        room = str(index.data(RoomRole.RoomId))
        self.workspace.open_room(room, str(index.data(Qt.ItemDataRole.DisplayRole) or ""))
        self.show_room(room)

    def _tab_close_requested(self, position: int) -> None:
        view = self.tabs.widget(position)
        if isinstance(view, RoomView):
            if view.closed:
                view.show_banner("")
                self.remove_room_view(view.room)
            else:
                self.workspace.close_room(view.room)

    def _tab_changed(self, _position: int) -> None:
        room = self.current_room()
        self.workspace.set_current(room)
        self._select_in_list(room)

    def _select_in_list(self, room: str | None) -> None:
        """Keep the sidebar's selection on the room in view."""
        model = self.workspace.rooms
        selection = self.room_list.selectionModel()
        if selection is None or self.room_list.model() is None:
            return
        for row in range(model.rowCount()):
            index = model.index(row)
            if index.data(RoomRole.RoomId) == room:
                self.room_list.setCurrentIndex(index)
                return
        selection.clearSelection()

    def _update_empty_hint(self) -> None:
        empty = self.tabs.count() == 0
        self.tabs.setVisible(not empty)
        self.empty_hint.setVisible(empty)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.ActivationChange:
            self.workspace.set_window_active(self.isActiveWindow())
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closeRequested.emit(event)
