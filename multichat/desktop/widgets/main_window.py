"""The main window: rooms on the left, open rooms as tabs, the connection always in view.

It shows the workspace's models and calls the workspace for what the person
does; the composition root connects the rest (login, logout, admin, tray).
The title names the room in view and counts what waits in the others, each
tab carries its room's count, and the window fits a 480 px wide screen: below
``NARROW_WIDTH`` the room list hides itself and comes back over the messages
(the header's "Rooms" button, Ctrl+Shift+B), tabs share the width so the one in
view keeps its whole short title, the header's long words elide with the whole
in a tooltip. ``ScreenFit`` keeps a window inside its screen (this one and the
connect window).

The sidebar has two sections over the one room model: "Rooms" and "Direct
messages" (each a filter of it by kind). A direct conversation opens from its
row, from "Message …" on a member of a room, or from the user picker (the
section's "+", Rooms > New direct message…, Ctrl+Shift+K).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QModelIndex,
    QObject,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QFocusEvent,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTabBar,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop import theme
from multichat.desktop.models.rooms import RoomRole
from multichat.desktop.services.downloads import default_folder
from multichat.desktop.services.file_transfers import FileTransfers, file_server_of
from multichat.desktop.widgets import shortcuts_dialog as keys
from multichat.desktop.widgets.eliding_label import ElidingLabel
from multichat.desktop.widgets.room_delegate import RoomDelegate
from multichat.desktop.widgets.room_switcher import RoomSwitcher
from multichat.desktop.widgets.room_view import RoomView
from multichat.desktop.widgets.screen_fit import ScreenFit, fit_to_screen
from multichat.desktop.widgets.search_panel import SearchPanel
from multichat.desktop.widgets.user_picker import UserPickerDialog
from multichat.desktop.workspace import Workspace
from multichat.protocol.fingerprint import for_display
from multichat.protocol.frames import UserInfo

APP_NAME = "Multichat"
DEFAULT_SIZE = QSize(1000, 640)
# Below this width the room list hides itself: the messages need the room more.
NARROW_WIDTH = 640
# The room list shown over a narrow window: wide enough for a title and its badge,
# and never so wide that the messages behind it vanish (a strip stays to click back to).
OVERLAY_WIDTH = 260
OVERLAY_SPARE = 64
TAB_MAX_WIDTH = 220  # also in style.qss (QTabBar::tab max-width)
# Tab widths in average characters, padding and close button included. Below the least
# (some six letters of a title) a tab would say nothing, so the tabs scroll instead, each
# as wide as its title up to the scrolled width.
LEAST_TAB_CHARACTERS = 13
SCROLLED_TAB_CHARACTERS = 22
THEME_WORDS = {theme.ThemeChoice.SYSTEM: "Follow the system",
               theme.ThemeChoice.LIGHT: "Light", theme.ThemeChoice.DARK: "Dark"}
# Keys a text box would take for itself (Ctrl+K deletes to the end of the line on
# X11 and macOS): the window's shortcuts win over the message box.
WINDOW_KEYS = (keys.SWITCH_ROOM, keys.CLOSE_ROOM, keys.PREVIOUS_ROOM, keys.NEXT_ROOM,
               keys.TOGGLE_SIDEBAR, keys.NEW_DIRECT_MESSAGE, keys.SEARCH_ROOM,
               keys.SEARCH_EVERYWHERE)


def badge(unread: int, mentions: int) -> str:
    """A room's count as its tab shows it, "(3) Lobby": "3", "@1" (only mentions), "3, @1"."""
    if mentions and unread <= mentions:
        return f"@{mentions}"
    if mentions:
        return f"{unread}, @{mentions}"
    return str(unread) if unread else ""


