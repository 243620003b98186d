"""The app's two looks, light and dark, as one definition every colour comes from.

Widgets never name a colour: the style sheet, the delegates and the tray
badge all read ``current()``. Which theme is current follows the person's
choice (Light, Dark, System); "System" follows Qt's colour scheme (or the
palette's window lightness where the platform gives no scheme).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PySide6.QtGui import QColor


class ThemeChoice(enum.StrEnum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True, slots=True)
class Theme:
    """Named colours (``#rrggbb``); each *text* colour is read on its *background*."""

    name: str
    dark: bool
    window: str  # the window behind cards and panes
    surface: str  # the message view, inputs, cards
    text: str  # body text on surface and window
    quiet: str  # times, hints, notices on surface
    border: str
    accent: str  # the primary button, focus, links, the selected tab
    on_accent: str  # text on accent
    link: str
    own_background: str  # own messages, behind text
    own_name: str  # own name, on own_background
    sender: str  # other people's names, on surface
    mention_background: str  # a message naming the reader, behind text
    warning_background: str
    warning_text: str
    alert_background: str
    alert_text: str
    error_background: str  # form errors and room banners
    error_text: str
    success_background: str  # the hosting banner
    success_text: str
    sidebar: str  # the room list's background
    sidebar_text: str
    sidebar_quiet: str  # rooms not joined, the section title
    sidebar_selected: str  # behind the room in view
    unread_badge: str
    mention_badge: str
    on_badge: str
    staff_mark: str
    divider: str  # the "New messages" line and its words, on surface
    online: str
    connecting: str
    offline: str


LIGHT = Theme(
    name="light", dark=False,
    window="#f3f4f6", surface="#ffffff", text="#1f2937", quiet="#4b5563",
    border="#d1d5db", accent="#1d4ed8", on_accent="#ffffff", link="#1d4ed8",
    own_background="#eff6ff", own_name="#1d4ed8", sender="#111827",
    mention_background="#fef9c3",
    warning_background="#fffbeb", warning_text="#92400e",
    alert_background="#fef2f2", alert_text="#b91c1c",
    error_background="#fef2f2", error_text="#b91c1c",
    success_background="#ecfdf5", success_text="#047857",
    sidebar="#1f2937", sidebar_text="#e5e7eb", sidebar_quiet="#9ca3af",
    sidebar_selected="#2d3542",
    unread_badge="#1d4ed8", mention_badge="#b91c1c", on_badge="#ffffff",
    staff_mark="#f59e0b", divider="#c2410c",
    online="#047857", connecting="#b45309", offline="#b91c1c",
)

DARK = Theme(
    name="dark", dark=True,
    window="#111318", surface="#1b1e24", text="#e5e7eb", quiet="#a1a7b3",
    border="#3a3f4b", accent="#2563eb", on_accent="#ffffff", link="#7ab4ff",
    own_background="#1e2a44", own_name="#93c5fd", sender="#f3f4f6",
    mention_background="#433a12",
    warning_background="#3a2a10", warning_text="#fbbf24",
    alert_background="#3f1d1d", alert_text="#fca5a5",
    error_background="#3f1d1d", error_text="#fca5a5",
    success_background="#0f2e24", success_text="#6ee7b7",
    sidebar="#0b0d11", sidebar_text="#e5e7eb", sidebar_quiet="#9ca3af",
    sidebar_selected="#262b35",
    unread_badge="#2563eb", mention_badge="#dc2626", on_badge="#ffffff",
    staff_mark="#f59e0b", divider="#fb923c",
    online="#34d399", connecting="#fbbf24", offline="#f87171",
)

_in_use: list[Theme] = [LIGHT]


def current() -> Theme:
    """The theme in use now; set by ``set_current`` when the choice or the system changes."""
    return _in_use[0]


def set_current(theme: Theme) -> None:
    _in_use[0] = theme


def color(value: str) -> QColor:
    return QColor(value)


def relative_luminance(value: str) -> float:
    """WCAG 2.x relative luminance of ``#rrggbb``."""
    rgb = QColor(value)
    channels = []
    for channel in (rgb.redF(), rgb.greenF(), rgb.blueF()):
        channels.append(channel / 12.92 if channel <= 0.04045
                        else ((channel + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio, 1 to 21; body text wants at least 4.5."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)),
                             reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
