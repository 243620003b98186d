"""The rules of names, pure: what a new name becomes, what it is unique on, how it is shown."""

from __future__ import annotations

import json
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from multichat.protocol import names
from multichat.protocol.commands import ProtocolError, decode_command

CYRILLIC_A = "\u0430"
FULLWIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("alice", "alice"), ("Alice", "Alice"), (FULLWIDTH_ALICE, "alice"),
     ("bob.smith-2", "bob.smith-2"), ("e\u0301mile", "\u00e9mile"), ("\u00e9mile", "\u00e9mile"),
     ("\u2460", "1")],
)
def test_new_usernames_are_stored_in_nfkc(raw: str, stored: str) -> None:
    assert names.normalize_username(raw) == stored


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", "usernames are 1 to 32 letters"),
        ("u" * 33, "usernames are 1 to 32 letters"),
        ("bob smith", "U+0020 SPACE is not allowed"),
        ("ad\u200bmin", "control or format characters (U+200B ZERO WIDTH SPACE)"),
        ("admin\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("a\x00b", "control or format characters (U+0000)"),
        ("a\x1bb", "control or format characters (U+001B)"),
        ("a\nb", "control or format characters (U+000A)"),
        ("bob\u3164", "invisible characters (U+1160 HANGUL JUNGSEONG FILLER)"),
        ("bob@home", "U+0040 COMMERCIAL AT is not allowed"),
    ],
)
def test_usernames_that_would_deceive_are_refused_in_words(raw: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        names.normalize_username(raw)


@pytest.mark.parametrize(
    "look_alike",
    ["Alice", "ALICE", FULLWIDTH_ALICE, f"{CYRILLIC_A}lice", "\U0001d41a\U0001d425ice"],
)
def test_look_alikes_of_a_username_share_its_key(look_alike: str) -> None:
    assert names.username_key(look_alike) == names.username_key("alice")


@pytest.mark.parametrize(("name", "look_alike"), [("lvan", "Ivan"), ("paypal", "PaypaI"),
                                                  ("bill", "biII"), ("l1ly", "Illy")])
def test_a_capital_i_is_an_l_in_a_key(name: str, look_alike: str) -> None:
    """Case folding first would make ``Ivan`` an i-word beside ``lvan``."""
    assert names.username_key(look_alike) == names.username_key(name)


def test_different_names_keep_different_keys() -> None:
    keys = {names.username_key(n) for n in ("alice", "alicia", "bob", "b0b", "bob.s", "bob_s")}
    assert len(keys) == 5  # b0b is bob (0 and o are one in UTS #39), the rest differ
    assert names.username_key("admin") == names.username_key(f"{CYRILLIC_A}dmin")


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("  Lobby ", "Lobby"), ("\uff2c\uff4f\uff42\uff42\uff59", "Lobby"),
     ("Caf\u00e9 \u2615", "Caf\u00e9 \u2615"), ("\u2764\ufe0f fans", "\u2764\ufe0f fans"),
     ("Room\u00a0one", "Room one")],
)
def test_titles_are_stored_in_nfkc_and_trimmed(raw: str, stored: str) -> None:
    assert names.normalize_title(raw) == stored


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("   ", "must not be blank"),
        ("\u200b", "U+200B ZERO WIDTH SPACE"),
        ("Lobby\u200b", "U+200B ZERO WIDTH SPACE"),
        ("Lo\u202ebby", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("Lobby\x00", "U+0000"),
        ("\x1b[2J", "U+001B"),
        ("Lobby\n   9  Forged", "U+000A"),
        ("Lob\u2028by", "U+2028 LINE SEPARATOR"),
        ("\u3164", "invisible characters"),
        ("\u2800", "U+2800 BRAILLE PATTERN BLANK"),
        ("\u0301x", "a combining mark must follow a letter"),
        ("x \u0301", "a combining mark must follow a letter"),
        ("Lobby\ue000", "private-use or unassigned characters (U+E000)"),
        ("Ogham\u1680space", "U+1680 OGHAM SPACE MARK"),
        ("t" * 101, "at most 100 characters"),
    ],
)
def test_titles_that_would_deceive_are_refused_in_words(raw: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        names.normalize_title(raw)


@pytest.mark.parametrize("look_alike", ["lobby", "LOBBY", "L0bby", "L\u043ebby", "Lobby  "])
def test_look_alikes_of_a_title_share_its_key(look_alike: str) -> None:
    assert names.title_key(look_alike) == names.title_key("Lobby")
    assert names.title_key("Room  one") == names.title_key("room one")


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("Evil\x1b[2J\n   9  Forged  yes", "Evil\\x1b[2J\\n   9  Forged  yes"),
        ("Lobby\u200b", "Lobby\\u200b"),
        ("\u202eevil", "\\u202eevil"),
        ("nul\x00", "nul\\x00"),
        ("tab\there", "tab\\there"),
        ("caf\udce9", "caf\\udce9"),  # an undecodable byte of a command line
        ("\u3164", "\\u3164"),
        ("a\u00a0b", "a\\xa0b"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("back\\slash", "back\\\\slash"),
        ("\u0301alone", "\\u0301alone"),
        ("e\u0301\u0302 ok", "e\u0301\u0302 ok"),
        ("Caf\u00e9 \u2615 \u0430dmin", "Caf\u00e9 \u2615 \u0430dmin"),
    ],
)
def test_a_stored_name_is_shown_with_whatever_could_act_on_a_terminal_escaped(
    stored: str, shown: str
) -> None:
    assert names.escape_for_terminal(stored) == shown


