"""Loading the packaged resources (icon, style sheet) through importlib.resources."""

from __future__ import annotations

import dataclasses
import string
from importlib import resources

from PySide6.QtGui import QIcon, QPixmap

from multichat.desktop import theme as themes

_PACKAGE = "multichat.resources"


def read_text(name: str) -> str:
    return resources.files(_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def style_sheet(theme: themes.Theme | None = None) -> str:
    """The app's style sheet in ``theme`` (the current one by default).

    style.qss is a template naming Theme fields (``${surface}``), so the sheet can
    hold no colour the theme does not define; an unknown name fails loudly here.
    """
    chosen = theme or themes.current()
    fields = {field.name: str(getattr(chosen, field.name))
              for field in dataclasses.fields(chosen)}
    return string.Template(read_text("style.qss")).substitute(fields)


def app_icon() -> QIcon:
    data = resources.files(_PACKAGE).joinpath("multichat.svg").read_bytes()
    pixmap = QPixmap()
    pixmap.loadFromData(data, "SVG")
    return QIcon(pixmap)
