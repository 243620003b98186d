"""The page in a second engine: Debian's Firefox ESR, over WebDriver BiDi (firefox.py).

A smoke test of what differs most between engines: the login form and the
cookie it gets (HttpOnly, SameSite=Strict, logging the next load in), the
same-origin WebSocket under ``connect-src 'self'``, Enter to send, hostile text
shown as text, the CSP refusing an injected inline script; a picture uploaded
over the socket's binary frames and its thumbnail fetched with the cookie; a
search marking accented words; and the seed's own page, with that cookie, from
an allowed origin of the same site.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, BOB
from tests.web.firefox import FirefoxPage, firefox_page, have_firefox
from tests.web.seed_site import SeedSite

HOSTILE = ('<b id=xss>x</b><img src=http://127.0.0.1:9/x onerror="alert(1)">'
           "<script>alert(2)</script>")
CHAT_SHOWN = "!document.getElementById('chat-view').hidden"
TEXTS = "[...document.querySelectorAll('#messages .message .text')].map(n => n.textContent)"


@pytest.fixture
async def firefox(tmp_path: Path) -> AsyncIterator[FirefoxPage]:
    if not have_firefox():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("firefox-esr is not installed; .ci/run installs it", pytrace=False)
        pytest.skip("firefox-esr is not installed")
    async with firefox_page(tmp_path / "firefox") as page:
        yield page


async def log_in(page: FirefoxPage, server: ChatServer) -> None:
    """As alice, with the form, by clicks and keys."""
    await page.goto(f"http://127.0.0.1:{server.port}/")
    await page.wait_for("!document.getElementById('login-view').hidden")
    await page.click("#login-username")
    await page.type(ALICE[0])
    await page.click("#login-password")
    await page.type(ALICE[1])
    await page.press("Enter")
    await page.wait_for(CHAT_SHOWN)


@contextlib.asynccontextmanager
async def bob_beside_alice_in_the_lobby(page: FirefoxPage,
                                        server: ChatServer) -> AsyncIterator[ProtocolClient]:
    """Alice's page (logged in) opens the Lobby, ready to type; bob, a protocol client,
    logs in and joins it too. Yields bob, closed after."""
    await page.click('#room-list li[data-room-id="1"] button')
    await page.wait_for("!document.getElementById('message-input').disabled")
    bob = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}/")
    try:
        await bob.login(*BOB)
        await bob.join(1)
        yield bob
    finally:
        await bob.close()


async def test_the_page_logs_in_chats_and_keeps_text_as_text_in_firefox(
    server: ChatServer, firefox: FirefoxPage
) -> None:
    page = firefox
    await log_in(page, server)

    [cookie] = [c for c in await page.cookies() if c["name"] == "multichat_session"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "strict"
    assert cookie["secure"] is False
    assert "multichat_session" not in await page.evaluate("document.cookie")

    async with bob_beside_alice_in_the_lobby(page, server) as bob:
        await page.click("#message-input")
        await page.type("hello from")
        await page.press("Shift+Enter")
        await page.type("firefox")
        await page.press("Enter")
        sent = await bob.expect(lambda f: f.get("username") == "alice" and "seq" in f)
        assert sent["message"] == "hello from\nfirefox"

        await bob.send(command="send", room=1, message=HOSTILE)
        await page.wait_for(f"{TEXTS}.includes({json.dumps(HOSTILE)})")
        assert await page.evaluate("document.getElementById('xss')") is None
        assert await page.evaluate(
            "document.querySelectorAll('#messages img, #messages script, #messages b').length"
        ) == 0

    # The CSP holds in Firefox too: an injected inline script does not run.
    await page.evaluate("(() => { const s = document.createElement('script');"
                        " s.textContent = 'window.injected = 1'; document.body.append(s); })()")
    assert await page.evaluate("window.injected") is None
    # The next load is logged in by the cookie alone.
    await page.goto(f"http://127.0.0.1:{server.port}/")
    await page.wait_for(CHAT_SHOWN)
    assert await page.evaluate("document.getElementById('login-view').hidden") is True


async def test_the_seeds_page_unchanged_chats_through_the_cookie_in_firefox(
    seed_site: SeedSite, seed_server: ChatServer, firefox: FirefoxPage
) -> None:
    page = firefox
    await log_in(page, seed_server)
    await page.listen()
    await page.goto(f"{seed_site.origin}/")
    await page.wait_for_console("Got websocket message ")
    first = next(line for line in page.console if line.startswith("Got websocket message "))
    assert json.loads(first.removeprefix("Got websocket message "))["login"]["username"] == "alice"

    bob = await ProtocolClient.open(f"ws://127.0.0.1:{seed_server.port}/")
    try:
        await bob.login(*BOB)
        await page.click('li.room-link[data-room-id="1"]')
        await page.wait_for("document.querySelector('#room-1 h2')?.textContent === 'Lobby'")
        await bob.join(1)
        await page.wait_for("document.querySelector('#room-1 .messages').textContent"
                            ".includes('bob joined the room!')")
        await page.click("#room-1 input")
        await page.type("hello from the seed in firefox")
        await page.click("#room-1 button")
        sent = await bob.expect(lambda f: f.get("message") == "hello from the seed in firefox")
        assert sent["username"] == "alice"
        await bob.send(command="send", room=1, message="hello, seed")
        await page.wait_for("[...document.querySelectorAll('#room-1 .message')].some(m =>"
                            " m.querySelector('.username').textContent === 'bob'"
                            " && m.querySelector('.body').textContent === 'hello, seed')")
        await bob.send(command="leave", room=1)
        await page.wait_for("document.querySelector('#room-1 .messages').textContent"
                            ".includes('bob left the room!')")
        await bob.join(1)
        await page.click('li.room-link[data-room-id="1"]')  # leave
        left = await bob.expect(lambda f: f.get("msg_type") == 5)
        assert left["username"] == "alice"
        await page.wait_for("document.getElementById('room-1') === null")
    finally:
        await bob.close()
    assert "Unsupported message type!" in page.console
    assert page.prompts == []  # the seed alerts every error frame: there was none


# A PNG drawn in the page, chosen in the file input as a person would leave it; its
# SHA-256 (hex) on window.chosenSha256.
CHOOSE_A_PICTURE = """(async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 60; canvas.height = 40;
  const paint = canvas.getContext("2d");
  paint.fillStyle = "#c0392b"; paint.fillRect(0, 0, 60, 40);
  const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  window.chosenSha256 = [...new Uint8Array(digest)]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const data = new DataTransfer();
  data.items.add(new File([blob], "red.png", { type: "image/png" }));
  const input = document.getElementById("file-input");
  input.files = data.files;
  input.dispatchEvent(new Event("change"));
  return true;
})()"""


async def test_a_picture_goes_up_and_shows_and_a_search_marks_its_words_in_firefox(
    server: ChatServer, firefox: FirefoxPage
) -> None:
    page = firefox
    await log_in(page, server)
    async with bob_beside_alice_in_the_lobby(page, server) as bob:
        await page.evaluate(CHOOSE_A_PICTURE)
        await page.wait_for("document.querySelector('.upload .upload-state')?.textContent"
                            " === 'ready'")
        await page.click("#message-input")
        await page.type("Crème brûlée")
        await page.press("Enter")
        sent = await bob.expect(lambda f: f.get("username") == "alice" and "seq" in f)
        assert sent["files"][0]["sha256"] == await page.evaluate("window.chosenSha256")
        # The thumbnail, fetched with the cookie under img-src 'self', is a picture.
        await page.wait_for("document.querySelector('.file-image img')?.complete"
                            " && document.querySelector('.file-image img').naturalWidth > 0")

        await page.click("#search-button")
        await page.type("CREME BRU")
        await page.press("Enter")
        await page.wait_for("document.querySelectorAll('.search-result').length === 1")
        assert await page.evaluate(
            "[...document.querySelectorAll('.search-result mark')].map(m => m.textContent)"
        ) == ["Crème", "brûlée"]
