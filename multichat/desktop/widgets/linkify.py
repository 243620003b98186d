"""Message text to safe rich text: everything escaped, only web links made clickable.

Message text is always plain text to the person reading it: ``<b>x</b>`` shows
as typed and no image or remote resource is ever fetched. The only markup in
the result is what this module adds: anchors around http(s) links (and
``www.`` names, which open as http:// but show as typed), and line breaks.
"""

from __future__ import annotations

import html
import re

# A link starts at http:// or https:// (or "www." at the start of a word) and
# runs to white space; trailing punctuation that usually ends a sentence is left
# outside it. "www." needs a dot and a letter after it, so "www." alone is text.
_LINK = re.compile(r"(?:https?://|(?<![\w.@/-])www\.(?=[^\s<>\"'.]+\.\w))[^\s<>\"']+",
                   re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def links_in(text: str) -> list[str]:
    """The links as typed (a ``www.`` name stays without its scheme)."""
    return [_trim(match.group(0)) for match in _LINK.finditer(text)]


def href(link: str) -> str:
    """Where a link goes: ``www.`` names are taken as http://, as browsers do."""
    return link if "://" in link else f"http://{link}"


def _trim(url: str) -> str:
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break  # keep a closing parenthesis that belongs to the URL
        url = url[:-1]
    return url


def to_html(text: str) -> str:
    """Escaped HTML of ``text`` with its links as anchors."""
    out: list[str] = []
    position = 0
    for match in _LINK.finditer(text):
        url = _trim(match.group(0))
        out.append(html.escape(text[position : match.start()]))
        target = html.escape(href(url), quote=True)
        out.append(f'<a href="{target}">{html.escape(url, quote=True)}</a>')
        position = match.start() + len(url)
    out.append(html.escape(text[position:]))
    return "".join(out).replace("\n", "<br>")
