"""Starting a direct conversation from the page, as one would in the app."""

from __future__ import annotations

from playwright.async_api import expect

from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, BOB
from tests.web.conftest import PageFactory, log_in


async def test_a_person_starts_a_direct_conversation_by_name(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await open_page(server)
    await log_in(page, *ALICE)
    who = page.get_by_label("Start a conversation with")
    await who.fill("nobody-here")
    await who.press("Enter")
    await expect(page.locator("#dm-error")).to_contain_text("No one here is called that")

    bob = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}/")
    try:
        await bob.login(*BOB)
        await who.fill("@Bob")
        await page.get_by_role("button", name="Start").click()
        # It opens, titled by the other person, listed under direct messages.
        await expect(page.locator("#room-title")).to_have_text("bob")
        await expect(page.locator("#direct-list").get_by_role("button", name="bob")
                     ).to_be_visible()
        await expect(page.locator("#dm-error")).to_have_text("")
        await expect(page.get_by_label("Message")).to_be_focused()
        await page.get_by_label("Message").fill("just us")
        await page.get_by_label("Message").press("Enter")
        await expect(page.locator(".message:not(.pending)", has_text="just us")).to_be_visible()
        await bob.send(command="rooms", ref="r")
        rooms = await bob.expect(lambda f: f.get("ref") == "r")
        [direct] = [r for r in rooms["rooms"] if r.get("kind") == "direct"]
        assert direct["members"] == ["alice", "bob"] and direct["unread"] == 1
        await bob.send(command="history", room=direct["id"], ref="h")
        history = await bob.expect(lambda f: f.get("ref") == "h")
        assert [m["message"] for m in history["messages"]] == ["just us"]
    finally:
        await bob.close()
