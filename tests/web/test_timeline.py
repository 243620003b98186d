"""How the conversation reads: date lines, "New messages", grouping, joins and leaves."""

from __future__ import annotations

from functools import partial

from playwright.async_api import expect

from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, BOB, STAFF
from tests.web.conftest import PageFactory, log_in, open_room


def said(text: str, frame: dict[str, object]) -> bool:
    return frame.get("message") == text


async def client(server: ChatServer, credentials: tuple[str, str]) -> ProtocolClient:
    opened = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}/")
    await opened.login(*credentials)
    return opened


async def test_the_conversation_is_laid_out_as_in_the_app(
    server: ChatServer, open_page: PageFactory
) -> None:
    bob, sam, phone = (await client(server, BOB), await client(server, STAFF),
                       await client(server, ALICE))
    try:
        await bob.join(1)
        for text in ("seen before", "new one", "new two"):
            await bob.send(command="send", room=1, message=text)
            seq = int((await bob.expect(partial(said, text)))["seq"])
            if text == "seen before":
                await phone.send(command="read", room=1, seq=seq)  # alice read this far
        page = await open_page(server)
        await log_in(page, *ALICE)
        await open_room(page, "Lobby")
        rows = page.locator("#messages > li")
        await expect(rows).to_have_count(5)
        # A date line, the old message, the unread line, then the new ones grouped.
        assert await rows.evaluate_all("nodes => nodes.map(n => n.className)") == [
            "day", "message", "divider", "message", "message continued"]
        await expect(rows.nth(0)).to_have_text("Today")
        await expect(rows.nth(2)).to_have_text("New messages")
        await expect(rows.nth(4).locator(".sender")).to_be_hidden()

        # Joins and leaves: one line for the run, without the reader, without a round trip.
        notice = page.locator("#messages > .notice")
        await sam.join(1)
        await expect(notice).to_have_text("sam joined")
        await bob.send(command="leave", room=1)
        await expect(notice).to_have_text("sam joined; bob left")
        await sam.send(command="leave", room=1)
        await expect(notice).to_have_text("bob left")  # sam came and went
        await bob.join(1)
        await expect(notice).to_have_count(0)  # and bob was back at once
        await bob.send(command="send", room=1, message="after the run")
        await expect(page.locator(".message", has_text="after the run")).to_be_visible()
        assert await page.locator("#messages", has_text="alice joined").count() == 0
    finally:
        for person in (bob, sam, phone):
            await person.close()
