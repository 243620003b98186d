"""protocol.words: the words search indexes and looks up, the same on both engines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from multichat.protocol.words import MAX_WORD_CHARS, fold, words


def test_case_accents_and_compatibility_forms_do_not_count() -> None:
    assert words("Mon Résumé est PRÊT") == ["mon", "resume", "est", "pret"]
    assert words("Straße") == words("STRASSE") == ["strasse"]  # unaccent does this, FTS5 not
    full_width = "\uff46\uff55\uff4c\uff4c"  # "full" in full-width letters
    assert words(f"\ufb01ne {full_width}") == ["fine", "full"]  # a ligature too
    assert words("İstanbul ÅNGSTRÖM Ωmega") == ["istanbul", "angstrom", "ωmega"]
    assert words("ΟΔΟΣ οδος") == ["οδοσ"]  # final sigma folds with sigma
    assert words("Ёлка ёлка") == ["елка"]
    assert words("crème brûlée") == words("CREME BRULEE")


def test_only_letters_digits_and_marks_make_words() -> None:
    assert words('quotes " and * stars: NEAR(x y) -minus ^caret a_b example.com') == [
        "quotes", "and", "stars", "near", "x", "y", "minus", "caret", "a", "b", "example",
        "com"]
    assert words("🎉 !!! ... 👍🏽") == []
    assert words("日本語のテキスト 2026 v2") == ["日本語のテキスト", "2026", "v2"]
    assert words("one one ONE two") == ["one", "two"]  # each once, in order


def test_a_long_word_is_cut_alike_in_text_and_query() -> None:
    long = "x" * (MAX_WORD_CHARS + 50)
    assert words(long) == ["x" * MAX_WORD_CHARS]
    assert words(long + " y") == words(words(long)[0] + " y")


@given(st.text(max_size=60))
def test_folding_twice_changes_nothing(text: str) -> None:
    """The store cuts the words of a query again: that must give the same words, or a
    query would miss what its own text finds."""
    once = words(text)
    assert words(" ".join(once)) == once
    assert fold(fold(text)) == fold(text)
    assert all(word == fold(word) and word for word in once)
