"""The text box belongs to the room in view: a draft, a reply or an edit begun in one
room stays there when another is opened (it went to the other room before), and
choosing a room in the list puts the cursor in its text box. A message the server
refuses comes back to the box."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, seeded_server
from tests.web.conftest import PageFactory, bob_in_lobby, logged_in, open_room


async def garden(server: ChatServer) -> str:
    """A second room, made before the page logs in; its id."""
    assert server.store is not None and server.chat is not None
    room = server.store.create_room("Garden").id
    await server.chat.reconcile()
    return str(room)


async def bob_says(bob: ProtocolClient, text: str) -> int:
    await bob.send(command="send", room=1, message=text)
    return int((await bob.expect(lambda f: f.get("message") == text))["seq"])


async def said_in(bob: ProtocolClient, text: str) -> dict[str, object]:
    return await bob.expect(lambda f: f.get("message") == text)


async def test_a_reply_begun_in_one_room_stays_there_and_goes_there(
    server: ChatServer, open_page: PageFactory
) -> None:
    garden_id = await garden(server)
    bob = await bob_in_lobby(server)
    try:
        await bob.join(garden_id)
        asked = await bob_says(bob, "Lunch at noon?")
        page = await logged_in(open_page, server, ALICE, "Lobby")
        box = page.get_by_label("Message")
        message = page.locator(f".message[data-seq='{asked}']")
        await message.get_by_role("button", name="Reply").click()
        await box.fill("noon is fine, but")

        await open_room(page, "Garden")
        await expect(box).to_have_value("")
        await expect(page.locator("#context-bar")).to_be_hidden()
        await box.fill("hello garden")
        await box.press("Enter")
        there = await said_in(bob, "hello garden")
        assert there["room"] == garden_id and "reply_to" not in there

        await open_room(page, "Lobby")
        await expect(box).to_have_value("noon is fine, but")
        await expect(page.locator("#context-text")).to_have_text(
            "Replying to bob: Lunch at noon?")
        await box.press("Enter")
        reply = await said_in(bob, "noon is fine, but")
        assert reply["room"] == "1" and reply["reply_to"] == asked
    finally:
        await bob.close()


async def test_an_edit_stays_in_its_room_and_escape_gives_the_draft_back(
    server: ChatServer, open_page: PageFactory
) -> None:
    await garden(server)
    bob = await bob_in_lobby(server)
    try:
        page = await logged_in(open_page, server, ALICE, "Lobby")
        box = page.get_by_label("Message")
        await box.fill("my message")
        await box.press("Enter")
        await said_in(bob, "my message")
        await expect(page.locator(".message.pending")).to_have_count(0)
        await box.press("ArrowUp")
        await expect(page.locator("#context-text")).to_have_text("Editing your message")

        await open_room(page, "Garden")  # an edit of a Lobby message must not go here
        await expect(box).to_have_value("")
        await expect(page.locator("#context-bar")).to_be_hidden()
        await box.press("ArrowUp")  # nothing of alice's in Garden: nothing to edit
        await expect(page.locator("#context-bar")).to_be_hidden()

        await open_room(page, "Lobby")
        await expect(box).to_have_value("my message")
        await expect(page.locator("#context-text")).to_have_text("Editing your message")
        await box.press("Escape")
        await expect(box).to_have_value("")

        # Escape gives back what was written before the edit began, as the app does.
        await box.fill("half a thought")
        mine = page.locator(".message", has_text="my message")
        await mine.hover()
        await mine.get_by_role("button", name="Edit").click()
        await expect(box).to_have_value("my message")
        await box.press("Escape")
        await expect(box).to_have_value("half a thought")
    finally:
        await bob.close()


async def test_choosing_a_room_in_the_list_puts_the_cursor_in_its_box(
    server: ChatServer, open_page: PageFactory
) -> None:
    await garden(server)
    page: Page = await logged_in(open_page, server, ALICE)
    await page.get_by_role("button", name="Garden", exact=True).focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Message")).to_be_focused()
    await page.keyboard.type("typed at once")
    await expect(page.get_by_label("Message")).to_have_value("typed at once")


@pytest.fixture
async def short_messages(server_config: ServerConfig,
                         passwords: Passwords) -> AsyncIterator[ChatServer]:
    config = dataclasses.replace(server_config, max_message_chars=30)
    async with seeded_server(config, passwords) as short:
        yield short


async def test_a_message_too_long_comes_back_to_the_box_and_leaves_no_sending_line(
    short_messages: ChatServer, open_page: PageFactory
) -> None:
    text = "This message is longer than thirty characters, by far"
    page = await logged_in(open_page, short_messages, ALICE, "Lobby")
    box = page.get_by_label("Message")
    await box.fill(text)
    await box.press("Enter")
    await expect(page.locator("#connection-status")).to_have_text(
        "That message is too long: messages are limited to 30 characters. It is back in "
        "the text box.")
    await expect(box).to_have_value(text)  # it was gone, and "sending…" forever
    await expect(page.locator(".message.pending")).to_have_count(0)
    bob = await bob_in_lobby(short_messages)
    try:
        await box.fill("Short enough")
        await box.press("Enter")
        await said_in(bob, "Short enough")
        await expect(page.locator(".message.pending")).to_have_count(0)
    finally:
        await bob.close()


async def test_an_edit_too_long_says_the_message_is_unchanged(
    short_messages: ChatServer, open_page: PageFactory
) -> None:
    page = await logged_in(open_page, short_messages, ALICE, "Lobby")
    box = page.get_by_label("Message")
    await box.fill("short one")
    await box.press("Enter")
    mine = page.locator(".message:not(.pending)", has_text="short one")
    await expect(mine).to_have_count(1)
    await box.press("ArrowUp")
    await box.fill("short one, made far longer than thirty characters")
    await box.press("Enter")
    await expect(page.locator("#connection-status")).to_have_text(
        "That edit is too long: messages are limited to 30 characters. The message is "
        "unchanged.")
    await expect(mine.locator(".text")).to_have_text("short one")
