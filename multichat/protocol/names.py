"""The rules of usernames and room titles, in one place; pure (no I/O).

A name is stored as its NFKC form, so compatibility look-alikes (fullwidth
letters, ligatures, superscripts) become the plain letters a person types.
Two names may not differ only by case or by confusable look-alikes:
uniqueness is checked on a *key*, the name case-folded and then reduced to its
UTS #39 confusables skeleton (Cyrillic U+0430 and Latin ``a`` share one), which
``disarm`` computes from Unicode's confusables.txt. No name holds a control
or format character (categories Cc, Cf, Zl, Zp), and none holds an invisible
one (a Hangul filler, a blank Braille pattern): nothing in a name hides, moves
the cursor or reverses the text around it.

The ``normalize_*`` functions raise ``ValueError`` with words a person can read;
the decoder, the chat rules, the admin CLI and the desktop app's hosting all
call them, and the store keys its look-ups and unique indexes with the
``*_key`` functions. ``escape_for_terminal`` shows a stored name, however odd,
without letting it act on a terminal.
"""

from __future__ import annotations

import unicodedata

import disarm

MAX_USERNAME_CHARS = 32
MAX_TITLE_CHARS = 100
# Raw input is read this much past a limit before NFKC, which may shorten it
# (a decomposed accent composes); longer input is refused without more work.
_RAW_SLACK = 4

USERNAME_PUNCTUATION = frozenset("._-")
USERNAME_RULE = f"usernames are 1 to {MAX_USERNAME_CHARS} letters, digits, '.', '_' or '-'"

# Control, format (bidi overrides, zero-width), line and paragraph separators,
# and lone surrogates (unencodable): never in a name.
_FORBIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# What a terminal should see escaped besides those: private-use and unassigned
# code points (they render as anything), and spaces other than U+0020.
_ESCAPED = _FORBIDDEN | {"Co", "Cn", "Zs"}
_MARKS = frozenset({"Mn", "Mc", "Me"})

# What the keys are computed with. Stored keys computed by another version are
# recomputed when a database is opened (store.name_keys), since new Unicode data
# can change a skeleton.
KEY_VERSION = (
    f"casefold+skeleton+i=l; disarm key schema {disarm.KEY_SCHEMA_VERSION}, confusables "
    f"{disarm.CONFUSABLES_VERSION}; NFKC {unicodedata.unidata_version}"
)


def _skeleton(text: str) -> str:
    """The UTS #39 skeleton of case-folded text; digits fold too (``0`` as ``o``, ``1`` ``l``).

    Folding case first loses one confusable: a capital ``I`` looks like ``l``
    but folds to ``i``. So ``i`` and ``l`` are one letter in a key: ``Ivan``
    and ``lvan``, ``PaypaI`` and ``paypal`` collide (and so do ``ill`` and
    ``iii``, a price worth paying for names).
    """
    return disarm.skeleton_key(text, digit_policy="tr39").replace("i", "l")


