"""The tray icon with the unread count, and desktop notifications through it.

Where the desktop has no tray (or in tests, offscreen) the notifier keeps the
counts and the last notification, and shows nothing.

Signals:
    activated(str room): the person clicked a notification of that room.
    showRequested(): the person clicked the tray icon itself.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QSystemTrayIcon

ICON_SIZE = 64


def badge_icon(base: QIcon | None, count: int) -> QIcon:
    """The app icon with a red badge holding ``count`` (none when 0)."""
    pixmap = base.pixmap(ICON_SIZE, ICON_SIZE) if base is not None else QPixmap(ICON_SIZE,
                                                                                  ICON_SIZE)
    if base is None:
        pixmap.fill(QColor("#2563eb"))
    if count > 0:
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor("#dc2626"))
        painter.setPen(Qt.PenStyle.NoPen)
        diameter = ICON_SIZE // 2
        painter.drawEllipse(ICON_SIZE - diameter, 0, diameter, diameter)
        font = QFont()
        font.setBold(True)
        font.setPixelSize(diameter * 2 // 3)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(ICON_SIZE - diameter, 0, diameter, diameter,
                         Qt.AlignmentFlag.AlignCenter, str(count) if count < 100 else "99+")
        painter.end()
    return QIcon(pixmap)


class Notifier(QObject):
    activated = Signal(str)
    showRequested = Signal()

    def __init__(self, icon: QIcon | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icon = icon
        self.unread = 0
        self.mentions = 0
        self.last: tuple[str, str, str, bool] | None = None
        self._last_room = ""
        self.tray_available = QSystemTrayIcon.isSystemTrayAvailable()
        self.tray: QSystemTrayIcon | None = None
        if self.tray_available:
            self.tray = QSystemTrayIcon(badge_icon(icon, 0), self)
            self.tray.setToolTip("Multichat")
            self.tray.messageClicked.connect(lambda: self.activated.emit(self._last_room))
            self.tray.activated.connect(lambda _reason: self.showRequested.emit())
            self.tray.show()

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
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(*self.message(title, body, mention),
                                  QSystemTrayIcon.MessageIcon.Information, 5000)

    def hide(self) -> None:
        if self.tray is not None:
            self.tray.hide()
