"""Loading the packaged resources (icon, style sheet) through importlib.resources."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QIcon, QPixmap

_PACKAGE = "multichat.resources"


def read_text(name: str) -> str:
    return resources.files(_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def style_sheet() -> str:
    return read_text("style.qss")


def app_icon() -> QIcon:
    data = resources.files(_PACKAGE).joinpath("multichat.svg").read_bytes()
    pixmap = QPixmap()
    pixmap.loadFromData(data, "SVG")
    return QIcon(pixmap)
