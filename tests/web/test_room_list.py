"""The list of rooms as people read it, and the room in the page's address: a reload
comes back to the room that was open; a long title shows whole on hover; a
staff-only room is marked as in the app."""

from __future__ import annotations

from playwright.async_api import expect

from multichat.server.net import ChatServer
from tests.helpers.servers import ALICE, STAFF
from tests.web.conftest import PageFactory, logged_in, open_room

LONG_TITLE = "Quarterly planning for the infrastructure migration, phase 2"


async def test_a_reload_comes_back_to_the_room_that_was_open(
    server: ChatServer, open_page: PageFactory
) -> None:
    assert server.store is not None and server.chat is not None
    garden = server.store.create_room("Garden").id
    await server.chat.reconcile()
    page = await logged_in(open_page, server, ALICE, "Garden")
    assert page.url.endswith(f"#room={garden}")
    await page.reload()  # logged in again by the cookie
    await expect(page.locator("#room-title")).to_have_text("Garden")
    await expect(page.get_by_role("button", name="Garden", exact=True)
                 ).to_have_attribute("aria-current", "true")
    await expect(page.get_by_label("Message")).to_be_enabled()
    await expect(page.get_by_label("Message")).to_be_focused()
    # Logging out leaves no room in the address for whoever logs in next.
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_label("Username")).to_be_visible()
    assert "#room=" not in page.url


async def test_a_room_the_reader_may_not_see_in_the_address_opens_nothing(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await open_page(f"http://127.0.0.1:{server.port}/#room=2")  # the Staff room
    await page.get_by_label("Username").fill(ALICE[0])
    await page.get_by_label("Password").fill(ALICE[1])
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("button", name="Lobby", exact=True)).to_be_visible()
    await expect(page.locator("#conversation-empty")).to_be_visible()
    await expect(page.locator("#room-title")).to_have_text("Multichat")


async def test_long_titles_show_whole_on_hover_and_staff_rooms_are_marked(
    server: ChatServer, open_page: PageFactory
) -> None:
    assert server.store is not None and server.chat is not None
    server.store.create_room(LONG_TITLE)
    await server.chat.reconcile()
    page = await logged_in(open_page, server, STAFF)
    await open_room(page, LONG_TITLE)
    button = page.get_by_role("button", name=LONG_TITLE, exact=True)
    await expect(button).to_have_attribute("title", LONG_TITLE)
    staff = page.locator("#room-list li", has=page.get_by_role(
        "button", name="Staff room", exact=True))
    await expect(staff.get_by_role("img", name="staff only")).to_be_visible()
    lobby = page.locator("#room-list li", has=page.get_by_role(
        "button", name="Lobby", exact=True))
    await expect(lobby.get_by_role("img", name="staff only")).to_have_count(0)
