"""Files in words: a size as people read it, and why an upload failed."""

from __future__ import annotations

import re

# PROTOCOL.md Part 2: the server's default limit, named when it does not say its own.
DEFAULT_LIMIT_BYTES = 25 * 2**20
_UNITS = ("KB", "MB", "GB", "TB")


def format_size(size: int) -> str:
    """1 023 bytes → "1023 bytes", 1536 → "1.5 KB", 25 MiB → "25 MB" (binary units,
    named as the file managers people use name them; one decimal under 10)."""
    if size < 1024:
        return "1 byte" if size == 1 else f"{max(0, size)} bytes"
    value = float(size)
    for unit in _UNITS:
        value /= 1024
        if value < 1024 or unit == _UNITS[-1]:
            rounded = round(value, 1)
            if rounded >= 10 or rounded == int(rounded):
                return f"{round(value):.0f} {unit}"
            return f"{rounded:.1f} {unit}"
    raise AssertionError("unreachable")


def limit_words(size: int) -> str:
    """A limit in mebibytes, as the server documents it: "25 MiB" (a small one in bytes
    or KB, as ``format_size`` says it)."""
    if size < 2**20:
        return format_size(size)
    mib = size / 2**20
    return f"{mib:g} MiB" if mib == int(mib) else f"{mib:.1f} MiB"


def limit_from_detail(detail: str | None) -> int | None:
    """The byte limit a FILE_TOO_LARGE detail names ("... at most 26214400 bytes"), if any."""
    if not detail:
        return None
    match = re.search(r"(\d{4,})\s*bytes", detail)
    return int(match.group(1)) if match else None


def too_large_words(name: str, limit: int | None) -> str:
    return (f"“{name}” is larger than the server allows "
            f"({limit_words(limit or DEFAULT_LIMIT_BYTES)}).")


def quota_words(name: str, limit: int | None) -> str:
    a_day = f" ({limit_words(limit)} a day)" if limit else ""
    return (f"“{name}” was not sent: you have uploaded as much as the server allows{a_day}; "
            "try again later.")


def files_summary(names: list[str]) -> str:
    """A message's files in a line, where its text would go (a notification, a quote):
    "📎 photo.png", "📎 photo.png and 2 more files"."""
    if not names:
        return ""
    more = len(names) - 1
    return f"📎 {names[0]}" + (f" and {more} more file{'s' * (more > 1)}" if more else "")
