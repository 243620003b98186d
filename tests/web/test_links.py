"""Web links in messages: links made by the page, safe ones only, by the app's rule."""

from __future__ import annotations

from playwright.async_api import expect

from multichat.desktop.widgets.linkify import href, links_in
from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, BOB
from tests.web.conftest import PageFactory, log_in, open_room

TEXTS = [
    "see https://example.org/a?b=1&c=2.", "(http://x.org/wiki/A_(b)) and HTTP://Y.ORG!",
    "javascript:alert(1) file:///etc/passwd ftp://x data:text/html,x",
    "see www.example.org.", "WWW.Example.org/a_(b) and www. and www.x and me@www.a.org",
    "https://www.example.org/x", "https://x.org/\"><script>alert(1)</script>",
    "@alice look at https://x.org/@alice",
]


async def test_links_follow_the_apps_rule(server: ChatServer, open_page: PageFactory) -> None:
    page = await open_page(server)
    found = await page.evaluate("""async texts => {
        const { linkRanges } = await import("/js/links.js");
        return texts.map(text => linkRanges(text).map(l => [text.slice(l.start, l.end), l.href]));
    }""", TEXTS)
    assert found == [[[link, href(link)] for link in links_in(text)] for text in TEXTS]


async def test_a_link_in_a_message_opens_apart_and_markup_around_it_stays_text(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await open_page(server)
    await log_in(page, *ALICE)
    await open_room(page, "Lobby")
    text = ('@alice see https://example.org/a?b=1. or www.example.org, '
            'not javascript:alert(1) <a href="http://127.0.0.1:9/">x</a>')
    bob = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}/")
    try:
        await bob.login(*BOB)
        await bob.join(1)
        await bob.send(command="send", room=1, message=text)
        await bob.expect(lambda f: f.get("message") == text)
    finally:
        await bob.close()
    shown = page.locator(".message .text", has_text="example.org")
    await expect(shown).to_have_text(text)
    links = shown.locator("a")
    await expect(links).to_have_count(3)
    assert await links.evaluate_all("nodes => nodes.map(n => [n.getAttribute('href'), n.rel,"
                                    " n.target, n.textContent])") == [
        ["https://example.org/a?b=1", "noopener noreferrer", "_blank",
         "https://example.org/a?b=1"],
        ["http://www.example.org", "noopener noreferrer", "_blank", "www.example.org"],
        # The text's own "<a href=...>" is text; the address inside it is a link the
        # page made, up to the quote.
        ["http://127.0.0.1:9/", "noopener noreferrer", "_blank", "http://127.0.0.1:9/"],
    ]
    await expect(shown.locator("mark.mention")).to_have_text("@alice")
