"""What a hostile page, link or network name can do to the browser client: nothing."""

from __future__ import annotations

import dataclasses
import re

from playwright.async_api import expect

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from multichat.server.net.http import CONTENT_SECURITY_POLICY
from tests.helpers.servers import ALICE, seeded_server
from tests.web.conftest import PageFactory, log_in


async def test_every_answer_carries_the_strict_headers_and_the_page_no_inline_script(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await open_page(server)
    response = await page.request.get(f"http://127.0.0.1:{server.port}/")
    headers = response.headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-cache"
    html = await response.text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "an inline script"
    assert not re.search(r"\son\w+=", html), "an inline event handler"
    assert "http://" not in html and "https://" not in html  # no outside address
    script = await page.request.get(f"http://127.0.0.1:{server.port}/js/main.js")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    missing = await page.request.get(f"http://127.0.0.1:{server.port}/nope")
    assert missing.status == 404
    assert missing.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    # The policy is in force, and connect-src 'self' lets the page's own ws: through.
    await page.evaluate("() => { const s = document.createElement('script');"
                        " s.textContent = 'window.injected = 1'; document.body.append(s); }")
    assert await page.evaluate("window.injected") is None
    await log_in(page, *ALICE)  # over the same-origin WebSocket


async def test_the_page_cannot_be_framed(server: ChatServer, open_page: PageFactory) -> None:
    page = await open_page(server)
    await page.set_content(f'<iframe src="http://127.0.0.1:{server.port}/"></iframe>')
    frame = page.frames[-1]
    await expect(page.locator("iframe")).to_have_count(1)
    assert await frame.locator("#login-form").count() == 0


async def test_the_cookie_is_secure_over_tls(
    server_config: ServerConfig, open_page: PageFactory, passwords: Passwords
) -> None:
    config = dataclasses.replace(server_config, tls=True)
    async with seeded_server(config, passwords) as tls_server:
        page = await open_page(f"https://127.0.0.1:{tls_server.port}/", ignore_https_errors=True)
        await log_in(page, *ALICE)
        [cookie] = [c for c in await page.context.cookies() if c["name"] == "multichat_session"]
        assert cookie["secure"] is True and cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Strict"
        await page.reload()  # wss: carries it: logged in from the first frame
        await expect(page.get_by_role("button", name="Log out")).to_be_visible()


async def test_another_site_can_neither_ride_the_cookie_nor_set_or_clear_it(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await open_page(server)
    await log_in(page, *ALICE)
    # "localhost" is another site than "127.0.0.1": a page there, even an allowed one,
    # opens the WebSocket without the cookie, and its /session and /logout are refused.
    other = await page.context.new_page()
    await other.goto(f"http://localhost:{server.port}/nope")
    for endpoint in ("logout", "session?ticket=x"):
        async with other.expect_navigation() as navigation:
            await other.evaluate("url => { location.href = url; }",
                                 f"http://127.0.0.1:{server.port}/{endpoint}")
        response = await navigation.value
        assert response is not None and response.status == 403
        assert "set-cookie" not in response.headers
    # The cookie survived the cross-site /logout.
    assert [c for c in await page.context.cookies() if c["name"] == "multichat_session"]
    await page.reload()
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()