class RoomTabBar(QTabBar):
    """Tabs that share a narrow width fairly: the tab in view keeps its whole title
    (up to ``TAB_MAX_WIDTH``), short titles keep theirs, the long ones give way.

    Left to itself, QTabBar shrinks every tab a little once they do not fit, and a
    few pixels are enough to make "Lobby" "Lo…" beside a long title kept at its
    maximum. Past the point where sharing helps, the scroll buttons take over.
    """

    def __init__(self, tabs: QTabWidget) -> None:
        super().__init__(tabs)
        self._tabs = tabs
        tabs.installEventFilter(self)  # its width is the room the tabs share
        self.currentChanged.connect(self._relayout)

    def tabInserted(self, index: int) -> None:
        """Each tab's close button is a "✕" in the theme's colours: Qt's own, with no
        icon theme installed (most Linux desktops outside GNOME/KDE), is a red square."""
        super().tabInserted(index)
        button = QToolButton(self)
        button.setObjectName("tabClose")
        button.setText("✕")
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Ctrl+W is the keyboard's way
        button.setToolTip("Close (Ctrl+W)")
        button.setAccessibleName("Close room")
        button.clicked.connect(lambda: self._close_clicked(button))
        self.setTabButton(index, QTabBar.ButtonPosition.RightSide, button)

    def _close_clicked(self, button: QToolButton) -> None:
        for index in range(self.count()):  # tabs move: find the button's tab now
            if self.tabButton(index, QTabBar.ButtonPosition.RightSide) is button:
                self.tabCloseRequested.emit(index)
                return

    def _relayout(self, *_: object) -> None:
        # QTabBar caches its tabs' sizes; a new elide mode is its one public way to redo them.
        self.setElideMode(self.elideMode())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._tabs and event.type() == QEvent.Type.Resize:
            self._relayout()
        return super().eventFilter(watched, event)

    def tabSizeHint(self, index: int) -> QSize:
        hint = super().tabSizeHint(index)
        if index == self.currentIndex():
            return QSize(min(hint.width(), max(self._tabs.width(), 1)), hint.height())
        letter = self.fontMetrics().averageCharWidth()
        share = self._share()
        if share < letter * LEAST_TAB_CHARACTERS:  # too many to share: they scroll, readable
            share = letter * SCROLLED_TAB_CHARACTERS
        return QSize(min(hint.width(), share), hint.height())

    def minimumTabSizeHint(self, index: int) -> QSize:
        # The share above is the least: QTabBar would shrink every tab a little more, the
        # one in view included ("Lo…"), where scrolling is kinder.
        return self.tabSizeHint(index)

    def _share(self) -> int:
        """The widest any other tab may be: short titles whole, the rest share what is left."""
        current = self.currentIndex()
        room = self._tabs.width() - (super().tabSizeHint(current).width() if current >= 0
                                     else 0)
        others = sorted(super(RoomTabBar, self).tabSizeHint(i).width()
                        for i in range(self.count()) if i != current)
        for position, width in enumerate(others):
            share = room // (len(others) - position)
            if width > share:
                return share
            room -= width
        return TAB_MAX_WIDTH  # everything fits


STATE_WORDS = {
    "online": "● Online",
    "connecting": "● Connecting…",
    "reconnecting": "● Reconnecting…",
    "offline": "● Offline",
}


