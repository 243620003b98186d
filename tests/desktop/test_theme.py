"""The theme: every colour from one definition, readable in both, switched live."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QListView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from multichat.desktop import theme
from multichat.desktop.resources import style_sheet
from multichat.desktop.widgets.message_list_view import MessageListView

THEMES = [theme.LIGHT, theme.DARK]
COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|rgba?\([^)]*\)|hsla?\([^)]*\)")
RULE = re.compile(r"([^{}]+)\{([^}]*)\}")
ROLE_PAIRS = [
    (QPalette.ColorRole.Text, QPalette.ColorRole.Base),
    (QPalette.ColorRole.WindowText, QPalette.ColorRole.Window),
    (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Button),
    (QPalette.ColorRole.HighlightedText, QPalette.ColorRole.Highlight),
    (QPalette.ColorRole.ToolTipText, QPalette.ColorRole.ToolTipBase),
    (QPalette.ColorRole.PlaceholderText, QPalette.ColorRole.Base),
    (QPalette.ColorRole.Link, QPalette.ColorRole.Base),
]


def theme_values(chosen: theme.Theme) -> set[str]:
    return {value.lower() for value in vars_of(chosen).values() if isinstance(value, str)}


def vars_of(chosen: theme.Theme) -> dict[str, object]:
    return {name: getattr(chosen, name) for name in chosen.__slots__}


@pytest.mark.parametrize("chosen", THEMES, ids=lambda t: t.name)
def test_every_colour_in_the_style_sheet_is_the_themes(chosen: theme.Theme) -> None:
    sheet = style_sheet(chosen)
    found = COLOUR.findall(re.sub(r"/\*.*?\*/", "", sheet, flags=re.DOTALL))
    assert found, "the sheet names colours"
    assert {colour.lower() for colour in found} <= theme_values(chosen)
    # Named colours too (white, black...): only "transparent" is allowed.
    words = {token
             for value in re.findall(r"(?:color|background|border[-a-z]*)\s*:\s*([^;]*);", sheet)
             for token in value.split()
             if not token.startswith("#") and not token[0].isdigit()}
    assert words <= {"transparent", "solid", "none"}


@pytest.mark.parametrize("chosen", THEMES, ids=lambda t: t.name)
def test_text_on_its_background_reads_at_4_5_to_1(chosen: theme.Theme) -> None:
    for text, background in theme.TEXT_PAIRS:
        ratio = theme.contrast_ratio(getattr(chosen, text), getattr(chosen, background))
        assert ratio >= 4.5, (chosen.name, text, background, ratio)
    # Each style rule that sets both a text colour and a background.
    for selector, body in RULE.findall(style_sheet(chosen)):
        colour = re.search(r"(?<![-\w])color:\s*(#\w+)", body)
        fill = re.search(r"background(?:-color)?:\s*(#\w+)", body)
        if colour and fill:
            ratio = theme.contrast_ratio(colour.group(1), fill.group(1))
            assert ratio >= 4.5, (chosen.name, selector.strip(), ratio)
    palette = theme.palette(chosen)
    for text_role, background_role in ROLE_PAIRS:
        ratio = theme.contrast_ratio(palette.color(text_role).name(),
                                     palette.color(background_role).name())
        assert ratio >= 4.5, (chosen.name, text_role, background_role, ratio)


@pytest.mark.parametrize("chosen", THEMES, ids=lambda t: t.name)
def test_control_outlines_and_focus_show_at_3_to_1(chosen: theme.Theme) -> None:
    """WCAG 1.4.11: the box of a checkbox, a field's edge, a focus ring against what is
    around them (``border`` is decorative and lighter; ``control_border`` is for controls)."""
    for outline, background in theme.CONTROL_PAIRS:
        ratio = theme.contrast_ratio(getattr(chosen, outline), getattr(chosen, background))
        assert ratio >= 3, (chosen.name, outline, background, ratio)
    sheet = style_sheet(chosen)
    indicator = re.search(r"QCheckBox::indicator\s*\{([^}]*)\}", sheet)
    assert indicator and chosen.control_border in indicator.group(1)
    palette = theme.palette(chosen)
    for role in (QPalette.ColorRole.Dark, QPalette.ColorRole.Shadow):
        assert palette.color(role).name() == QColor(chosen.control_border).name()


@pytest.mark.parametrize("chosen", THEMES, ids=lambda t: t.name)
def test_a_lists_check_boxes_show_their_box(
    qtbot: QtBot, qapp: QApplication, chosen: theme.Theme
) -> None:
    """New direct message's people are checked in a list: each box outlined in
    control_border (3:1), a checked one filled with the accent, as a QCheckBox."""
    qapp.setStyle("Fusion")
    qapp.setPalette(theme.palette(chosen))
    qapp.setStyleSheet(style_sheet(chosen))
    model = QStandardItemModel()
    for name, state in (("bob", Qt.CheckState.Unchecked), ("chen", Qt.CheckState.Checked)):
        item = QStandardItem(name)
        item.setCheckable(True)
        item.setCheckState(state)
        model.appendRow(item)
    people = QListView()
    qtbot.addWidget(people)
    people.setModel(model)
    people.resize(200, 80)
    people.show()
    qtbot.waitExposed(people)
    for row, colour in ((0, chosen.control_border), (1, chosen.accent)):
        rect = people.visualRect(model.index(row, 0))
        image = people.viewport().grab(rect).toImage()
        found = {image.pixelColor(x, y).name() for x in range(image.width())
                 for y in range(image.height())}
        assert QColor(colour).name() in found, (chosen.name, row, colour)


# Every class of focusable widget the app shows, and the selector its focus rule has.
FOCUSABLE = ("QLineEdit", "QComboBox", "QPlainTextEdit", "QSpinBox", "QPushButton",
             "QToolButton", "QCheckBox::indicator", "QTabBar::tab", "QListView#roomList",
             "QListView#messageList")


def test_the_sheet_has_a_focus_rule_for_every_focusable_class() -> None:
    selectors = [selector.strip() for selector, _ in RULE.findall(
        re.sub(r"/\*.*?\*/", "", style_sheet(theme.LIGHT), flags=re.DOTALL))]
    with_focus = {part.strip().removesuffix(":focus").replace(":checked", "")
                  for selector in selectors for part in selector.split(",")
                  if part.strip().endswith(":focus")}
    assert set(FOCUSABLE) <= with_focus, set(FOCUSABLE) - with_focus


@pytest.mark.parametrize("chosen", THEMES, ids=lambda t: t.name)
def test_focus_changes_how_each_control_looks(
    qtbot: QtBot, qapp: QApplication, chosen: theme.Theme
) -> None:
    qapp.setStyle("Fusion")
    qapp.setPalette(theme.palette(chosen))
    qapp.setStyleSheet(style_sheet(chosen))
    window = QWidget()
    qtbot.addWidget(window)
    layout = QVBoxLayout(window)
    elsewhere = QToolButton()
    elsewhere.setText("Elsewhere")
    members = QToolButton()
    members.setText("Members")
    members.setCheckable(True)
    unticked, ticked = QCheckBox("Staff only"), QCheckBox("Superuser")
    ticked.setChecked(True)
    messages = MessageListView()
    for widget in (elsewhere, members, unticked, ticked, messages):
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout.addWidget(widget)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    for widget in (members, unticked, ticked, messages):
        elsewhere.setFocus()
        qtbot.waitUntil(elsewhere.hasFocus)
        unfocused = widget.grab().toImage()
        widget.setFocus(Qt.FocusReason.TabFocusReason)
        qtbot.waitUntil(widget.hasFocus)
        assert widget.grab().toImage() != unfocused, (chosen.name, type(widget).__name__)


def test_no_colour_is_named_outside_the_theme() -> None:
    """Colours come from theme.py alone: no #rgb string, named QColor or Qt.GlobalColor."""
    package = Path(theme.__file__).parent
    literal = re.compile(r"""["']#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?["']"""
                         r"""|QColor\(\s*["'][A-Za-z]|GlobalColor""")
    found = [f"{path.relative_to(package)}:{number}: {line.strip()}"
             for path in sorted(package.rglob("*.py")) if path.name != "theme.py"
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if literal.search(line)]
    assert found == []


