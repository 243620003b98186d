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


def test_read_positions_of_an_earlier_version_are_read_then_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"read_seqs": {"ws://a:1/": {"1": 100}, "ws://b:2/": {"3": 7}}}))
    settings = AppSettings(path)
    assert settings.read_seq("ws://a:1", "1") == 100
    assert settings.read_seqs_kept("ws://a:1") and not settings.read_seqs_kept("ws://c:3")
    settings.forget_read_seqs("ws://a:1")  # the server has them now
    assert AppSettings(path).read_seq("ws://a:1", "1") is None
    assert AppSettings(path).read_seq("ws://b:2", "3") == 7  # another server's stay
    writes = settings.writes
    settings.forget_read_seqs("ws://a:1")  # nothing left: nothing written
    assert settings.writes == writes


def test_the_theme_choice_is_a_theme_choice(tmp_path: Path) -> None:
    from multichat.desktop.theme import ThemeChoice

    path = tmp_path / "settings.json"
    settings = AppSettings(path)
    assert settings.theme() is ThemeChoice.SYSTEM
    settings.set_theme("dark")
    assert AppSettings(path).theme() is ThemeChoice.DARK
    path.write_text(json.dumps({"theme": "sepia"}))
    assert AppSettings(path).theme() is ThemeChoice.SYSTEM
