"""The mention rule: ``@name`` or the name as a whole word, never part of another word."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from multichat.protocol.mentions import mentioned_names, mentions, name_form
from multichat.protocol.names import normalize_username

MENTIONED = [
    ("@al hi", "al"), ("hi al", "al"), ("AL, look", "al"), ("thanks @Al!", "al"), ("al", "al"),
    ("(al)", "al"), ("ping al.", "al"), ("al: there", "al"), ("al...", "al"),
    ("hey @j.doe-2 look", "j.doe-2"), ("J.DOE-2?", "j.doe-2"), ("ask bob_smith", "bob_smith"),
    ("bob.", "bob."),  # a name may end with a dot
    # Unicode names, in any case and in any normal form of the text.
    ("Γεια σου @Ελένη", "ελένη"),  # noqa: RUF001 - Greek on purpose
    ("ŁUKASZ, chodź", "Łukasz"), ("@zoë", "Zoë"),
    (unicodedata.normalize("NFD", "ZOË!"), "Zoë"), ("你好 @李雷", "李雷"),
    ("ﬁona, hi", "fiona"),  # a ligature in the text, as NFKC reads it
]

NOT_MENTIONED = [
    ("bobby", "bob"), ("@bobby", "bob"), ("hobbob", "bob"), ("bob_", "bob"), ("bob-x", "bob"),
    ("bob.x said", "bob"), ("x.bob", "bob"), ("x-bob", "bob"), ("mail@bob", "bob"),
    ("@@bob", "bob"), ("bobs", "bob"), ("", "bob"), ("anything", ""),
    ("hey j.doe-23", "j.doe-2"), ("j.doe", "j.doe-2"), ("Ελένης", "Ελένη"),
    ("你好李雷", "李雷"),  # inside a run of letters: scripts without spaces need the '@' apart
]


@pytest.mark.parametrize(("text", "username"), MENTIONED)
def test_mentioned(text: str, username: str) -> None:
    assert mentions(text, username)
    assert name_form(username) in mentioned_names(text)


@pytest.mark.parametrize(("text", "username"), NOT_MENTIONED)
def test_not_mentioned(text: str, username: str) -> None:
    assert not mentions(text, username)


def test_a_text_names_each_run_and_its_parts_before_a_closing_dot() -> None:
    assert mentioned_names("Hi @Al, ask bob.smith or carol. x@y") == {
        "hi", "al", "ask", "bob.smith", "or", "carol.", "carol", "x"}


def test_every_name_a_user_may_have_is_mentioned_by_itself_and_with_an_at() -> None:
    for raw in ("a", "Zoë", "j.doe-2", "_x_", "-", "..", "李雷", "ΣΊΣΥΦΟΣ", "x" * 32):
        name = normalize_username(raw)
        assert mentions(name, name) and mentions(f"@{name} hi", name), name
        assert mentions(f"hi {name.upper()}!", name), name


# Texts built from pieces that sit on every boundary the rule knows.
_PIECES = st.sampled_from(["al", "AL", "bob", "j.doe-2", "x", "_", ".", "-", "@", " ", ",",
                           "!", "é", "1", "(", ":"])


@given(st.lists(_PIECES, max_size=10).map("".join),
       st.sampled_from(["al", "bob", "j.doe-2", "x", "é", "al.", "_", "1"]))
def test_the_desktops_rule_agrees(text: str, username: str) -> None:
    """The desktop's regex (models/mentions.py) and this rule say the same of NFC text."""
    desktop = pytest.importorskip("multichat.desktop.models.mentions")
    assert mentions(text, username) == desktop.mentions(text, username), (text, username)
