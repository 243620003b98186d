"""Where a search's words are in a message, to mark them: the server's rule, in the text.

The server finds a message when each query word begins a word of it, case and
accents aside (``multichat.protocol.words``). This finds those places in the
message as written, so what is marked is what was matched: ``resume`` marks
``Résumé`` (accents and all) and the ``resume`` of ``resumes``; ``sumé`` marks
nothing, as it finds nothing. Pure: no Qt, no I/O.

Each character is folded on its own (``words.fold``) and the folded text is
cut into words as the server cuts it, every folded character remembering the
character it came from; a match is mapped back through that, so a ligature
(``ﬁ``), a ``ß`` or a decomposed accent is marked whole, never half.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import regex

from multichat.protocol import words

# The word of protocol.words (letters, digits, marks, private use); a test checks the two
# cut the same texts into the same words.
_WORD = regex.compile(r"[\p{L}\p{N}\p{M}\p{Co}]+")

Span = tuple[int, int]  # [start, end) in the message's own characters


def query_words(query: str) -> list[str]:
    """The query's words as the server looks them up."""
    return words.words(query)


def match_spans(text: str, query: str | Sequence[str]) -> list[Span]:
    """The stretches of ``text`` that a query word begins, in order, not overlapping.

    ``query``: the query as typed, or its words (``query_words``)."""
    wanted = query_words(query) if isinstance(query, str) else list(query)
    if not wanted or not text:
        return []
    folded_parts: list[str] = []
    source: list[int] = []  # source[k]: the character of ``text`` folded character k is from
    for position, character in enumerate(text):
        folded = words.fold(character)
        folded_parts.append(folded)
        source.extend([position] * len(folded))
    folded_text = "".join(folded_parts)
    spans: list[Span] = []
    for found in _WORD.finditer(folded_text):
        word = found.group()[:words.MAX_WORD_CHARS]
        longest = max((len(q) for q in wanted if word.startswith(q)), default=0)
        if not longest:
            continue
        start = source[found.start()]
        end = source[found.start() + longest - 1] + 1
        while end < len(text) and folded_parts[end] == "":
            end += 1  # the accents of the last letter marked (folded away to nothing)
        spans.append((start, end))
    return spans


def marked_html(text: str, spans: Sequence[Span], open_tag: str, close_tag: str) -> str:
    """``text`` as HTML-escaped text, each span wrapped in the given tags (a person's
    message is never read as markup)."""
    parts: list[str] = []
    at = 0
    for start, end in spans:
        parts.append(html.escape(text[at:start]))
        parts.append(open_tag + html.escape(text[start:end]) + close_tag)
        at = end
    parts.append(html.escape(text[at:]))
    return "".join(parts)


def snippet(text: str, spans: Sequence[Span], width: int = 240,
            before: int = 60) -> tuple[str, list[Span]]:
    """A long message cut to about ``width`` characters around its first match (with
    "…" where cut), and its spans moved along: a result shows where it matched."""
    if len(text) <= width:
        return text, list(spans)
    first = spans[0][0] if spans else 0
    start = max(0, first - before)
    if start > 0:
        space = text.rfind(" ", start - 20 if start >= 20 else 0, start)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + width)
    lead = "…" if start > 0 else ""
    tail = "…" if end < len(text) else ""
    shift = len(lead) - start
    kept = [(max(s, start) + shift, min(e, end) + shift) for s, e in spans
            if e > start and s < end]
    return lead + text[start:end] + tail, kept
