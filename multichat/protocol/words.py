"""The words of a text as search sees them: one tokenizer for the server and its clients.

A word is a run of Unicode letters, digits, marks and private-use characters
(``\\p{L}``, ``\\p{N}``, ``\\p{M}``, ``\\p{Co}``); everything else (spaces,
punctuation, symbols, emoji, ``_``) separates words and is never searched.
Case and accents do not count: a text is decomposed (NFKD), stripped of its
nonspacing marks (category Mn: the accents of ``é``, ``ñ``, ``ü``), case-folded
and recomposed (NFKC) before it is cut, so ``Résumé`` gives ``resume`` and
``ﬁne`` (a ligature) ``fine``.

The server indexes a message by these words and looks a query's words up as
prefixes of them: on SQLite and PostgreSQL alike, neither engine's own
tokenizer decides (store/search_index.py). A client may use them to mark the
matching words of a result. Pure: no I/O.
"""

from __future__ import annotations

import unicodedata

import regex

# A word longer than this is cut to its first this many characters, in the index and in
# a query alike: prefix matching still holds, and no engine's lexeme limit is reached
# (PostgreSQL refuses lexemes over 2 KiB; a 100-character word of 4-byte characters is
# 400 bytes).
MAX_WORD_CHARS = 100

_WORD = regex.compile(r"[\p{L}\p{N}\p{M}\p{Co}]+")


def fold(text: str) -> str:
    """``text`` without case or accents (as described above); separators kept."""
    if text.isascii():  # most chat: nothing to decompose, and case folds as lower()
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFKC", bare.casefold())


def words(text: str) -> list[str]:
    """The words of ``text``, folded, in order, each once (its first time)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(fold(text)):
        seen.setdefault(word[:MAX_WORD_CHARS], None)
    return list(seen)
