"""The page at a phone's width and in the dark theme."""

from __future__ import annotations

from playwright.async_api import expect

from multichat.server.net import ChatServer
from tests.helpers.servers import ALICE
from tests.web.conftest import PageFactory, log_in

NO_SIDEWAYS_SCROLL = ("() => document.scrollingElement.scrollWidth"
                      " <= document.scrollingElement.clientWidth")


async def test_at_360_px_nothing_scrolls_sideways_and_the_rooms_fold_away(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await open_page(server, viewport={"width": 360, "height": 640})
    assert await page.evaluate(NO_SIDEWAYS_SCROLL)
    await log_in(page, *ALICE)
    lobby = page.get_by_role("button", name="Lobby", exact=True)
    await expect(lobby).to_be_visible()  # no room open yet: the list is what a phone shows first
    await lobby.click()
    await expect(lobby).to_be_hidden()  # the list folds away once a room is chosen
    # A tap beside the open list, or Escape, folds it too.
    await page.get_by_role("button", name="Conversations").click()
    await expect(lobby).to_be_visible()
    await page.mouse.click(340, 400)
    await expect(lobby).to_be_hidden()
    await page.get_by_role("button", name="Conversations").click()
    await page.keyboard.press("Escape")
    await expect(lobby).to_be_hidden()
    await expect(page.get_by_role("button", name="Conversations")).to_be_focused()
    await page.get_by_label("Message").fill("x" * 300)
    await page.get_by_label("Message").press("Enter")
    await expect(page.locator(".message:not(.pending)")).to_have_count(1)
    assert await page.evaluate(NO_SIDEWAYS_SCROLL)


async def test_the_dark_theme_follows_the_system(
    server: ChatServer, open_page: PageFactory
) -> None:
    light = await open_page(server, color_scheme="light")
    dark = await open_page(server, color_scheme="dark")
    background = "() => getComputedStyle(document.body).backgroundColor"
    text = "() => getComputedStyle(document.body).color"
    assert await light.evaluate(background) == "rgb(255, 255, 255)"
    assert await dark.evaluate(background) == "rgb(21, 24, 29)"
    assert await dark.evaluate(text) == "rgb(230, 233, 238)"


async def test_on_a_phone_a_reload_comes_back_to_the_room_not_to_the_list(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await open_page(server, viewport={"width": 360, "height": 640})
    await log_in(page, *ALICE)
    lobby = page.get_by_role("button", name="Lobby", exact=True)
    await lobby.click()
    await expect(lobby).to_be_hidden()
    await page.reload()
    await expect(page.get_by_label("Message")).to_be_visible()
    await expect(lobby).to_be_hidden()
