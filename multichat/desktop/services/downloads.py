"""Where a downloaded file goes: a safe name, in the Downloads folder, never over another file.

The name comes from the server (what the uploader called the file), so it is
not trusted: path separators, a leading dot (a hidden file, or ``..``),
control characters and names Windows reserves are taken out before it touches
the disk. An existing file is never overwritten: "report.pdf" becomes
"report (1).pdf", "report (2).pdf" …; the file is created exclusively, so two
downloads of the same name at once each get their own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QStandardPaths

FALLBACK_NAME = "download"
MAX_NAME_CHARS = 200  # under every file system's 255 bytes for most names, with " (99)"
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\u2028\u2029]')
_WINDOWS_RESERVED = re.compile(r"(?i)^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$")
# Two-part extensions kept whole when numbering: "logs (1).tar.gz", not "logs.tar (1).gz".
_DOUBLE_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst")


def safe_file_name(name: str) -> str:
    """A server-given file name made safe to create in a folder: its last path part only,
    no separators or control characters, no leading dots or trailing dots and spaces."""
    base = re.split(r"[/\\]", name)[-1]
    base = _UNSAFE.sub("_", base).strip()
    base = base.lstrip(".").rstrip(". ")
    if _WINDOWS_RESERVED.match(base):
        base = "_" + base
    if len(base) > MAX_NAME_CHARS:
        stem, suffix = split_suffix(base)
        suffix = suffix[:20]
        base = stem[: MAX_NAME_CHARS - len(suffix)] + suffix
    return base or FALLBACK_NAME


def split_suffix(name: str) -> tuple[str, str]:
    """("report", ".pdf"); a known double suffix stays whole; a name with no stem has none."""
    lower = name.lower()
    for double in _DOUBLE_SUFFIXES:
        if lower.endswith(double) and len(name) > len(double):
            return name[: -len(double)], name[-len(double):]
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        return name, ""
    return stem, "." + suffix


def candidate_names(name: str) -> Iterator[str]:
    """name, then "stem (1).ext", "stem (2).ext" …"""
    yield name
    stem, suffix = split_suffix(name)
    number = 1
    while True:
        yield f"{stem} ({number}){suffix}"
        number += 1


def create_unique(folder: Path, name: str) -> tuple[Path, int]:
    """Create a new empty file for ``name`` (made safe) in ``folder``: (its path, an open
    descriptor for writing). Exclusive creation: an existing file is never touched, even
    one that appears between the check and the write."""
    folder.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for candidate in candidate_names(safe_file_name(name)):
        path = folder / candidate
        try:
            return path, os.open(path, flags, 0o644)
        except FileExistsError:
            continue
    raise AssertionError("unreachable")  # candidate_names never ends


def unique_path(folder: Path, name: str) -> Path:
    """The path ``create_unique`` would choose now (for showing; it may change)."""
    for candidate in candidate_names(safe_file_name(name)):
        path = folder / candidate
        if not path.exists():
            return path
    raise AssertionError("unreachable")


def default_folder() -> Path:
    """The person's Downloads folder (QStandardPaths), or their home when there is none."""
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation)
    return Path(found) if found else Path.home()