class MainWindow(QMainWindow):
    """Signals: logoutRequested(), adminRequested(), reconnectRequested(),
    closeRequested(QCloseEvent), themeChosen(str choice) (a ThemeChoice value, to save),
    downloadsFolderChosen(str folder) (where Save puts files, to save)."""

    logoutRequested = Signal()
    adminRequested = Signal()
    reconnectRequested = Signal()
    closeRequested = Signal(QCloseEvent)
    themeChosen = Signal(str)
    downloadsFolderChosen = Signal(str)  # where Save puts files from now on, to save

    def __init__(self, workspace: Workspace, icon: QIcon | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        if icon is not None:
            self.setWindowIcon(icon)
        self.views: dict[str, RoomView] = {}
        self._titles: dict[str, str] = {}
        # Thumbnails, images and downloads, fetched as the client is logged in.
        self.files = FileTransfers(lambda: file_server_of(workspace.client), self)
        self._sidebar_wanted = True  # the person's choice while the window is wide
        self._narrow: bool | None = None
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._build_sidebar())
        splitter.addWidget(self._build_center())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([220, 780])
        self.splitter = splitter
        body = QWidget()
        self.body = body
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(8, 6, 8, 0)
        body_layout.addLayout(self._build_header())
        body_layout.addLayout(self._build_hosting_row())
        body_layout.addWidget(splitter, 1)
        self.setCentralWidget(body)
        self.switcher = RoomSwitcher(workspace.rooms, self)
        self.switcher.roomChosen.connect(self.open_room)
        self.user_picker = UserPickerDialog(self)
        self.user_picker.usersChosen.connect(self.workspace.open_dm)
        self.search_panel = SearchPanel(workspace.search, self)
        self.search_panel.resultChosen.connect(self.open_at_message)
        self.search_panel.closed.connect(self._focus_room_in_view)
        self._build_menus()
        self.screen_fit = ScreenFit(self)
        self.resize(DEFAULT_SIZE.boundedTo(self.screen().availableGeometry().size()))

        # A narrow window's room list lies over the splitter; Esc, or focus leaving, closes it.
        self.splitter.installEventFilter(self)
        for room_list in self.room_lists:
            room_list.installEventFilter(self)
            room_list.activated.connect(self._room_activated)
            room_list.clicked.connect(self._room_activated)
        self.tabs.tabBar().tabCloseRequested.connect(self._tab_close_requested)  # its own buttons
        self.tabs.currentChanged.connect(self._tab_changed)
        self.rooms_button.clicked.connect(lambda _checked=False: self.toggle_sidebar())
        self.logout_button.clicked.connect(self.logoutRequested)
        self.admin_button.clicked.connect(self.adminRequested)
        self.reconnect_button.clicked.connect(self.reconnectRequested)
        self._wire_workspace()
        self._update_empty_hint()

    def _wire_workspace(self) -> None:
        workspace = self.workspace
        workspace.roomOpened.connect(self.add_room_view)
        workspace.mutedChanged.connect(self._muted_changed)
        workspace.roomClosed.connect(self.remove_room_view)
        workspace.showRequested.connect(self.show_room)
        workspace.typingChanged.connect(self._typing_changed)
        workspace.client.outboxChanged.connect(self._uploads_changed)
        workspace.client.uploadProgress.connect(self._upload_progress)
        workspace.client.sendRefused.connect(self.give_back)
        workspace.client.editRefused.connect(self.give_back_edit)
        rooms = workspace.rooms
        for changed in (rooms.dataChanged, rooms.rowsInserted, rooms.rowsRemoved,
                        rooms.modelReset, rooms.totalsChanged):
            changed.connect(self._update_counts)
        for changed in (rooms.rowsInserted, rooms.rowsRemoved, rooms.modelReset):
            changed.connect(self._update_room_details)

    def _build_header(self) -> QHBoxLayout:
        self.rooms_button = QPushButton("☰ Rooms")
        self.rooms_button.setObjectName("roomsToggle")
        self.rooms_button.setAccessibleName("Room list")
        self.rooms_button.setCheckable(True)
        self.rooms_button.setToolTip(
            f"Show or hide the room list ({keys.shown(keys.TOGGLE_SIDEBAR)})")
        self.rooms_button.hide()  # while the list is in its place, it needs no button
        self.state_label = QLabel(STATE_WORDS["offline"])
        self.state_label.setObjectName("connectionState")
        # Details that give way first on a narrow window: they take no width of their own.
        self.state_detail = ElidingLabel(minimum_characters=0)
        self.state_detail.setObjectName("connectionDetail")
        self.reconnect_button = QPushButton("Reconnect now")
        self.reconnect_button.hide()
        self.user_label = QLabel()
        self.admin_button = QPushButton("Administration…")
        self.admin_button.hide()
        self.logout_button = QPushButton("Log out")
        top = QHBoxLayout()
        top.addWidget(self.rooms_button)
        top.addWidget(self.state_label)
        top.addWidget(self.state_detail, 1)
        for widget in (self.reconnect_button, self.user_label, self.admin_button,
                       self.logout_button):
            top.addWidget(widget)
        return top

    def _build_hosting_row(self) -> QHBoxLayout:
        """One line while hosting; the fingerprint and every address behind "Details"."""
        self.hosting_label = ElidingLabel(minimum_characters=0)
        self.hosting_label.setObjectName("hostingLabel")
        self.hosting_label.hide()
        self.hosting_details_button = QPushButton("Details…")
        self.hosting_details_button.setToolTip("Every address and the certificate fingerprint")
        self.hosting_details_button.hide()
        self.hosting_details_button.clicked.connect(self.show_hosting_details)
        self._hosting_details = ""
        row = QHBoxLayout()
        row.addWidget(self.hosting_label, 1)
        row.addWidget(self.hosting_details_button)
        return row

    def _build_menus(self) -> None:
        bar = self.menuBar()
        rooms = bar.addMenu("&Rooms")
        self.switch_action = self._action(rooms, "&Go to room…", keys.SWITCH_ROOM,
                                          self.open_switcher)
        self.previous_action = self._action(rooms, "&Previous room", keys.PREVIOUS_ROOM,
                                            self.previous_room)
        self.next_action = self._action(rooms, "&Next room", keys.NEXT_ROOM, self.next_room)
        self.close_action = self._action(rooms, "&Close room", keys.CLOSE_ROOM,
                                         self.close_current_room)
        self.direct_action = self._action(rooms, "New &direct message…",
                                          keys.NEW_DIRECT_MESSAGE, self.open_user_picker)
        self.direct_action.setToolTip("Message one person or a group")
        rooms.addSeparator()
        self.search_action = self._action(rooms, "&Search in room…", keys.SEARCH_ROOM,
                                          self.search_in_room)
        self.search_everywhere_action = self._action(
            rooms, "Search &everywhere…", keys.SEARCH_EVERYWHERE, self.search_everywhere)
        rooms.addSeparator()
        self.admin_action = self._action(rooms, "&Administration…", "", self.adminRequested.emit)
        self.admin_action.setVisible(False)
        self._action(rooms, "&Log out", "", self.logoutRequested.emit)
        view = bar.addMenu("&View")
        self.sidebar_action = self._action(view, "Room &list", keys.TOGGLE_SIDEBAR,
                                           self.toggle_sidebar)
        self.sidebar_action.setCheckable(True)
        self.sidebar_action.setChecked(True)
        themes = view.addMenu("&Theme")
        self.theme_actions: dict[theme.ThemeChoice, QAction] = {}
        group = QActionGroup(self)
        for choice, words in THEME_WORDS.items():
            action = themes.addAction(words)
            action.setCheckable(True)
            action.setData(choice.value)
            group.addAction(action)
            action.triggered.connect(lambda _checked=False, c=choice: self._theme_chosen(c))
            self.theme_actions[choice] = action
        self.theme_actions[theme.current_choice()].setChecked(True)
        self.downloads_action = self._action(view, "Save files &to…", "",
                                             self.choose_downloads_folder)
        help_menu = bar.addMenu("&Help")
        self.shortcuts_action = self._action(help_menu, "&Keyboard shortcuts", keys.HELP,
                                             self.show_shortcuts)

    def _action(self, menu: QWidget, words: str, shortcut: str, slot: object) -> QAction:
        action = QAction(words, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)  # works with the menu bar hidden (native or collapsed)
        return action

    def _section(self, name: str, kind: str) -> tuple[QListView, QSortFilterProxyModel]:
        """One section of the sidebar: the room model's rows of one kind."""
        section = QSortFilterProxyModel(self)
        section.setSourceModel(self.workspace.rooms)
        section.setFilterRole(RoomRole.Kind)
        section.setFilterRegularExpression(f"^{kind}$")
        view = QListView()
        view.setObjectName(name)
        view.setModel(section)
        view.setItemDelegate(RoomDelegate(view))
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setMinimumWidth(120)
        view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return view, section

    def _build_sidebar(self) -> QWidget:
        self.room_list, self.room_section = self._section("roomList", "room")
        self.direct_list, self.direct_section = self._section("directList", "direct")
        self.direct_list.setAccessibleName("Direct messages")
        self.room_lists = (self.room_list, self.direct_list)
        rooms_title = QLabel("Rooms")
        rooms_title.setObjectName("sidebarTitle")
        direct_title = QLabel("Direct messages")
        direct_title.setObjectName("sidebarTitle")
        # Its words never hold the sidebar (nor a 480 px window) wider than the lists.
        direct_title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.new_direct_button = QToolButton()
        self.new_direct_button.setObjectName("newDirectMessage")
        self.new_direct_button.setText("+")
        self.new_direct_button.setAccessibleName("New direct message")
        self.new_direct_button.setToolTip(
            f"New direct message: one person or a group "
            f"({keys.shown(keys.NEW_DIRECT_MESSAGE)})")
        self.new_direct_button.clicked.connect(lambda _checked=False: self.open_user_picker())
        direct_header = QHBoxLayout()
        direct_header.setContentsMargins(0, 0, 4, 0)
        direct_header.addWidget(direct_title, 1)
        direct_header.addWidget(self.new_direct_button)
        sidebar = QWidget()
        sidebar.setObjectName("sidebar")
        self.sidebar = sidebar
        layout = QVBoxLayout(sidebar)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(rooms_title)
        layout.addWidget(self.room_list, 3)
        layout.addLayout(direct_header)
        layout.addWidget(self.direct_list, 2)
        return sidebar

    def _build_center(self) -> QWidget:
        self.tabs = QTabWidget()
        self.tabs.setTabBar(RoomTabBar(self.tabs))
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.setElideMode(Qt.TextElideMode.ElideRight)
        self.tabs.setUsesScrollButtons(True)
        self.tabs.tabBar().setExpanding(False)
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

    def set_hosting(self, urls: list[str], fingerprint: str | None = None,
                    pages: list[str] | None = None) -> None:
        """While this computer hosts the chat: one line, the details behind a button.
        ``pages``: where anyone on the network opens it in a browser, nothing to install."""
        pages = pages or []
        details = "Others join at:\n" + "\n".join(urls) if urls else ""
        if urls and pages:
            details += "\n\nOr in a browser, with nothing to install:\n" + "\n".join(pages)
        if urls and fingerprint:
            details += ("\n\nCertificate fingerprint, for them to confirm:\n"
                        + for_display(fingerprint))
        line = ""
        if urls:
            line = f"Hosting · others join at {urls[0]}"
            if pages:
                line += f" or open {pages[0]} in a browser"
            if len(urls) > 1:
                line += f" (+{len(urls) - 1} more)"
        self._hosting_details = details
        self.hosting_label.set_full_text(line, details)
        self.hosting_label.setVisible(bool(urls))
        self.hosting_details_button.setVisible(bool(urls))

    def hosting_details(self) -> str:
        return self._hosting_details

    def show_hosting_details(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Hosting", self._hosting_details,
                          QMessageBox.StandardButton.Close, self)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()

    def set_account(self, account: UserInfo) -> None:
        self.user_label.setText(account.username)
        self.admin_button.setVisible(account.is_superuser)
        self.admin_action.setVisible(account.is_superuser)
        self._update_room_details()

    def set_theme_choice(self, choice: str) -> None:
        """Apply a saved choice ("system", "light", "dark") and tick it in View > Theme."""
        chosen = theme.ThemeChoice(choice)
        self.theme_actions[chosen].setChecked(True)
        theme.switcher().set_choice(chosen)

    def add_room_view(self, room: str, title: str) -> RoomView:
        view = self.views.get(room)
        if view is not None and view.closed:  # reopened after a refusal or removal
            view.set_models(self.workspace.messages[room], self.workspace.members[room])
            view.set_closed(False)
        if view is None:
            view = RoomView(room, title or f"Room {room}")
            view.set_models(self.workspace.messages[room], self.workspace.members[room])
            view.set_muted(self.workspace.rooms.is_muted(room))
            self._wire_view(view, room)
            view.input.installEventFilter(self)
            self.views[room] = view
            self._titles[room] = title or f"Room {room}"
            self.tabs.addTab(view, self._titles[room])
            self._update_counts()
        self._update_permissions(room)
        view.set_typing(self.workspace.typists(room))
        self._update_empty_hint()
        return view

    def _wire_view(self, view: RoomView, room: str) -> None:
        """What the person does in a room view, to the workspace."""
        workspace = self.workspace
        view.messageSubmitted.connect(
            lambda text, reply_to, r=room: workspace.send(r, text, reply_to))
        view.editSubmitted.connect(lambda seq, text, r=room: workspace.edit(r, seq, text))
        view.deleteRequested.connect(lambda seq, r=room: workspace.delete(r, seq))
        view.cancelSendingRequested.connect(
            lambda client_id, r=room: workspace.delete_pending(r, client_id))
        view.reactionToggled.connect(
            lambda seq, emoji, on, r=room: workspace.react(r, seq, emoji, on))
        view.messageWanted.connect(lambda seq, r=room: workspace.load_around(r, seq))
        view.typingActivity.connect(lambda r=room: workspace.typing(r))
        view.directMessageRequested.connect(lambda name: workspace.open_dm([name]))
        view.leaveRequested.connect(lambda r=room: workspace.close_room(r))
        view.muteToggled.connect(lambda muted, r=room: workspace.set_muted(r, muted))
        view.filesSubmitted.connect(lambda text, reply_to, files, r=room:
                                    workspace.send_files(r, text, reply_to, files))
        view.uploadCancelled.connect(workspace.cancel_upload)
        view.set_file_transfers(self.files)

    def choose_downloads_folder(self) -> None:
        """Where Save puts files (the Downloads folder until the person picks another)."""
        current = self.files.folder or default_folder()
        chosen = QFileDialog.getExistingDirectory(self, "Save files to", str(current))
        if chosen:
            self.files.folder = Path(chosen)
            self.downloadsFolderChosen.emit(chosen)

    def _uploads_changed(self, room: str, pending: list[dict[str, object]]) -> None:
        if (view := self.views.get(room)) is not None:
            view.set_uploads(pending)

    def _upload_progress(self, room: str, key: str, sent: int, size: int) -> None:
        if (view := self.views.get(room)) is not None:
            view.upload_progress(key, sent, size)

    def _typing_changed(self, room: str, usernames: list[str]) -> None:
        view = self.views.get(room)
        if view is not None:
            view.set_typing(list(usernames))

    def _update_permissions(self, room: str) -> None:
        """A superuser deletes anyone's message in a room, never in a direct conversation."""
        view = self.views.get(room)
        if view is None:
            return
        account = self.workspace.client.account
        superuser = account is not None and account.is_superuser
        view.set_permissions(delete_any=superuser and not self.workspace.is_direct(room))

    def _update_room_details(self, *_: object) -> None:
        """Room kinds and titles may have changed (a fresh room list): the views follow."""
        for room in self.views:
            self._update_permissions(room)
            listed = self.workspace.rooms.title(room)
            if listed is not None and listed != self._titles.get(room):
                self.set_room_title(room, listed)

    def remove_room_view(self, room: str) -> None:
        view = self.views.get(room)
        if view is not None and not view.banner.isHidden():
            view.set_closed(True)  # keep the tab, so the reason stays where it happened
            return
        view = self.views.pop(room, None)
        self._titles.pop(room, None)
        if view is not None:
            self.tabs.removeTab(self.tabs.indexOf(view))
            view.deleteLater()
        self._update_empty_hint()
        self._update_counts()

    def _muted_changed(self, muted: list[str]) -> None:
        for room, view in self.views.items():
            view.set_muted(room in muted)

    def set_room_title(self, room: str, title: str) -> None:
        view = self.views.get(room)
        if view is not None:
            view.title.setText(title)
            self._titles[room] = title
            self._update_counts()

    def show_room(self, room: str) -> None:
        view = self.views.get(room)
        if view is not None:
            self.tabs.setCurrentWidget(view)
            view.focus_input()

    def give_back(self, room: str, text: str) -> None:
        """A refused message's text back in its room's message box (see RoomView)."""
        view = self.views.get(room)
        if view is not None:
            view.give_back(text)

    def give_back_edit(self, room: str, seq: int, text: str) -> None:
        """A refused edit's text back in its room's box, editing that message again."""
        view = self.views.get(room)
        if view is not None:
            view.give_back_edit(seq, text)

    def show_room_error(self, room: str, words: str) -> None:
        view = self.views.get(room)
        if view is not None:
            view.show_banner(words)
        else:
            self.statusBar().showMessage(words, 10_000)

    def current_room(self) -> str | None:
        view = self.tabs.currentWidget()
        return view.room if isinstance(view, RoomView) else None

    def title_of(self, room: str) -> str:
        return self._titles.get(room, "")

    # -- what the person does ------------------------------------------------------------

    def open_room(self, room: str, title: str = "") -> None:
        """Join (if need be) and bring the room into view, its input focused."""
        self.workspace.open_room(room, title)
        self.show_room(room)

    def open_switcher(self) -> None:
        self.switcher.open_for_search()

    def search_in_room(self) -> None:
        """Ctrl+F: search the room in view (everywhere when none is)."""
        room = self.current_room()
        self.search_panel.open_for(room, self._titles.get(room, "") if room else "",
                                   everywhere=False)

    def search_everywhere(self) -> None:
        """Ctrl+Shift+F: search every room and direct conversation."""
        room = self.current_room()
        self.search_panel.open_for(room, self._titles.get(room, "") if room else "",
                                   everywhere=True)

    def open_at_message(self, room: str, seq: int) -> None:
        """A search result: its room open and in view (joined if need be), scrolled to the
        message and the message highlighted, loaded first if it is far back."""
        if room in self.views and not self.views[room].closed:
            self.show_room(room)
        else:
            self.open_room(room, self.workspace.title(room))
        view = self.views.get(room)
        if view is not None:
            view.go_to_message(seq)

    def open_user_picker(self) -> None:
        """New direct message: pick or type the people (several make a group)."""
        self.user_picker.open_with(self.workspace.known_users(), self.workspace.username)

    def previous_room(self) -> None:
        self._step_room(-1)

    def next_room(self) -> None:
        self._step_room(1)

    def _step_room(self, step: int) -> None:
        count = self.tabs.count()
        if count > 1:
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % count)
            view = self.tabs.currentWidget()
            if isinstance(view, RoomView):
                view.focus_input()

    def close_current_room(self) -> None:
        """Ctrl+W: what the tab's close button does, for the tab in view."""
        if self.tabs.count():
            self._tab_close_requested(self.tabs.currentIndex())

    def toggle_sidebar(self) -> None:
        """The header's Rooms button, View > Room list, Ctrl+Shift+B."""
        visible = not self.sidebar.isVisible()
        if not self._narrow:
            self._sidebar_wanted = visible
        self._show_sidebar(visible)
        if visible:
            self.room_list.setFocus(Qt.FocusReason.ShortcutFocusReason)
        elif self._narrow:
            self._focus_room_in_view()

    def _show_sidebar(self, visible: bool) -> None:
        if visible and self._narrow:
            self._place_overlay()
            self.sidebar.raise_()
        self.sidebar.setVisible(visible)
        self.sidebar_action.setChecked(visible)
        self.rooms_button.setChecked(visible)
        # Narrow, the button is the way to the list and out of it; wide, it shows once
        # the person has hidden the list.
        self.rooms_button.setVisible(bool(self._narrow) or not visible)

    def _set_narrow(self, narrow: bool) -> None:
        """Narrow, the room list lies over the messages when shown, instead of beside them
        (a splitter would squeeze the messages to nothing, or hold the window wider)."""
        self._narrow = narrow
        if narrow and self.sidebar.parent() is not self.body:
            self.sidebar.setParent(self.body)  # out of the splitter: hidden until asked for
        elif not narrow and self.sidebar.parent() is not self.splitter:
            self.splitter.insertWidget(0, self.sidebar)
            self.splitter.setSizes([220, max(0, self.splitter.width() - 220)])
        self.sidebar.setProperty("overlay", narrow)
        self.sidebar.style().unpolish(self.sidebar)
        self.sidebar.style().polish(self.sidebar)
        self._show_sidebar(self._sidebar_wanted and not narrow)

    def _place_overlay(self) -> None:
        area = self.splitter.geometry()
        width = max(0, min(OVERLAY_WIDTH, area.width() - OVERLAY_SPARE))
        self.sidebar.setGeometry(QRect(area.topLeft(), QSize(width, area.height())))

    def _over_messages(self) -> bool:
        return bool(self._narrow) and self.sidebar.isVisible()

    def _focus_room_in_view(self) -> None:
        view = self.tabs.currentWidget()
        if isinstance(view, RoomView):
            view.focus_input()

    def show_shortcuts(self) -> None:
        keys.ShortcutsDialog(self).open()

    def _theme_chosen(self, choice: theme.ThemeChoice) -> None:
        theme.switcher().set_choice(choice)
        self.themeChosen.emit(choice.value)

    def _room_activated(self, index: QModelIndex) -> None:
        room = str(index.data(RoomRole.RoomId))
        if self._narrow:  # picked: the list lying over the messages steps aside
            self._show_sidebar(False)
        self.open_room(room, str(index.data(Qt.ItemDataRole.DisplayRole) or ""))

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
        self._update_counts()

    def _update_counts(self, *_: object) -> None:
        """The title names the room in view and counts what waits in the others;
        each tab shows its own room's count. A muted room counts only mentions."""
        rooms = self.workspace.rooms
        current = self.current_room()
        waiting = 0
        for room, view in self.views.items():
            unread = 0 if rooms.is_muted(room) else rooms.unread(room)
            mentions = rooms.mention_count(room)
            if room != current:
                waiting += max(unread, mentions)
            title = self._titles.get(room, "")
            count = badge(unread, mentions)
            position = self.tabs.indexOf(view)
            # The count leads: a long title elides from the right and must not take it along.
            self.tabs.setTabText(position, f"({count}) {title}" if count else title)
            self.tabs.setTabToolTip(position, title)
        # Rooms counted in the list but without a tab (left, or not open) count too.
        for row in range(rooms.rowCount()):
            room = str(rooms.index(row).data(RoomRole.RoomId))
            if room not in self.views and room != current:
                waiting += max(0 if rooms.is_muted(room) else rooms.unread(room),
                               rooms.mention_count(room))
        name = self._titles.get(current, "") if current is not None else ""
        words = f"{name} — {APP_NAME}" if name else APP_NAME
        self.setWindowTitle(f"({waiting}) {words}" if waiting else words)

    def _select_in_list(self, room: str | None) -> None:
        """Keep the sidebar's selection on the room in view, in whichever section it is."""
        for room_list, section in ((self.room_list, self.room_section),
                                   (self.direct_list, self.direct_section)):
            found = next((section.index(row, 0) for row in range(section.rowCount())
                          if section.index(row, 0).data(RoomRole.RoomId) == room), None)
            if found is not None:
                room_list.setCurrentIndex(found)
            else:
                room_list.selectionModel().clearSelection()

    def _update_empty_hint(self) -> None:
        empty = self.tabs.count() == 0
        self.tabs.setVisible(not empty)
        self.empty_hint.setVisible(empty)

    # -- size: fit the screen, give the messages the room ---------------------------------

    def fit_to_screen(self) -> None:
        fit_to_screen(self)

    def restoreGeometry(self, geometry: QByteArray | bytes | bytearray | memoryview) -> bool:
        restored = super().restoreGeometry(geometry)
        self.fit_to_screen()
        return restored

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        narrow = event.size().width() < NARROW_WIDTH
        if narrow != self._narrow:
            self._set_narrow(narrow)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Let the window's shortcuts past a message box that would take the keys; keep the
        room list over a narrow window on the messages' area, and put it away with Esc or
        once the person works elsewhere."""
        if watched is self.splitter:
            if event.type() in (QEvent.Type.Resize, QEvent.Type.Move) and self._over_messages():
                self._place_overlay()
            return False
        if watched in self.room_lists:
            if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                    and event.key() == Qt.Key.Key_Escape and self._over_messages()):
                self._show_sidebar(False)
                self._focus_room_in_view()
                return True
            if (event.type() == QEvent.Type.FocusOut and isinstance(event, QFocusEvent)
                    and self._over_messages() and self._focus_went_elsewhere(event)):
                self._show_sidebar(False)
            return False
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            pressed = QKeySequence(event.keyCombination())
            if any(pressed.matches(QKeySequence(k)) == QKeySequence.SequenceMatch.ExactMatch
                   for k in WINDOW_KEYS):
                event.ignore()
                return True
        return super().eventFilter(watched, event)

    def _focus_went_elsewhere(self, event: QFocusEvent) -> bool:
        """Into the window's own widgets (the messages, a tab): not to a menu, another
        window, or the Rooms button (whose click then closes the list itself)."""
        if event.reason() in (Qt.FocusReason.PopupFocusReason,
                              Qt.FocusReason.ActiveWindowFocusReason,
                              Qt.FocusReason.MenuBarFocusReason):
            return False
        taker = QApplication.focusWidget()
        return (taker is not None and taker is not self.rooms_button
                and self.isAncestorOf(taker) and not self.sidebar.isAncestorOf(taker))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.ActivationChange:
            self.workspace.set_window_active(self.isActiveWindow())
            self._update_counts()
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closeRequested.emit(event)
