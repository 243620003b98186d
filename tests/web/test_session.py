"""Logging in with the page's form, the session cookie it gets, and logging out."""

from __future__ import annotations

from playwright.async_api import expect

from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE
from tests.web.conftest import PageFactory, log_in


async def test_the_form_logs_in_and_the_cookie_is_httponly_and_strict(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await open_page(server)
    await log_in(page, *ALICE)
    await expect(page.get_by_role("button", name="Lobby", exact=True)).to_be_visible()
    cookies = await page.context.cookies()
    [cookie] = [c for c in cookies if c["name"] == "multichat_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain ws: a Secure cookie would never come back
    assert cookie["path"] == "/"
    # No script of the page can read it.
    assert "multichat_session" not in await page.evaluate("document.cookie")
    # The next load is logged in by the cookie, with no token handed to the page.
    again = await page.context.new_page()
    frames: list[str] = []
    again.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    await again.goto(f"http://127.0.0.1:{server.port}/")
    await expect(again.get_by_role("button", name="Log out")).to_be_visible()
    await expect(again.get_by_label("Username")).to_be_hidden()
    assert frames and '"login"' in frames[0] and "token" not in frames[0]


async def test_a_wrong_password_is_told_in_words_at_the_form(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await open_page(server)
    await page.get_by_label("Username").fill("alice")
    await page.get_by_label("Password").fill("not her password")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    assert not [c for c in await page.context.cookies() if c["name"] == "multichat_session"]
    # Back in the password with the wrong one selected: typing again replaces it.
    await expect(page.get_by_label("Password")).to_be_focused()
    await page.keyboard.type("alice-password")
    await expect(page.get_by_label("Password")).to_have_value("alice-password")


async def test_logging_out_revokes_the_session_the_cookie_names(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await open_page(server)
    await log_in(page, *ALICE)
    [cookie] = [c for c in await page.context.cookies() if c["name"] == "multichat_session"]
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert not [c for c in await page.context.cookies() if c["name"] == "multichat_session"]
    # The old cookie's token logs in nowhere any more.
    client = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}/")
    try:
        reply = await client.request(command="login", token=cookie["value"])
        assert reply["error"] == "LOGIN_FAILED"
    finally:
        await client.close()
    # Nor does a handshake that carries it: the page shows the form, in words.
    await page.context.add_cookies([{"name": cookie["name"], "value": cookie["value"],
                                     "url": f"http://127.0.0.1:{server.port}/"}])
    await page.reload()
    await expect(page.get_by_role("alert")).to_have_text("Your session has ended. Log in again.")
