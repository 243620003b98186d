"""Message text is shown literally; only links become anchors."""

from __future__ import annotations

from multichat.desktop.widgets.linkify import href, links_in, to_html


def test_markup_is_escaped_and_nothing_fetchable_survives() -> None:
    hostile = '<b>x</b><img src=http://evil.example/a.png><script>alert(1)</script>'
    rendered = to_html(hostile)
    assert "<b>" not in rendered and "<img" not in rendered and "<script" not in rendered
    assert rendered.startswith("&lt;b&gt;x&lt;/b&gt;&lt;img src=")


def test_links_become_anchors_without_trailing_punctuation() -> None:
    assert to_html("see https://example.org/a?b=1&c=2.") == (
        'see <a href="https://example.org/a?b=1&amp;c=2">'
        "https://example.org/a?b=1&amp;c=2</a>."
    )
    assert links_in("(http://x.org/wiki/A_(b)) and HTTP://Y.ORG!") == [
        "http://x.org/wiki/A_(b)", "HTTP://Y.ORG"
    ]


def test_a_link_cannot_break_out_of_its_attribute() -> None:
    rendered = to_html('http://a.org/"onmouseover="x')
    assert 'onmouseover="' not in rendered


def test_only_web_links_are_linked() -> None:
    assert links_in("javascript:alert(1) file:///etc/passwd ftp://x") == []


def test_line_breaks_are_kept() -> None:
    assert to_html("one\ntwo") == "one<br>two"


def test_www_names_are_links_shown_as_typed() -> None:
    assert to_html("see www.example.org.") == (
        'see <a href="http://www.example.org">www.example.org</a>.'
    )
    assert links_in("WWW.Example.org/a_(b) and www. and www.x and me@www.a.org") == [
        "WWW.Example.org/a_(b)"
    ]
    assert links_in("https://www.example.org/x") == ["https://www.example.org/x"]


def test_href_assumes_http_only_without_a_scheme() -> None:
    assert href("www.a.org") == "http://www.a.org"
    assert href("https://a.org") == "https://a.org"