@pytest.fixture
def switcher(qapp: QApplication) -> Iterator[theme.ThemeSwitcher]:
    """The app's switcher; the app's look and choice put back afterwards."""
    follower = theme.switcher(qapp)
    palette, sheet, choice = QPalette(qapp.palette()), qapp.styleSheet(), follower.choice
    yield follower
    follower.choice = choice
    theme.set_current(theme.LIGHT)
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)


def window_colour(app: QApplication) -> str:
    return app.palette().color(QPalette.ColorRole.Window).name()


def test_a_choice_and_the_systems_scheme_switch_the_theme_live(
    qapp: QApplication, switcher: theme.ThemeSwitcher
) -> None:
    changes: list[str] = []
    switcher.changed.connect(lambda chosen: changes.append(chosen.name))
    switcher.set_choice(theme.ThemeChoice.DARK)
    assert theme.current() is theme.DARK
    assert window_colour(qapp) == QColor(theme.DARK.window).name()
    assert qapp.styleSheet() == style_sheet(theme.DARK)
    switcher.set_choice(theme.ThemeChoice.LIGHT)
    assert window_colour(qapp) == QColor(theme.LIGHT.window).name()
    assert theme.LIGHT.surface in qapp.styleSheet()

    switcher.set_choice(theme.ThemeChoice.SYSTEM)
    hints = qapp.styleHints()
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # as the desktop says when it turns dark
    assert theme.current() is theme.DARK and qapp.styleSheet() == style_sheet(theme.DARK)
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert theme.current() is theme.LIGHT
    assert window_colour(qapp) == QColor(theme.LIGHT.window).name()

    switcher.set_choice(theme.ThemeChoice.LIGHT)  # a fixed choice ignores the system
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert theme.current() is theme.LIGHT
    assert changes == ["dark", "light", "light", "dark", "light", "light"]
