"""A message's files in its row: images as thumbnails, other files as a card with Save.

Pure layout (``lay_out``: where each file goes, from its FILE_OBJ alone, so a
row's height never changes when a thumbnail arrives) and painting, for the
message delegate. An image is shown at its own proportions, at most
``IMAGE_MAX`` a side and never wider than the row; until its thumbnail has
come a quiet box of that size holds its place. Any other file is a card: a
badge with its kind ("PDF"), its name, its size (or how far its download
got), and a Save button. A pending message's files (not uploaded yet, id "")
show as cards without Save.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

from multichat.desktop import theme
from multichat.desktop.services.file_words import format_size
from multichat.protocol.frames import FileObj

IMAGE_MAX = 240  # the longest side of an image in a message, in pixels
IMAGE_MIN = 32
CARD_WIDTH = 300
CARD_PADDING = 8
BADGE = 36
SPACING = 6
SAVE_WORDS = "Save"
RADIUS = 6.0


class Part(enum.StrEnum):
    IMAGE = "image"  # a click opens the viewer
    SAVE = "save"  # a click downloads
    CARD = "card"  # the rest of a file's card


@dataclass(frozen=True, slots=True)
class FileBox:
    file: FileObj
    rect: QRect
    save: QRect | None = None  # a card's Save button

    @property
    def is_image(self) -> bool:
        return self.file.is_image and bool(self.file.id)


def image_size(file: FileObj, width: int) -> tuple[int, int]:
    """An image's size in the row: its proportions, within IMAGE_MAX and ``width``."""
    w, h = max(1, file.width or 1), max(1, file.height or 1)
    scale = min(1.0, IMAGE_MAX / max(w, h), max(IMAGE_MIN, width) / w)
    return max(IMAGE_MIN, round(w * scale)), max(IMAGE_MIN, round(h * scale))


def card_height(font: QFont) -> int:
    metrics = QFontMetrics(font)
    return max(BADGE, 2 * metrics.height()) + 2 * CARD_PADDING


def kind_label(file: FileObj) -> str:
    """A card's badge: the extension ("PDF"), else the type's subtype, at most 4 letters."""
    _stem, dot, extension = file.name.rpartition(".")
    label = extension if dot and 0 < len(extension) <= 4 else file.type.rpartition("/")[2]
    return (label[:4] or "FILE").upper()


def lay_out(files: tuple[FileObj, ...], left: int, top: int, width: int,
            font: QFont) -> tuple[list[FileBox], int]:
    """Each file's place, one under the other from ``top``; and the bottom of the last."""
    boxes: list[FileBox] = []
    y = top
    metrics = QFontMetrics(font)
    for file in files:
        if file.is_image and file.id:
            w, h = image_size(file, width)
            boxes.append(FileBox(file, QRect(left, y, w, h)))
            y += h + SPACING
            continue
        card = QRect(left, y, min(CARD_WIDTH, max(160, width)), card_height(font))
        save = None
        if file.id:
            save_width = metrics.horizontalAdvance(SAVE_WORDS) + 2 * CARD_PADDING
            save_height = metrics.height() + 8
            save = QRect(card.right() - CARD_PADDING - save_width,
                         card.center().y() - save_height // 2, save_width, save_height)
        boxes.append(FileBox(file, card, save))
        y += card.height() + SPACING
    return boxes, (y - SPACING if boxes else top)


def part_at(boxes: list[FileBox], x: int, y: int) -> tuple[FileBox, Part] | None:
    for box in boxes:
        if box.save is not None and box.save.contains(x, y):
            return box, Part.SAVE
        if box.rect.contains(x, y):
            return box, Part.IMAGE if box.is_image else Part.CARD
    return None


def paint_image(painter: QPainter, box: FileBox, image: QImage | None, failed: bool,
                font: QFont) -> None:
    now = theme.current()
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    if image is not None:
        painter.drawImage(QRectF(box.rect), image)
        painter.setPen(QColor(now.border))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(box.rect).adjusted(0.5, 0.5, -0.5, -0.5))
    else:
        painter.setPen(QColor(now.border))
        painter.setBrush(QColor(now.chip_background))
        painter.drawRoundedRect(QRectF(box.rect).adjusted(0.5, 0.5, -0.5, -0.5), RADIUS, RADIUS)
        painter.setPen(QColor(now.quiet))
        painter.setFont(font)
        words = f"{box.file.name} (no preview)" if failed else "Loading image…"
        shown = QFontMetrics(font).elidedText(words, Qt.TextElideMode.ElideMiddle,
                                              box.rect.width() - 8)
        painter.drawText(box.rect, int(Qt.AlignmentFlag.AlignCenter), shown)
    painter.restore()


