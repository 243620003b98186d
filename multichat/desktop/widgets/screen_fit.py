"""Windows that never come up larger than the screen, at any scale.

A geometry saved at another scale or on a larger monitor, a default size
made for 1x, or a window manager that adds its title bar after placing a
window must not leave any part of a window (its buttons) off the screen.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize
from PySide6.QtWidgets import QWidget


def fit_within(frame: QRect, available: QRect) -> QRect:
    """``frame`` (a window with its title bar) shrunk to ``available`` and moved inside it."""
    size = frame.size().boundedTo(available.size())
    x = min(max(frame.left(), available.left()), available.right() - size.width() + 1)
    y = min(max(frame.top(), available.top()), available.bottom() - size.height() + 1)
    return QRect(QPoint(x, y), size)


def fit_to_screen(window: QWidget) -> None:
    """Shrink and move a top-level window into its screen's free area: a geometry saved
    at another scale, or on a larger monitor, must not come back larger than this one."""
    available = window.screen().availableGeometry()
    # The window manager's frame counts once it is known (it is not before the first show).
    decoration = (window.frameGeometry().size() - window.geometry().size()
                  if window.isVisible() else QSize(0, 0))
    fitted = fit_within(QRect(window.frameGeometry().topLeft(), window.size() + decoration),
                        available)
    if fitted.size() != window.size() + decoration:
        window.resize(fitted.size() - decoration)
    # Placed by the frame it really has: a minimum size may have refused the resize.
    frame = window.frameGeometry()
    placed = fit_within(frame, available).topLeft()
    if placed != frame.topLeft():
        window.move(placed)


# Any of these may be the first to see the window manager's frame around a new window.
FRAMING_EVENTS = (QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.UpdateRequest,
                  QEvent.Type.Expose)


class ScreenFit(QObject):
    """Keeps a top-level window inside its screen: fitted as it shows, and again once the
    window manager has framed it (openbox places a window first, then adds a title bar
    that pushed it a bar's height past the screen's edge)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._until_framed = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Show:
            self._until_framed = True
            fit_to_screen(self._window)
        # Frame extents arrive without a move on some window managers (openbox).
        elif (self._until_framed and kind in FRAMING_EVENTS
              and self._window.frameGeometry() != self._window.geometry()):
            self._until_framed = False
            fit_to_screen(self._window)
        return False
