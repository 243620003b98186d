"""Settings survive restarts, never hold a secret, and shrug off a damaged file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from multichat.desktop.services.settings import MAX_RECENT, AppSettings


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    settings = AppSettings(path)
    settings.add_recent_server("ws://a:1", "alice")
    settings.set_open_rooms("ws://a:1", ["1", "3"])
    settings.set_muted_rooms("ws://a:1", ["3"])
    settings.set_window("Z2VvbQ==", "c3RhdGU=")
    settings.set_remember_me(True)
    settings.set_hosting(True)
    again = AppSettings(path)
    assert [(e.url, e.username) for e in again.recent_servers()] == [("ws://a:1", "alice")]
    assert again.open_rooms("WS://A:1/") == ["1", "3"]
    assert again.muted_rooms("ws://a:1") == ["3"]
    assert (again.window().geometry, again.window().state) == ("Z2VvbQ==", "c3RhdGU=")
    assert again.remember_me() and again.hosting()


def test_recent_servers_most_recent_first_and_capped(tmp_path: Path) -> None:
    settings = AppSettings(tmp_path / "s.json")
    for i in range(MAX_RECENT + 3):
        settings.add_recent_server(f"ws://host{i}:1", f"user{i}")
    settings.add_recent_server("ws://HOST5:1/", "again")
    recent = settings.recent_servers()
    assert len(recent) == MAX_RECENT
    assert (recent[0].url, recent[0].username) == ("ws://HOST5:1/", "again")
    assert sum(1 for e in recent if "host5" in e.url.lower()) == 1


def test_a_damaged_file_means_a_fresh_start(tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    with caplog.at_level(logging.WARNING):
        settings = AppSettings(path)
    assert settings.recent_servers() == [] and "damaged settings" in caplog.text
    path.write_text(json.dumps({"recent": [{"url": 5}]}))
    assert AppSettings(path).recent_servers() == []


def test_writes_are_atomic_and_hold_no_secrets(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    settings = AppSettings(path)
    settings.add_recent_server("ws://a:1", "alice")
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no temp left over
    data = json.loads(path.read_text())
    assert "password" not in path.read_text() and "token" not in path.read_text()
    assert data["recent"][0]["pinned_fingerprint"] is None


def test_read_positions_wait_in_memory_until_flushed(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    settings = AppSettings(path)
    for seq in range(1, 101):
        settings.set_read_seq("ws://a:1", "1", seq)
    assert (settings.writes, settings.unsaved) == (0, True)
    assert settings.read_seq("ws://a:1", "1") == 100  # in memory at once
    assert AppSettings(path).read_seq("ws://a:1", "1") is None
    settings.flush()
    assert (settings.writes, settings.unsaved) == (1, False)
    assert AppSettings(path).read_seq("ws://a:1", "1") == 100
    settings.flush()  # nothing waits: nothing written
    assert settings.writes == 1
    settings.set_read_seq("ws://a:1", "1", 50)  # never back
    assert not settings.unsaved


def test_the_theme_choice_is_a_theme_choice(tmp_path: Path) -> None:
    from multichat.desktop.theme import ThemeChoice

    path = tmp_path / "settings.json"
    settings = AppSettings(path)
    assert settings.theme() is ThemeChoice.SYSTEM
    settings.set_theme("dark")
    assert AppSettings(path).theme() is ThemeChoice.DARK
    path.write_text(json.dumps({"theme": "sepia"}))
    assert AppSettings(path).theme() is ThemeChoice.SYSTEM
