"""Hypothesis strategies for what a client may send: frames, mostly hostile.

``command_objects()`` builds dicts with a real command name and each field
the decoder reads set to a plausible value (a room that exists, a real
username) or to anything JSON can hold; ``command_frames()`` writes them as
text the way a client could, lone surrogates (``"\\ud800"``) and ``NaN``
literals included; ``any_frames()`` adds arbitrary text, bytes and JSON.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar

from hypothesis import strategies as st

from multichat.protocol import commands as cmd

T = TypeVar("T")
U = TypeVar("U")

COMMAND_NAMES = sorted(cmd.COMMAND_NAMES)

# Integers at the edges of what the decoder, Python and SQLite accept.
EDGE_INTEGERS = [
    0, 1, -1, 2**31 - 1, 2**31, 2**53 + 1, cmd.MAX_ID, cmd.MAX_ID + 1, 2**64, -(2**63) - 1,
    10**100,
]

# Characters that break naive code: NUL, lone surrogates, JSON's own, BOM, line separators.
TRICKY_CHARACTERS = ["\x00", "\ud800", "\udfff", "\\", '"', "\ufeff", "\u2028", "\U0001f600"]

# Any code point, lone surrogates on purpose: ``st.characters()`` alone all but never
# draws one.
characters = (
    st.characters(exclude_categories=())
    | st.characters(categories=["Cs"])
    | st.sampled_from(TRICKY_CHARACTERS)
)


def strings(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Strings of ``characters``; ``st.text`` would leave the surrogates out."""
    return st.lists(characters, min_size=min_size, max_size=max_size).map("".join)


# Short strings, or one character repeated up to around the 128-character limits.
texts = strings(0, 16) | st.builds(str.__mul__, characters, st.integers(120, 140))

# A string of ASCII digits of any length: room ids travel as such strings.
digit_strings = st.builds(
    lambda digit, length: digit * length,
    st.sampled_from("0123456789"),
    st.integers(min_value=1, max_value=5000),
)

scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(EDGE_INTEGERS),
    st.floats(),  # NaN and ±Infinity included: json.dumps writes them as literals
    texts,
    digit_strings,
)

def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # A named function: Hypothesis reads a lambda's source to see that it recurses,
    # and a lambda spread over lines sometimes reads as one that doesn't.
    return st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4)


json_values: st.SearchStrategy[Any] = st.recursive(scalars, _containers, max_leaves=5)

# Well-formed values, so that the rules behind the decoder run too: rooms that
# exist, are staff-only or do not exist, real usernames and passwords, messages too
# long. Ill-formed ones come from ``json_values``.
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "room": st.sampled_from([1, 3, "1", 2, 99, "03"]),
    "message": st.sampled_from(["hi", "x" * 10_001]) | st.text(min_size=1, max_size=30),
    "client_id": st.sampled_from(["c1", "c2"]),
    "since": st.integers(min_value=0, max_value=5),
    "before": st.integers(min_value=1, max_value=5),
    "limit": st.integers(min_value=1, max_value=300),
    "title": st.sampled_from(["Lobby", "Garden", "New room"]),
    "staff_only": st.booleans(),
    "is_staff": st.booleans(),
    "is_superuser": st.booleans(),
    "username": st.sampled_from(["alice", "bob", "admin", "sam", "nobody", "a b"]),
    "password": st.sampled_from(["alice-password", "bob-password", "wrong", ""]),
    "token": st.sampled_from(["forged", ""]),
    "msg_type": st.integers(min_value=1, max_value=3),
    "ref": st.sampled_from(["r", "r" * 128]),
    # Edits, deletions, reactions, replies: seqs that exist or not, emoji good and bad.
    "seq": st.integers(min_value=1, max_value=6),
    "reply_to": st.integers(min_value=1, max_value=6),
    "around": st.integers(min_value=1, max_value=6),
    "emoji": st.sampled_from(["👍", "👨‍👩‍👧‍👦", "🇫🇷", "👍👍", "ab", " ", "😀" * 9]),
    "on": st.booleans(),
    # dm.open: real names, unknown ones, the opener, too many.
    "users": st.lists(st.sampled_from(["alice", "bob", "sam", "nobody", "ALICE"]),
                      min_size=0, max_size=17),
    # search: words found or not, accents, FTS and tsquery syntax, no word, too long.
    "query": st.sampled_from(["hi", "Résumé", "h", '"x"* NEAR(a b) AND -c ^d e:f', "a & !b",
                              "", "?!", "x" * 201, "a b c d e f g h i"])
             | st.text(max_size=30),
    # upload: names good and bad (CR/LF, bidi overrides, blank), sizes from empty to over
    # the limit, types real and not; send's files: ids that exist nowhere, too many.
    "name": st.sampled_from(["a.txt", "photo.png", "a\r\nX: y", "gpj\u202e.exe", " ", "",
                             "x" * 256]),
    "size": st.sampled_from([0, 3, 70_000, 25 * 2**20 + 1, -1]),
    "type": st.sampled_from(["text/plain", "image/png", "", "text/html; charset=utf-8",
                             "nonsense", "a/b\r\n"]),
    "files": st.lists(st.sampled_from(["AAAAAAAAAAAAAAAAAAAAAA", "x/y", "", "f1"]),
                      max_size=12),
}
FIELD_NAMES = sorted(PLAUSIBLE)