def describe(char: str) -> str:
    """A character as a person can identify it: ``U+202E RIGHT-TO-LEFT OVERRIDE``."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".rstrip()


def is_invisible(char: str) -> bool:
    """A character that shows nothing yet is not a mark or a space: it vanishes from the key.

    The Hangul fillers (letters, to Unicode) and the blank Braille pattern are
    the ones a name could hide behind; control and format characters vanish too.
    """
    category = unicodedata.category(char)
    if category in _FORBIDDEN:
        return True
    return category not in _MARKS and category != "Zs" and not _skeleton(char)


def _refuse_hidden(text: str, what: str) -> None:
    """Refuse anything ``escape_for_terminal`` would have to escape: a name shows as itself."""
    has_base = False
    for char in text:
        category = unicodedata.category(char)
        if category in _FORBIDDEN:
            raise ValueError(f"{what} may not contain control or format characters "
                             f"({describe(char)})")
        if category in {"Co", "Cn"}:
            raise ValueError(f"{what} may not contain private-use or unassigned characters "
                             f"({describe(char)})")
        if category == "Zs" and char != " ":
            raise ValueError(f"{what} may not contain {describe(char)}")
        if category in _MARKS and not has_base:
            raise ValueError(f"in {what} a combining mark must follow a letter or a symbol "
                             f"({describe(char)})")
        if is_invisible(char):
            raise ValueError(f"{what} may not contain invisible characters ({describe(char)})")
        has_base = has_base if category in _MARKS else char != " "


def _nfkc(raw: str, limit: int, what: str) -> str:
    if len(raw) > limit * _RAW_SLACK:
        raise ValueError(f"{what} are at most {limit} characters")
    return unicodedata.normalize("NFKC", raw)


def nfkc(text: str) -> str:
    """``text`` in NFKC: the form a new name is stored in (fullwidth letters become plain)."""
    return unicodedata.normalize("NFKC", text)


def normalize_username(raw: str) -> str:
    """The name a new account gets for ``raw``, in NFKC; ValueError if it may not have it."""
    name = _nfkc(raw, MAX_USERNAME_CHARS, "usernames")
    if not 0 < len(name) <= MAX_USERNAME_CHARS:
        raise ValueError(USERNAME_RULE)
    _refuse_hidden(name, "usernames")
    for char in name:
        if not (char.isalnum() or char in USERNAME_PUNCTUATION):
            raise ValueError(f"{USERNAME_RULE}: {describe(char)} is not allowed")
    return name


def username_refusal(raw: str) -> str:
    """Why a new account may not be called exactly ``raw``, in words (the rule if nothing else)."""
    try:
        name = normalize_username(raw)
    except ValueError as exc:
        return str(exc)
    return f"{USERNAME_RULE}; in NFKC this one is {name!r}" if name != raw else USERNAME_RULE


def username_key(name: str) -> str:
    """What usernames are unique on: NFKC, case-folded, then the confusables skeleton.

    ``Alice``, ``alice``, fullwidth ``alice`` and ``\u0430lice`` (Cyrillic a) have one key.
    Defined for any text, so stored names made under older rules have a key too.
    """
    return _skeleton(unicodedata.normalize("NFKC", name).casefold())


def normalize_title(raw: str) -> str:
    """The title a room gets for ``raw``: NFKC, trimmed; ValueError if it may not have it."""
    title = _nfkc(raw, MAX_TITLE_CHARS, "titles").strip()
    if not title:
        raise ValueError("the title must not be blank")
    if len(title) > MAX_TITLE_CHARS:
        raise ValueError(f"titles are at most {MAX_TITLE_CHARS} characters")
    _refuse_hidden(title, "titles")
    if not title_key(title):
        raise ValueError("the title must show something: it has only marks or spaces")
    return title


def title_key(title: str) -> str:
    """What room titles are unique on: as ``username_key``, with runs of spaces as one."""
    return _skeleton(unicodedata.normalize("NFKC", title).casefold()).strip()


def _needs_escape(char: str, has_base: bool) -> bool:
    category = unicodedata.category(char)
    if category in _ESCAPED:
        return char != " "
    if category in _MARKS:
        return not has_base  # with nothing to sit on it would stack onto the column before
    return is_invisible(char)


def escape_for_terminal(text: str, *, backslash: bool = True) -> str:
    r"""``text`` with every character that could act on a terminal or hide shown escaped.

    Control, format, separator, private-use, unassigned and invisible
    characters, spaces other than U+0020, lone surrogates (undecodable bytes
    of a command line) and marks with no base come out as ``\n``, ``\x1b``,
    ``\u202e`` or ``\U000e0041``. A backslash is doubled (unless
    ``backslash=False``) so that an escape cannot be forged by typing one.
    """
    out: list[str] = []
    has_base = False  # whether a mark here would sit on a character shown as itself
    for char in text:
        if char == "\\" and backslash:
            out.append("\\\\")
            has_base = True
        elif _needs_escape(char, has_base):
            out.append(_escape(char))
            has_base = False
        else:
            out.append(char)
            has_base = has_base if unicodedata.category(char) in _MARKS else char != " "
    return "".join(out)


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
