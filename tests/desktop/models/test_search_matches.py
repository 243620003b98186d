"""Marking a search's words in a result: where the server's rule (protocol.words) matched."""

from __future__ import annotations

import unicodedata

import pytest

from multichat.desktop.models.search_matches import marked_html, match_spans, snippet
from multichat.protocol import words


def marked(text: str, query: str) -> list[str]:
    return [text[start:end] for start, end in match_spans(text, query)]


def test_a_query_word_marks_the_word_it_begins_and_only_that_much() -> None:
    assert marked("the resumes are in, lunch after?", "resume lun") == ["resume", "lun"]
    assert marked("brunch at noon", "lun") == []  # not the start of a word
    assert marked("Lunch, LUNCH and lunch", "lunch") == ["Lunch", "LUNCH", "lunch"]


def test_accents_and_case_do_not_count_and_the_accents_are_marked_with_their_letters() -> None:
    assert marked("Résumé: lunch moved to Monday", "resume") == ["Résumé"]
    assert marked("the resume is here", "Résumé") == ["resume"]
    decomposed = unicodedata.normalize("NFD", "Résumé")  # e + a combining accent
    assert marked(f"{decomposed} sent", "resume") == [decomposed]
    assert marked("ÉCOLE and école", "ecole") == ["ÉCOLE", "école"]


def test_the_middle_of_a_word_is_never_marked_as_the_server_never_finds_it() -> None:
    assert marked("Résumé", "sumé") == []
    assert marked("résumé", "sume") == []


def test_folding_that_changes_lengths_marks_whole_characters() -> None:
    assert marked("Straße", "strasse") == ["Straße"]
    assert marked("Straße", "stras") == ["Straß"]  # ß is "ss": marked whole, never half
    assert marked("ﬁne", "fi") == ["ﬁ"]  # a ligature: one character for "fi"
    assert marked("ﬁne", "fine") == ["ﬁne"]


def test_the_longest_query_word_wins_and_spans_never_overlap() -> None:
    assert marked("lunchtime", "lun lunch") == ["lunch"]
    assert match_spans("a lunch", ["lun"]) == [(2, 5)]


def test_punctuation_separates_words_as_on_the_server() -> None:
    assert marked("re-sume foo_bar", "sume bar") == ["sume", "bar"]
    assert marked("nothing here", "!!!") == []
    assert marked("", "lunch") == []


@pytest.mark.parametrize("text", [
    "Résumé: lunch moved to Monday", "the resumes are in, lunch after?", "Straße ﬁne",
    "مرحبا بالجميع، الاجتماع", "日本語のテキスト", "emoji 🙏 between", "x_y-z", "ÀÉÎÕÜ",
    unicodedata.normalize("NFD", "Crème brûlée"),
])
def test_every_word_of_the_server_is_marked_by_its_whole_self(text: str) -> None:
    """Each word the server indexes, as a query, marks a stretch that folds to it: the
    two cut and fold texts alike."""
    for word in words.words(text):
        spans = match_spans(text, [word])
        assert any(words.fold(text[start:end]).startswith(word) for start, end in spans), word


def test_marked_html_escapes_the_message() -> None:
    text = "<b>lunch</b> & more"
    html = marked_html(text, match_spans(text, "lunch"), "<m>", "</m>")
    assert html == "&lt;b&gt;<m>lunch</m>&lt;/b&gt; &amp; more"


def test_a_long_message_is_cut_around_its_first_match() -> None:
    text = "word " * 100 + "the lunch is moved " + "tail " * 100
    cut, spans = snippet(text, match_spans(text, "lunch"), width=120)
    assert cut.startswith("…") and cut.endswith("…")
    assert [cut[start:end] for start, end in spans] == ["lunch"]
    assert len(cut) <= 122
    short, kept = snippet("a lunch", [(2, 7)])
    assert (short, kept) == ("a lunch", [(2, 7)])
