"""Whether a message names someone: ``@name``, or the name as a whole word; pure.

One rule for both ends. The server marks an ``activity`` frame ``mention``
with it; clients highlight messages with it. A name is mentioned where it
stands alone: not inside a longer word or name (``al`` is not mentioned by
``alice``, ``hal``, ``al.x``, ``al-b`` or ``mail@al``), with or without one
``@`` in front, and a sentence's full stop after it is fine (``ping al.``).

Case does not matter, nor the Unicode form of the text: the text is read in
NFKC, the form usernames are stored in (``names.normalize_username``), and
both sides are case-folded, so ``@ZOË`` typed with a combining diaeresis
names ``zoë``.

``mentioned_names`` reads a text once and gives every name it could mention,
so a server telling hundreds of people about one message checks each of them
with a set look-up, not a pattern per person. ``mentions`` is the same rule
for one name (the desktop's ``models/mentions.py`` holds the regex it began
with; tests/protocol/test_mentions.py checks that the two agree).
"""

from __future__ import annotations

import re
import unicodedata

# A run of name characters (usernames hold letters, digits, '.', '_' and '-'), not
# preceded by a name character or an '@' (so "mail@al" and "x.al" do not count), with
# at most one '@' of its own in front.
_RUN = re.compile(r"(?<![\w.@-])@?([\w.-]+)")


def mentioned_names(text: str) -> frozenset[str]:
    """Every name ``text`` mentions, NFKC and case-folded (``name_form``).

    A run of name characters mentions the whole run, and each part of it that
    ends before a '.' not followed by a letter or digit (``al.`` and ``al..``
    mention ``al``; ``al.x`` does not).
    """
    names: set[str] = set()
    for match in _RUN.finditer(unicodedata.normalize("NFKC", text)):
        run = match.group(1)
        names.add(run.casefold())
        dot = run.find(".", 1)
        while dot > 0:
            after = run[dot + 1: dot + 2]
            if not after or not (after.isalnum() or after == "_"):
                names.add(run[:dot].casefold())
            dot = run.find(".", dot + 1)
    return frozenset(names)


def name_form(username: str) -> str:
    """A username as ``mentioned_names`` gives it: NFKC, case-folded."""
    return unicodedata.normalize("NFKC", username).casefold()


def mentions(text: str, username: str) -> bool:
    """Whether ``text`` names ``username`` (``@name`` or the name as a whole word)."""
    return bool(username) and name_form(username) in mentioned_names(text)
