"""Unread and mention counts in the page come from the server, and mentions stand out."""

from __future__ import annotations

from playwright.async_api import Locator, Page, expect

from multichat.protocol.mentions import mentions
from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, BOB
from tests.protocol.test_mentions import MENTIONED, NOT_MENTIONED
from tests.web.conftest import PageFactory, log_in, open_room


async def client(server: ChatServer, credentials: tuple[str, str]) -> ProtocolClient:
    opened = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}/")
    await opened.login(*credentials)
    return opened


async def say(bob: ProtocolClient, room: int, text: str) -> int:
    await bob.send(command="send", room=room, message=text)
    return int((await bob.expect(lambda f: f.get("message") == text))["seq"])


def row(page: Page, room: int) -> tuple[Locator, Locator]:
    item = page.locator(f'#sidebar li[data-room-id="{room}"]')
    return item.locator(".badge.unread"), item.locator(".badge.mention")


async def test_the_room_list_counts_messages_not_edits_or_reactions(
    server: ChatServer, open_page: PageFactory
) -> None:
    bob = await client(server, BOB)
    try:
        await bob.join(1)
        first = await say(bob, 1, "one")
        second = await say(bob, 1, "two")
        await say(bob, 1, "three, @alice")
        await bob.send(command="react", room=1, seq=first, emoji="👍", on=True)
        await bob.expect(lambda f: f.get("msg_type") == 8)
        await bob.send(command="edit", room=1, seq=second, message="two, edited")
        await bob.expect(lambda f: f.get("msg_type") == 6)
    finally:
        await bob.close()
    page = await open_page(server)
    await log_in(page, *ALICE)
    unread, mention = row(page, 1)
    # Three messages; last_seq - read_seq would say five. The list has no mention
    # count: the page reads the unread messages to find the one naming alice.
    await expect(unread).to_have_text("3")
    await expect(unread).to_have_attribute("aria-label", "3 unread")
    await expect(mention).to_have_text("@1")
    await expect(page).to_have_title("(@1 · 3) Multichat")
    await open_room(page, "Lobby")
    await expect(unread).to_have_count(0)
    await expect(mention).to_have_count(0)
    await expect(page).to_have_title("Multichat")


async def test_activity_counts_read_pushes_and_opening_a_room_move_the_badges(
    server: ChatServer, open_page: PageFactory
) -> None:
    assert server.store is not None and server.chat is not None
    garden = server.store.create_room("Garden").id
    await server.chat.reconcile()
    page = await open_page(server)
    await log_in(page, *ALICE)
    await open_room(page, "Lobby")
    phone = await client(server, ALICE)  # alice's other device
    bob = await client(server, BOB)
    try:
        await bob.join(garden)
        # A burst: the server may fold it into fewer activity frames; each says its count.
        for text in ("a", "b", "c", "d"):
            await bob.send(command="send", room=garden, message=text)
        last = await say(bob, garden, "e, @alice?")
        unread, mention = row(page, garden)
        await expect(unread).to_have_text("5")
        await expect(mention).to_have_text("@1")
        await expect(page).to_have_title("(@1 · 5) Multichat")

        # Read on the phone up to the third message: the push says two are left.
        third = last - 2
        await phone.send(command="read", room=garden, seq=third)
        await expect(unread).to_have_text("2")
        await expect(mention).to_have_text("@1")

        # Opening the room reads it, and the server hears of it: the phone is told.
        await open_room(page, "Garden")
        await expect(page.locator(".message", has_text="e, @alice?")).to_be_visible()
        await expect(unread).to_have_count(0)
        await expect(mention).to_have_count(0)
        told = await phone.expect(lambda f: f.get("read") == str(garden) and f["seq"] == last)
        assert told["unread"] == 0
        listed = await phone.request(command="rooms")
        [entry] = [e for e in listed["rooms"] if e["id"] == str(garden)]
        assert entry["unread"] == 0 and entry["read_seq"] == last

        # Back in Lobby, new Garden messages count again; the phone reading them clears them.
        await open_room(page, "Lobby")
        newest = await say(bob, garden, "f")
        await expect(unread).to_have_text("1")
        await phone.send(command="read", room=garden, seq=newest)
        await expect(unread).to_have_count(0)
        await expect(page).to_have_title("Multichat")
    finally:
        await bob.close()
        await phone.close()


async def test_messages_naming_the_reader_stand_out(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await open_page(server)
    await log_in(page, *ALICE)
    await open_room(page, "Lobby")
    bob = await client(server, BOB)
    try:
        await bob.join(1)
        for text in ("hey @alice, look", "alicex is someone else", "ALICE: lunch?"):
            await say(bob, 1, text)
    finally:
        await bob.close()
    named = page.locator(".message", has_text="hey @alice")
    await expect(named).to_have_class("message mentions-me")
    await expect(named.locator("mark.mention")).to_have_text("@alice")
    await expect(named.locator(".text")).to_have_text("hey @alice, look")  # text, as sent
    other = page.locator(".message", has_text="alicex")
    await expect(other.locator("mark")).to_have_count(0)
    await expect(other).not_to_have_class("message mentions-me")
    await expect(page.locator(".message", has_text="lunch").locator("mark")).to_have_text("ALICE")
    await page.get_by_label("Message").fill("I am @alice")
    await page.get_by_label("Message").press("Enter")
    await expect(page.locator(".message.mine", has_text="I am")).not_to_have_class(
        "message mine mentions-me")


async def test_the_pages_mention_rule_is_the_servers(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await open_page(server)
    cases = [[text, name] for text, name in MENTIONED + NOT_MENTIONED]
    named = await page.evaluate("""async cases => {
        const { mentionRanges } = await import("/js/mentions.js");
        return cases.map(([text, name]) => mentionRanges(text, name).length > 0);
    }""", cases)
    assert named == [mentions(text, name) for text, name in cases]
