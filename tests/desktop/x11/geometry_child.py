"""Run by test_geometry under a real X display: the main window at 480 px, as JSON.

Two rooms open, one with a 60-character title; a geometry saved on a larger
screen is restored first, as the app does at login, so the clamp is exercised.
With ``connect``: the connect window as it first opens, and whether Log in can
be scrolled into view on the screen.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from PySide6.QtCore import QDeadlineTimer, QEventLoop, QPoint, QRect
from PySide6.QtWidgets import QApplication, QWidget

from multichat.desktop import theme
from multichat.desktop.client import ChatClient
from multichat.desktop.widgets.connect_window import ConnectWindow
from multichat.desktop.widgets.main_window import MainWindow
from multichat.desktop.workspace import Workspace
from multichat.protocol.frames import RoomInfo

LONG_TITLE = "The quarterly planning room for everyone in the west office"
WAIT_MS = 10_000


def wait_for(condition: Callable[[], bool], *, must: bool = True) -> None:
    """Process events until ``condition`` holds (each round waits for an event, 50 ms at
    most); past the deadline, fail if it ``must``, else let the parent judge the report."""
    deadline = QDeadlineTimer(WAIT_MS)
    while not condition():
        if deadline.hasExpired():
            if must:
                raise SystemExit("timed out waiting for the window")
            return
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)


def fits(window: QWidget) -> bool:
    return window.screen().availableGeometry().contains(window.frameGeometry())


def rect(area: QRect) -> list[int]:
    return [area.x(), area.y(), area.width(), area.height()]


def main() -> None:
    app = QApplication(sys.argv[:1])
    theme.install(app)
    client = ChatClient()
    window = MainWindow(Workspace(client))
    client.roomsChanged.emit([RoomInfo(1, "Lobby", False), RoomInfo(2, LONG_TITLE, False)])
    client.roomJoined.emit("1", "Lobby")
    client.roomJoined.emit("2", LONG_TITLE)
    big = MainWindow(Workspace(ChatClient()))  # saved on a 4K screen
    big.setGeometry(0, 0, 3000, 2000)
    window.restoreGeometry(big.saveGeometry())
    window.show()
    wait_for(lambda: window.windowHandle().isExposed())
    wait_for(lambda: fits(window), must=False)  # the window manager frames it, we refit
    available = window.screen().availableGeometry()
    shown = {"frame": rect(window.frameGeometry()), "available": rect(available)}
    window.resize(480, window.height())
    wait_for(lambda: window.width() <= 480)
    wait_for(lambda: window.frameGeometry().width() > window.width())
    wait_for(lambda: fits(window), must=False)
    print(json.dumps({
        "restored": shown,
        "width": window.width(),
        "frame": rect(window.frameGeometry()),
        "available": rect(window.screen().availableGeometry()),
        "minimum": [window.minimumSizeHint().width(), window.minimumSizeHint().height()],
        "sidebar": window.sidebar.isVisible(),
        "tabs": [window.tabs.tabText(i) for i in range(window.tabs.count())],
    }))


def connect_main() -> None:
    app = QApplication(sys.argv[:1])
    theme.install(app)
    window = ConnectWindow()
    window.show()
    wait_for(lambda: window.windowHandle().isExposed())
    wait_for(lambda: window.frameGeometry().height() > window.height(), must=False)
    wait_for(lambda: fits(window), must=False)
    submit = window.join.submit
    window.card_scroll.ensureWidgetVisible(submit)
    QApplication.processEvents()
    corner = submit.mapToGlobal(QPoint(0, 0))
    print(json.dumps({
        "frame": rect(window.frameGeometry()),
        "available": rect(window.screen().availableGeometry()),
        "submit": [corner.x(), corner.y(), submit.width(), submit.height()],
        "submit_visible": submit.isVisible() and not submit.visibleRegion().isEmpty(),
    }))


if __name__ == "__main__":
    connect_main() if sys.argv[1:] == ["connect"] else main()