def paint_card(painter: QPainter, box: FileBox, status: str, font: QFont) -> None:
    """A file's card: badge, name over ``status`` (its size, or its download), Save."""
    now = theme.current()
    rect = box.rect
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QColor(now.border))
    painter.setBrush(QColor(now.surface))
    painter.drawRoundedRect(QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5), RADIUS, RADIUS)
    badge = QRect(rect.left() + CARD_PADDING, rect.center().y() - BADGE // 2, BADGE, BADGE)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(now.accent))
    painter.drawRoundedRect(QRectF(badge), 4, 4)
    small = QFont(font)
    small.setPointSizeF(max(6.0, font.pointSizeF() * 0.75))
    small.setBold(True)
    painter.setFont(small)
    painter.setPen(QColor(now.on_accent))
    painter.drawText(badge, int(Qt.AlignmentFlag.AlignCenter), kind_label(box.file))
    text_left = badge.right() + 1 + CARD_PADDING
    text_right = (box.save.left() - CARD_PADDING) if box.save else rect.right() - CARD_PADDING
    metrics = QFontMetrics(font)
    name_font = QFont(font)
    name_font.setBold(True)
    name_metrics = QFontMetrics(name_font)
    top = rect.center().y() - metrics.height()
    painter.setFont(name_font)
    painter.setPen(QColor(now.text))
    painter.drawText(text_left, top + name_metrics.ascent(), name_metrics.elidedText(
        box.file.name, Qt.TextElideMode.ElideMiddle, max(0, text_right - text_left)))
    painter.setFont(font)
    painter.setPen(QColor(now.quiet))
    painter.drawText(text_left, top + metrics.height() + metrics.ascent(), metrics.elidedText(
        status, Qt.TextElideMode.ElideRight, max(0, text_right - text_left)))
    if box.save is not None:
        painter.setPen(QColor(now.control_border))
        painter.setBrush(QColor(now.chip_background))
        painter.drawRoundedRect(QRectF(box.save).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
        painter.setPen(QColor(now.text))
        painter.drawText(box.save, int(Qt.AlignmentFlag.AlignCenter), SAVE_WORDS)
    painter.restore()


def card_status(file: FileObj, *, done: int | None = None, saved_as: str = "",
                error: str = "") -> str:
    """The line under a card's name: its size, "Saving 40% of 2 MB", "Saved as …"."""
    size = format_size(file.size)
    if not file.id:
        return f"{size} · not sent yet"
    if error:
        return error
    if saved_as:
        return f"Saved as {saved_as} · click to show it"
    if done is not None:
        percent = 100 * done // file.size if file.size else 100
        return f"Saving {percent}% of {size}"
    return size


def tooltip(box: FileBox, part: Part) -> str:
    """What hovering a file says: its whole name and size, and what a click does."""
    about = f"{box.file.name} ({format_size(box.file.size)})"
    if part is Part.SAVE:
        return f"Save {about} to your Downloads folder"
    if part is Part.IMAGE:
        return f"{about}: click to view"
    return f"{about}: click to save it, or once saved, to show it in its folder"
