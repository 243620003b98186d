"""How often the person reacted with each emoji, kept so the picker offers theirs first.

A small JSON file beside the settings (``emoji.json`` in the app's config
directory): ``{"counts": {"👍": 12, "🎉": 3}}``. Read when the picker opens and
written when a reaction is given, so every open room shares the counts; a
missing or broken file counts as none.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

# The common reactions offered after the person's own favourites (Slack's and
# Element's quick reactions, then a few more everyone uses).
DEFAULT_EMOJI = (
    "👍", "❤️", "😂", "🎉", "🙏", "👀", "✅", "🔥",
    "😄", "😮", "😢", "😡", "👎", "👏", "🙌", "💯",
    "🤔", "🚀", "👋", "😅", "🤝", "💪", "⭐", "☕",
)
# Favourites shown before the defaults: one row of the picker's grid.
MOST_USED_SHOWN = 8


def default_path() -> Path:
    return Path(platformdirs.user_config_dir("multichat", appauthor=False)) / "emoji.json"


class EmojiUsage:
    """Counts of the reactions the person gave, most used first."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()

    def counts(self) -> dict[str, int]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            log.warning("ignoring the emoji counts in %s: %s", self.path, error)
            return {}
        counts = raw.get("counts") if isinstance(raw, dict) else None
        if not isinstance(counts, dict):
            return {}
        return {emoji: count for emoji, count in counts.items()
                if isinstance(emoji, str) and isinstance(count, int) and count > 0}

    def most_used(self, limit: int = MOST_USED_SHOWN) -> list[str]:
        """The person's favourites, most used first (ties: the one used first)."""
        counts = self.counts()
        return sorted(counts, key=lambda emoji: -counts[emoji])[:limit]

    def offered(self) -> list[str]:
        """What the picker shows: favourites first, then the defaults not among them."""
        favourites = self.most_used()
        return favourites + [emoji for emoji in DEFAULT_EMOJI if emoji not in favourites]

    def record(self, emoji: str) -> None:
        """One more reaction with ``emoji``; written at once (atomically)."""
        counts = self.counts()
        counts[emoji] = counts.get(emoji, 0) + 1
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=self.path.parent, prefix=".emoji-",
                                            suffix=".json")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"counts": counts}, out, ensure_ascii=False)
            os.replace(name, self.path)
        except OSError as error:
            log.warning("could not keep the emoji counts in %s: %s", self.path, error)
