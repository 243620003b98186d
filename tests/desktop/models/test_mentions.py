"""Mentions: @name or the name as a word, never part of another word."""

from __future__ import annotations

import pytest

from multichat.desktop.models.mentions import mentions


@pytest.mark.parametrize(
    "text",
    ["@al hi", "hi al", "AL, look", "thanks @Al!", "al", "(al)", "ping al.", "al: there"],
)
def test_mentions(text: str) -> None:
    assert mentions(text, "al")


@pytest.mark.parametrize(
    "text", ["alice", "hal", "@alice", "al.x said", "mail@al", "al-b", "salt", ""],
)
def test_not_mentions(text: str) -> None:
    assert not mentions(text, "al")


def test_names_with_dots_and_dashes() -> None:
    assert mentions("hey @j.doe-2 look", "j.doe-2")
    assert not mentions("hey j.doe-23", "j.doe-2")
    assert not mentions("anything", "")
