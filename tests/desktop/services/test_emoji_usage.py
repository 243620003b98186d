"""The emoji picker's favourites: counted, kept in a file, most used first."""

from __future__ import annotations

from pathlib import Path

import pytest

from multichat.desktop.services.emoji_usage import DEFAULT_EMOJI, EmojiUsage, default_path


def test_most_used_come_first_then_the_defaults(tmp_path: Path) -> None:
    usage = EmojiUsage(tmp_path / "emoji.json")
    assert usage.offered() == list(DEFAULT_EMOJI)
    for emoji in ("🦀", "🎉", "🦀", "👍", "🦀", "🎉"):
        usage.record(emoji)
    assert usage.most_used() == ["🦀", "🎉", "👍"]
    offered = usage.offered()
    assert offered[:3] == ["🦀", "🎉", "👍"]
    assert len(offered) == len(DEFAULT_EMOJI) + 1  # 🎉 and 👍 are not offered twice
    # Kept: another picker (another room) reads the same counts.
    assert EmojiUsage(tmp_path / "emoji.json").most_used() == ["🦀", "🎉", "👍"]


@pytest.mark.parametrize("content", ["not json", '["a list"]', '{"counts": {"👍": "many"}}'])
def test_a_broken_file_counts_as_none(tmp_path: Path, content: str) -> None:
    path = tmp_path / "emoji.json"
    path.write_text(content, encoding="utf-8")
    usage = EmojiUsage(path)
    assert usage.most_used() == []
    usage.record("👍")
    assert usage.most_used() == ["👍"]


def test_the_file_sits_in_the_isolated_config_dir() -> None:
    assert default_path().name == "emoji.json"
    assert default_path().parent.name == "multichat"
