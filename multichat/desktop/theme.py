"""The app's two looks, light and dark, as one definition every colour comes from.

Widgets never name a colour: the style sheet (``resources.style_sheet``, a
template of Theme fields), the application's QPalette (``palette``), the
delegates and the tray badge all read ``current()``. Which theme is current
follows the person's choice (Light, Dark, System); "System" follows Qt's colour
scheme, live (``QStyleHints.colorSchemeChanged``), or the platform palette's
window lightness where the platform gives no scheme. ``ThemeSwitcher`` puts a
theme into the running app.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractItemView, QApplication


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
    border: str  # decorative lines between panes and around cards
    control_border: str  # the outline that shows where a control is (a checkbox's box)
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
    sidebar_focus: str  # the focus ring around the room list's current row, on sidebar
    hover: str  # a button under the pointer, behind text
    chip_background: str  # a reaction under a message, behind its emoji and count
    chip_own_background: str  # a reaction the reader gave (outlined in own_name)
    highlight: str  # the message a reply's quote jumped to, for a moment, behind text


LIGHT = Theme(
    name="light", dark=False,
    window="#f3f4f6", surface="#ffffff", text="#1f2937", quiet="#4b5563",
    border="#d1d5db", control_border="#6b7280",
    accent="#1d4ed8", on_accent="#ffffff", link="#1d4ed8",
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
    sidebar_focus="#93c5fd", hover="#f9fafb",
    chip_background="#f3f4f6", chip_own_background="#dbeafe", highlight="#e0e7ff",
)

DARK = Theme(
    name="dark", dark=True,
    window="#111318", surface="#1b1e24", text="#e5e7eb", quiet="#a1a7b3",
    border="#3a3f4b", control_border="#7c8494",
    accent="#2563eb", on_accent="#ffffff", link="#7ab4ff",
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
    sidebar_focus="#60a5fa", hover="#252a33",
    chip_background="#2a2f3a", chip_own_background="#1e3a6e", highlight="#2e3760",
)

# (text, background) field pairs read together: each must reach WCAG AA, 4.5:1.
TEXT_PAIRS: tuple[tuple[str, str], ...] = (
    ("text", "window"), ("text", "surface"), ("quiet", "surface"), ("quiet", "window"),
    ("on_accent", "accent"), ("link", "surface"), ("own_name", "own_background"),
    ("text", "own_background"), ("sender", "surface"), ("text", "mention_background"),
    ("warning_text", "warning_background"), ("alert_text", "alert_background"),
    ("error_text", "error_background"), ("success_text", "success_background"),
    ("sidebar_text", "sidebar"), ("sidebar_text", "sidebar_selected"),
    ("on_badge", "unread_badge"), ("on_badge", "mention_badge"), ("divider", "surface"),
    ("text", "hover"), ("sender", "hover"), ("online", "window"), ("connecting", "window"),
    ("offline", "window"), ("sidebar_quiet", "sidebar"),
    # What the message delegate paints on a row's own background: times, links and
    # names on one's own messages and on a mention; links inside warnings and alerts.
    ("quiet", "own_background"), ("link", "own_background"), ("sender", "mention_background"),
    ("quiet", "mention_background"), ("link", "mention_background"),
    ("link", "warning_background"), ("link", "alert_background"),
    # The room list's current row.
    ("sidebar_quiet", "sidebar_selected"),
    # Reactions (a count on its chip), a reply's quote and a message jumped to.
    ("text", "chip_background"), ("text", "chip_own_background"),
    ("own_name", "chip_own_background"), ("text", "highlight"), ("sender", "highlight"),
    ("quiet", "highlight"), ("link", "highlight"),
)
# (outline, background) pairs that show where a control is: WCAG 2.x non-text
# contrast (1.4.11) asks 3:1 for the boundary a person needs to see the control.
CONTROL_PAIRS: tuple[tuple[str, str], ...] = (
    ("control_border", "surface"), ("control_border", "window"), ("accent", "surface"),
    ("accent", "window"),
    # A reaction the reader gave is outlined in own_name on its chip (the dark accent
    # is too dark for it), the others in control_border.
    ("own_name", "chip_own_background"), ("control_border", "chip_background"),
)

_in_use: list[Theme] = [LIGHT]


def current() -> Theme:
    """The theme in use now; set by ``set_current`` when the choice or the system changes."""
    return _in_use[0]


def set_current(theme: Theme) -> None:
    _in_use[0] = theme


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


def palette(theme: Theme) -> QPalette:
    """The application palette in ``theme``: plain Qt widgets (lists, combo popups,
    message boxes, menus) then match the style sheet without a rule each."""
    roles = QPalette.ColorRole
    result = QPalette()
    colours = {
        roles.Window: theme.window, roles.WindowText: theme.text,
        roles.Base: theme.surface, roles.AlternateBase: theme.window,
        roles.Text: theme.text, roles.Button: theme.surface, roles.ButtonText: theme.text,
        roles.Highlight: theme.accent, roles.HighlightedText: theme.on_accent,
        roles.ToolTipBase: theme.surface, roles.ToolTipText: theme.text,
        roles.PlaceholderText: theme.quiet, roles.Link: theme.link,
        roles.LinkVisited: theme.link, roles.BrightText: theme.on_accent,
        # Fusion draws frame and check box outlines from Window darkened, not from a
        # role (the style sheet gives those their control_border); Dark and Shadow
        # still shade QFrame panels and lines, which mark where a control is.
        roles.Light: theme.surface, roles.Midlight: theme.hover, roles.Mid: theme.border,
        roles.Dark: theme.control_border, roles.Shadow: theme.control_border,
        roles.Accent: theme.accent,
    }
    for role, value in colours.items():
        result.setColor(role, QColor(value))
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        result.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.quiet))
    return result


def resolve(choice: ThemeChoice, system_dark: bool) -> Theme:
    if choice is ThemeChoice.SYSTEM:
        return DARK if system_dark else LIGHT
    return DARK if choice is ThemeChoice.DARK else LIGHT


class ThemeSwitcher(QObject):
    """Puts the chosen theme into the running app and follows the system's scheme.

    The app runs the Fusion style (``install``): native styles draw parts from
    the platform (gtk3's from GTK, Windows' from its own theme engine) and ignore
    the palette there, so a dark palette could meet light native controls. Fusion
    draws everything from the QPalette, the same on every platform, so one
    Theme gives the same readable result under gtk3, KDE, Windows and macOS.

    Signals:
        changed(Theme): a theme went in (palette and sheet set, widgets
            repainted); whatever caches colours (badges, documents) redraws.
    """

    changed = Signal(object)

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.setObjectName("themeSwitcher")
        self._app = app
        self._system_palette = QPalette(app.palette())  # the platform's, before ours
        self._scheme = app.styleHints().colorScheme()
        self.choice = ThemeChoice.SYSTEM
        self._applied = False  # apply() has run: the app wears self.choice
        app.styleHints().colorSchemeChanged.connect(self._scheme_changed)

    def system_dark(self) -> bool:
        """The platform's scheme; where it says nothing, its window colour decides."""
        if self._scheme == Qt.ColorScheme.Dark:
            return True
        if self._scheme == Qt.ColorScheme.Light:
            return False
        return self._system_palette.color(QPalette.ColorRole.Window).lightness() < 128

    def set_choice(self, choice: ThemeChoice | str) -> None:
        """Put ``choice`` in; the one in force already is left as it is: setting the
        sheet again re-polishes every widget (a tenth of a second at start-up, when
        the controller ticks the saved choice the app was installed with)."""
        chosen = ThemeChoice(choice)
        if chosen is self.choice and self._applied:
            return
        self.choice = chosen
        self.apply()

    def apply(self) -> None:
        from multichat.desktop.resources import style_sheet  # noqa: PLC0415 - it imports us

        theme = resolve(self.choice, self.system_dark())
        set_current(theme)
        self._app.setPalette(palette(theme))
        self._app.setStyleSheet(style_sheet(theme))  # re-polishes every widget
        self._applied = True
        for widget in self._app.allWidgets():  # delegates paint from current(): repaint
            if isinstance(widget, QAbstractItemView):
                widget.viewport().update()
            widget.update()
        self.changed.emit(theme)

    def _scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        self._scheme = scheme
        if self.choice is ThemeChoice.SYSTEM:
            self.apply()


def switcher(app: QApplication | None = None) -> ThemeSwitcher:
    """The app's one ThemeSwitcher, made on first use."""
    application = app or QApplication.instance()
    assert isinstance(application, QApplication)
    found = application.findChild(ThemeSwitcher, "themeSwitcher")
    return found if isinstance(found, ThemeSwitcher) else ThemeSwitcher(application)


def install(app: QApplication, choice: ThemeChoice | str = ThemeChoice.SYSTEM) -> ThemeSwitcher:
    """Fusion (see ThemeSwitcher for why) and the chosen theme, before any window shows."""
    app.setStyle("Fusion")
    follower = switcher(app)
    follower.set_choice(choice)
    return follower


def current_choice() -> ThemeChoice:
    """The choice in force: the switcher's, or System before there is one."""
    app = QApplication.instance()
    found = app.findChild(ThemeSwitcher, "themeSwitcher") if isinstance(app, QApplication) \
        else None
    return found.choice if isinstance(found, ThemeSwitcher) else ThemeChoice.SYSTEM
