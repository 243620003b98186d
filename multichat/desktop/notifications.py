"""Telling the person about messages they are not looking at.

Three routes, the first that exists: the tray icon's message (clickable, with a
badge and a menu: Show, Mute all, Quit); else the freedesktop notification
service on the session bus (desktops without a tray, see ``freedesktop``);
else ``QApplication.alert`` on the main window, whose title carries the
unread count. "Mute all" silences every route; the counts stay. The D-Bus route
runs on the asyncio loop (never blocking the window); when it fails the window
is alerted instead, as where there is no service. Clicking a notice, by tray or
D-Bus, asks to open its room.

Signals:
    activated(str room): the person clicked a notification of that room.
    showRequested(): the person clicked the tray icon or its Show.
    quitRequested(): the tray menu's Quit.
    mutedChanged(bool): "Mute all" was switched.
    delivered(str route, str title, str body): a notice went out by "tray",
        "desktop" or "alert" (for "desktop", once the service took it).
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget

from multichat.desktop import theme
from multichat.desktop.freedesktop import FreedesktopNotifications

ICON_SIZE = 64


def badge_icon(base: QIcon | None, count: int) -> QIcon:
    """The app icon with a badge holding ``count`` (none when 0), in the theme's colours."""
    colours = theme.current()
    pixmap = base.pixmap(ICON_SIZE, ICON_SIZE) if base is not None else QPixmap(ICON_SIZE,
                                                                                  ICON_SIZE)
    if base is None:
        pixmap.fill(QColor(colours.accent))
    if count > 0:
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor(colours.mention_badge))
        painter.setPen(Qt.PenStyle.NoPen)
        diameter = ICON_SIZE // 2
        painter.drawEllipse(ICON_SIZE - diameter, 0, diameter, diameter)
        font = QFont()
        font.setBold(True)
        font.setPixelSize(diameter * 2 // 3)
        painter.setFont(font)
        painter.setPen(QColor(colours.on_badge))
        painter.drawText(ICON_SIZE - diameter, 0, diameter, diameter,
                         Qt.AlignmentFlag.AlignCenter, str(count) if count < 100 else "99+")
        painter.end()
    return QIcon(pixmap)


class Notifier(QObject):
    activated = Signal(str)
    showRequested = Signal()
    quitRequested = Signal()
    mutedChanged = Signal(bool)
    delivered = Signal(str, str, str)

    def __init__(self, icon: QIcon | None, parent: QObject | None = None, *,
                 desktop: FreedesktopNotifications | None = None,
                 tray: bool | None = None) -> None:
        """``tray``: whether a system tray works; None asks Qt (tests say it themselves)."""
        super().__init__(parent)
        self._icon = icon
        self.unread = 0
        self.mentions = 0
        self.last: tuple[str, str, str, bool] | None = None
        self._last_room = ""
        self._window: QWidget | None = None
        self.desktop = desktop if desktop is not None else FreedesktopNotifications()
        self.desktop.setParent(self)
        self.desktop.clicked.connect(self.activated)
        self._sending: set[asyncio.Task[None]] = set()
        self.menu = QMenu()
        self.show_action = QAction("Show Multichat", self)
        self.show_action.triggered.connect(self.showRequested)
        self.mute_action = QAction("Mute all", self)
        self.mute_action.setCheckable(True)
        self.mute_action.setToolTip("No notifications from any room; the counts stay")
        self.mute_action.toggled.connect(self.mutedChanged)
        self.quit_action = QAction("Quit", self)
        self.quit_action.triggered.connect(self.quitRequested)
        self.menu.addAction(self.show_action)
        self.menu.addAction(self.mute_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.tray_available = (QSystemTrayIcon.isSystemTrayAvailable() if tray is None
                               else tray)
        self.tray: QSystemTrayIcon | None = None
        if self.tray_available:
            self.tray = QSystemTrayIcon(badge_icon(icon, 0), self)
            self.tray.setToolTip("Multichat")
            self.tray.setContextMenu(self.menu)
            self.tray.messageClicked.connect(lambda: self.activated.emit(self._last_room))
            self.tray.activated.connect(self._tray_activated)
            self.tray.show()
        theme.switcher().changed.connect(self._repaint)

    @property
    def muted(self) -> bool:
        return self.mute_action.isChecked()

    def set_muted(self, muted: bool) -> None:
        self.mute_action.setChecked(muted)

    def set_window(self, window: QWidget) -> None:
        """The window to alert (taskbar flash, urgency hint) when no popup can be shown."""
        self._window = window

    def set_totals(self, unread: int, mentions: int) -> None:
        self.unread, self.mentions = unread, mentions
        if self.tray is not None:
            self.tray.setIcon(badge_icon(self._icon, unread + mentions))
            self.tray.setToolTip(self.summary())

    def summary(self) -> str:
        """The tray's tooltip: the counts in words."""
        words = f"{self.unread} unread" + (
            f", {self.mentions} mentioning you" if self.mentions else "")
        return f"Multichat: {words}"

    @staticmethod
    def message(title: str, body: str, mention: bool) -> tuple[str, str]:
        """A notification's title and text as shown: mentions marked, long text cut."""
        return ("@ " if mention else "") + title, body if len(body) <= 200 else (
            body[:199] + "…")

    def notify(self, room: str, title: str, body: str, mention: bool) -> None:
        self.last = (room, title, body, mention)
        self._last_room = room
        if self.muted:
            return
        self._deliver(room, *self.message(title, body, mention))

    def inform(self, title: str, body: str) -> None:
        """Words from the app itself ("keeps running in the tray"): shown even when muted."""
        self._deliver("", title, body)

    def _deliver(self, room: str, title: str, body: str) -> None:
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, body, QSystemTrayIcon.MessageIcon.Information, 5000)
            self.delivered.emit("tray", title, body)
            return
        if self.desktop.available:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no asyncio loop runs (a bare Qt app): alert instead
                loop = None
            if loop is not None:
                task = loop.create_task(self._to_desktop(room, title, body))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)
                return
        self._alert(title, body)

    async def _to_desktop(self, room: str, title: str, body: str) -> None:
        if await self.desktop.notify(room, title, body):
            self.delivered.emit("desktop", title, body)
        else:
            self._alert(title, body)

    def _alert(self, title: str, body: str) -> None:
        if self._window is not None:
            QApplication.alert(self._window)
        self.delivered.emit("alert", title, body)

    def hide(self) -> None:
        if self.tray is not None:
            self.tray.hide()
        self.desktop.close()

    def _tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason != QSystemTrayIcon.ActivationReason.Context:  # the menu shows itself
            self.showRequested.emit()

    def _repaint(self, _theme: object) -> None:
        self.set_totals(self.unread, self.mentions)