# Every command class (``login`` has two: by password and by token).
COMMAND_CLASSES = [
    value for value in vars(cmd).values()
    if isinstance(value, type) and issubclass(value, cmd.Command) and value is not cmd.Command
]
# Fields whose key on the wire is not their name in Python (``Upload.name`` is the
# command's own name, so its file name is ``filename``).
WIRE_KEYS = {"filename": "name"}
# The fields each command's decoder reads.
FIELDS_OF = {
    name: sorted({WIRE_KEYS.get(f.name, f.name) for c in COMMAND_CLASSES if c.name == name
                  for f in dataclasses.fields(c)} - {"ref"})
    for name in COMMAND_NAMES
}
# What a user who is not an administrator may do.
USER_COMMANDS = sorted({c.name for c in COMMAND_CLASSES if not issubclass(c, cmd.ADMIN_COMMANDS)})


def mostly(usual: st.SearchStrategy[T], other: st.SearchStrategy[U]) -> st.SearchStrategy[T | U]:
    """``usual`` two times in three, else ``other``; shrinks towards ``usual``.

    Not ``st.one_of(usual, usual, other)``: one_of flattens nested one_ofs, so the
    branches of ``other`` would each weigh as much as ``usual``.
    """
    return st.integers(0, 2).flatmap(lambda n: usual if n < 2 else other)


def field_values(name: str) -> st.SearchStrategy[Any]:
    """A value for field ``name``: plausible two times in three, anything JSON the rest."""
    return mostly(PLAUSIBLE[name], json_values)


@st.composite
def command_objects(draw: st.DrawFn, names: list[str] | None = None) -> dict[str, Any]:
    """A JSON object with a real command name, its fields, maybe others and extra keys."""
    name = draw(st.sampled_from(names or COMMAND_NAMES))
    own = FIELDS_OF[name]
    # All of its fields but at most one (usually none), then maybe others.
    omitted = draw(mostly(st.none(), st.sampled_from(own))) if own else None
    keys = [key for key in own if key != omitted]
    keys += draw(st.lists(st.sampled_from(FIELD_NAMES), max_size=2))
    obj: dict[str, Any] = {"command": name}
    for key in keys:
        obj[key] = draw(field_values(key))
    obj.update(draw(st.dictionaries(texts, json_values, max_size=2)))
    return obj


@st.composite
def command_frames(draw: st.DrawFn, names: list[str] | None = None) -> str:
    """A command object as JSON text, written as escapes (``\\ud800``) or raw characters."""
    obj = draw(command_objects(names))
    return json.dumps(obj, ensure_ascii=draw(st.booleans()))


def wire_text(frame: str) -> str:
    """The frame as a WebSocket client can send it: UTF-8 has no lone surrogates."""
    return frame.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def any_frames() -> st.SearchStrategy[str | bytes]:
    """Anything a socket could deliver: commands, other JSON, any text, any bytes."""
    return st.one_of(
        command_frames(),
        json_values.map(lambda value: json.dumps(value, ensure_ascii=False)),
        strings(0, 100),
        st.binary(max_size=100),
        command_frames().map(lambda text: text.encode("utf-8", "surrogatepass")),
        digit_strings.map(lambda number: f'{{"command": "join", "room": {number}}}'),
    )


def wire_frames(names: list[str] | None = None) -> st.SearchStrategy[str | bytes]:
    """What a live client can put in a text or binary frame (text is valid UTF-8)."""
    return st.one_of(
        command_frames(names).map(wire_text),
        command_frames(names).map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.text(max_size=100),
        st.binary(max_size=100),
    )