@given(st.text(max_size=40))
def test_escaped_text_holds_nothing_a_terminal_would_act_on(text: str) -> None:
    shown = names.escape_for_terminal(text)
    assert not any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for c in shown)
    shown.encode("utf-8")


@given(st.text(max_size=40))
def test_the_rules_keep_what_they_accept(raw: str) -> None:
    """A name the rules accept is accepted again as it is, with the same key."""
    for normalize, key in ((names.normalize_username, names.username_key),
                           (names.normalize_title, names.title_key)):
        try:
            stored = normalize(raw)
        except ValueError:
            continue
        assert normalize(stored) == stored
        assert key(stored) == key(raw) and key(stored)
        assert names.escape_for_terminal(stored) == stored.replace("\\", "\\\\")


@pytest.mark.parametrize(
    "frame",
    [
        {"command": "room.create", "title": "\u200b"},
        {"command": "room.create", "title": "Lobby\u200b"},
        {"command": "room.create", "title": "Lo\u202ebby"},
        {"command": "room.create", "title": "Lobby\x00"},
        {"command": "room.create", "title": "\x1b[2J"},
        {"command": "room.update", "room": 1, "title": "Lobby\n   9  Forged"},
    ],
)
def test_the_decoder_refuses_titles_that_would_deceive(frame: dict[str, object]) -> None:
    """(New usernames are refused by the chat rules: tests/protocol/test_names_live.py.)"""
    with pytest.raises(ProtocolError):
        decode_command(json.dumps(frame))


def test_the_decoder_stores_new_names_in_nfkc_and_leaves_references_as_typed() -> None:
    created = decode_command(json.dumps(
        {"command": "user.create", "username": FULLWIDTH_ALICE, "password": "p"}))
    assert getattr(created, "username", None) == "alice"
    login = decode_command(json.dumps(
        {"command": "login", "username": FULLWIDTH_ALICE, "password": "p"}))
    assert getattr(login, "username", None) == FULLWIDTH_ALICE  # the store finds it by key


def test_the_words_of_a_refused_username() -> None:
    assert names.username_refusal("ad\u200bmin") == (
        "usernames may not contain control or format characters (U+200B ZERO WIDTH SPACE)")
    assert names.username_refusal(FULLWIDTH_ALICE).endswith("in NFKC this one is 'alice'")
