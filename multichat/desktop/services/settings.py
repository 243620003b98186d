"""What the app remembers between runs, in a JSON file in the user config dir.

Recent servers, open rooms, muted rooms, the window's geometry, the
"remember me" choice, hosting and the theme. Never a password or a token:
those are the keyring's. Written atomically, every change at once; a missing or
damaged file means starting fresh.

How far each room was read is the server's now (read markers, shared by a
user's devices). An earlier version kept it here (``read_seqs``): what a file
still holds is read once, moved over to the server at the next login, and
forgotten (``forget_read_seqs``).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from multichat.desktop.services.credentials import server_key
from multichat.desktop.theme import ThemeChoice

log = logging.getLogger(__name__)
MAX_RECENT = 10


@dataclass(slots=True)
class RecentServer:
    url: str
    username: str
    pinned_fingerprint: str | None = None  # the wss:// certificate the person confirmed


@dataclass(slots=True)
class WindowLayout:
    geometry: str = ""  # base64 of QWidget.saveGeometry()
    state: str = ""  # base64 of QMainWindow.saveState()


@dataclass(slots=True)
class _Data:
    recent: list[RecentServer] = field(default_factory=list)
    open_rooms: dict[str, list[str]] = field(default_factory=dict)
    muted_rooms: dict[str, list[str]] = field(default_factory=dict)
    window: WindowLayout = field(default_factory=WindowLayout)
    remember_me: bool = False
    hosting: bool = False
    read_seqs: dict[str, dict[str, int]] = field(default_factory=dict)
    theme: str = ThemeChoice.SYSTEM.value
    told_about_tray: bool = False  # "keeps running in the tray" was said once
    all_muted: bool = False  # the tray's "Mute all"
    downloads_folder: str = ""  # where Save puts files; "" for the Downloads folder


def default_path() -> Path:
    return Path(platformdirs.user_config_dir("multichat", appauthor=False)) / "settings.json"


def _load(raw: dict[str, Any]) -> _Data:
    return _Data(
        recent=[RecentServer(**entry) for entry in raw.get("recent", [])][:MAX_RECENT],
        open_rooms={k: [str(r) for r in v] for k, v in raw.get("open_rooms", {}).items()},
        muted_rooms={k: [str(r) for r in v] for k, v in raw.get("muted_rooms", {}).items()},
        window=WindowLayout(**raw.get("window", {})),
        remember_me=bool(raw.get("remember_me", False)),
        hosting=bool(raw.get("hosting", False)),
        read_seqs={server: {str(room): int(seq) for room, seq in rooms.items()}
                   for server, rooms in raw.get("read_seqs", {}).items()},
        theme=str(raw.get("theme", ThemeChoice.SYSTEM.value)),
        told_about_tray=bool(raw.get("told_about_tray", False)),
        all_muted=bool(raw.get("all_muted", False)),
        downloads_folder=str(raw.get("downloads_folder", "") or ""),
    )


class AppSettings:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._data = self._read()
        self.writes = 0  # how many times the file was written, for tests and diagnostics

    def _read(self) -> _Data:
        try:
            return _load(json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return _Data()
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log.warning("ignoring damaged settings file %s: %s", self.path, exc)
            return _Data()

    def save(self) -> None:
        """Write atomically: a crash mid-write leaves the old file, never half a file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(asdict(self._data), indent=2, sort_keys=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".settings-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.writes += 1

    # -- recent servers --------------------------------------------------------------

    def recent_servers(self) -> list[RecentServer]:
        return list(self._data.recent)

    def add_recent_server(self, url: str, username: str) -> None:
        key = server_key(url)
        kept = [e for e in self._data.recent if server_key(e.url) != key]
        previous = next((e for e in self._data.recent if server_key(e.url) == key), None)
        pin = previous.pinned_fingerprint if previous else None
        self._data.recent = [RecentServer(url, username, pin), *kept][:MAX_RECENT]
        self.save()

    # -- pinned certificates (wss://) ---------------------------------------------------

    def pin(self, url: str) -> str | None:
        """The certificate fingerprint confirmed for this server, if any."""
        key = server_key(url)
        return next((e.pinned_fingerprint for e in self._data.recent if server_key(e.url) == key),
                    None)

    def set_pin(self, url: str, username: str, fingerprint: str) -> None:
        """Pin ``fingerprint`` for this server, on its entry (made first if need be)."""
        key = server_key(url)
        entry = next((e for e in self._data.recent if server_key(e.url) == key), None)
        if entry is None:
            self._data.recent = [RecentServer(url, username, fingerprint),
                                 *self._data.recent][:MAX_RECENT]
        else:
            entry.pinned_fingerprint = fingerprint
        self.save()

    # -- rooms -----------------------------------------------------------------------

    def open_rooms(self, url: str) -> list[str]:
        return list(self._data.open_rooms.get(server_key(url), []))

    def set_open_rooms(self, url: str, rooms: list[str]) -> None:
        self._data.open_rooms[server_key(url)] = [str(r) for r in rooms]
        self.save()

    def muted_rooms(self, url: str) -> list[str]:
        return list(self._data.muted_rooms.get(server_key(url), []))

    def set_muted_rooms(self, url: str, rooms: list[str]) -> None:
        self._data.muted_rooms[server_key(url)] = sorted(str(r) for r in rooms)
        self.save()

    def read_seq(self, url: str, room: str) -> int | None:
        """How far a room was read, as an earlier version kept it here (None if not)."""
        return self._data.read_seqs.get(server_key(url), {}).get(str(room))

    def read_seqs_kept(self, url: str) -> bool:
        """Whether this file still holds read positions for the server."""
        return bool(self._data.read_seqs.get(server_key(url)))

    def forget_read_seqs(self, url: str) -> None:
        """The server has them now: drop this file's copy."""
        if self._data.read_seqs.pop(server_key(url), None) is not None:
            self.save()

    # -- window, login, hosting ----------------------------------------------------------

    def window(self) -> WindowLayout:
        return WindowLayout(self._data.window.geometry, self._data.window.state)

    def set_window(self, geometry: str, state: str) -> None:
        self._data.window = WindowLayout(geometry, state)
        self.save()

    def remember_me(self) -> bool:
        return self._data.remember_me

    def set_remember_me(self, remember: bool) -> None:
        self._data.remember_me = remember
        self.save()

    def hosting(self) -> bool:
        """Whether this app has hosted a chat (its first run asks for the admin account)."""
        return self._data.hosting

    def set_hosting(self, hosting: bool) -> None:
        self._data.hosting = hosting
        self.save()

    def theme(self) -> ThemeChoice:
        """The Light / Dark / System choice; System for anything unknown in the file."""
        try:
            return ThemeChoice(self._data.theme)
        except ValueError:
            return ThemeChoice.SYSTEM

    def set_theme(self, choice: ThemeChoice | str) -> None:
        self._data.theme = ThemeChoice(choice).value
        self.save()

    def downloads_folder(self) -> Path | None:
        """Where Save puts files, as the person chose it; None: their Downloads folder."""
        return Path(self._data.downloads_folder) if self._data.downloads_folder else None

    def set_downloads_folder(self, folder: str) -> None:
        self._data.downloads_folder = folder
        self.save()

    def told_about_tray(self) -> bool:
        """Whether the person was told once that closing the window keeps the app in the tray."""
        return self._data.told_about_tray

    def set_told_about_tray(self, told: bool) -> None:
        self._data.told_about_tray = told
        self.save()

    def all_muted(self) -> bool:
        """The tray's "Mute all", kept across runs."""
        return self._data.all_muted

    def set_all_muted(self, muted: bool) -> None:
        if muted != self._data.all_muted:
            self._data.all_muted = muted
            self.save()
