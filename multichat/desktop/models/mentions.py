"""Whether a message mentions someone: ``@name``, or the name as a whole word."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=64)
def _pattern(username: str) -> re.Pattern[str]:
    # Not inside a longer word or name: "al" is not mentioned by "alice" or "al.x".
    return re.compile(rf"(?<![\w.@-])@?{re.escape(username)}(?![\w-]|\.\w)", re.IGNORECASE)


def mentions(text: str, username: str) -> bool:
    return bool(username) and _pattern(username).search(text) is not None
