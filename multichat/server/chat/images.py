"""What an uploaded file is, if it is an image: its size, the type it is served as, and
its thumbnail. Pure (bytes in, facts out); the upload runs it on a files thread.

Only PNG, JPEG, GIF and WebP are looked at, and only when the bytes begin like one
of them (their signatures), so no other decoder of Pillow's ever sees a client's
bytes. An image whose header promises more than ``max_pixels`` is refused before
it is decoded (a decompression bomb: a few kilobytes that would take gigabytes).
The thumbnail has the EXIF orientation applied and is saved without EXIF, so it
shows the right way up and carries no location; the original is served as
uploaded (its SHA-256 is the uploader's).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

# The most a side of a thumbnail may measure (PROTOCOL.md: at most 320 px a side).
THUMBNAIL_SIDE = 320
# Pillow's format names of the images served inline, and the type each is served as.
INLINE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif",
                "WEBP": "image/webp"}
_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
JPEG_QUALITY = 85


class ImageTooLarge(ValueError):
    """An image with more pixels than the server decodes (a decompression bomb)."""


@dataclass(frozen=True, slots=True)
class ImageFacts:
    inline_type: str  # the type it is served inline as
    width: int  # as shown: EXIF orientation applied
    height: int
    thumbnail_type: str  # image/png or image/jpeg
    thumbnail_width: int
    thumbnail_height: int
    thumbnail: bytes


def looks_like_image(head: bytes) -> bool:
    """Whether the first bytes of a file are those of a PNG, JPEG, GIF or WebP."""
    if head.startswith(_SIGNATURES):
        return True
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def inspect(data: bytes, *, max_pixels: int) -> ImageFacts | None:
    """The facts of an image, or None for bytes that are no image Pillow reads whole
    (they are then served as a plain file). ``ImageTooLarge`` past ``max_pixels``."""
    if not looks_like_image(data[:16]):
        return None
    try:
        # Opening reads the header only: the pixels are counted before any is decoded.
        # (Pillow's own guard only warns below twice its limit, and warnings filters are
        # process-wide, not for a thread to change: this check is the guard.)
        with Image.open(io.BytesIO(data), formats=list(INLINE_TYPES)) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise ImageTooLarge(f"{width}x{height} pixels")
            image.load()
            return _facts(image, INLINE_TYPES[str(image.format)])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(str(exc)) from exc
    except ImageTooLarge:
        raise
    except Exception:  # truncated, corrupt, or a variant Pillow can't read: a plain file
        return None


def _facts(image: Image.Image, inline_type: str) -> ImageFacts:
    upright = ImageOps.exif_transpose(image)
    width, height = upright.size
    small = upright.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    has_alpha = small.mode in ("RGBA", "LA", "P", "PA") or "transparency" in small.info
    out = io.BytesIO()
    if inline_type == "image/jpeg" and not has_alpha:
        small.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY)  # no exif= : none kept
        kind = "image/jpeg"
    else:
        small.convert("RGBA" if has_alpha else "RGB").save(out, "PNG", optimize=False)
        kind = "image/png"
    return ImageFacts(inline_type, width, height, kind, small.width, small.height,
                      out.getvalue())
