"""Search in the page: found by an accented, upper-case prefix; the matching words
marked; a hostile message stays text; a result opens its room at the message."""

from __future__ import annotations

import dataclasses
import re

from playwright.async_api import Page, expect

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.helpers.servers import ALICE, seeded_server
from tests.web.conftest import PageFactory, bob_joined, dialogs, logged_in
from tests.web.test_chat import HOSTILE, message_numbered

# Later than a history page (50): opening the result must fetch around it.
FILLERS = 60
PAGE = 20  # results the page asks for at a time
HIGHLIGHTED = re.compile(r"\bhighlighted\b")


async def search_for(page: Page, words: str) -> None:
    """Type ``words`` in the open search box and press Enter."""
    await page.get_by_label("Search for").fill(words)
    await page.get_by_label("Search for").press("Enter")


async def test_a_search_finds_marks_and_opens_the_message_and_markup_stays_text(
    server: ChatServer, open_page: PageFactory
) -> None:
    async with bob_joined(server) as bob:
        await bob.send(command="send", room=1, message="Résumé: LUNCH moved to Monday")
        target = await bob.expect(lambda f: str(f.get("message", "")).startswith("Résumé"))
        await bob.send(command="send", room=1, message=f"resumed lunch {HOSTILE}")
        hostile = await bob.expect(lambda f: str(f.get("message", "")).startswith("resumed"))
        await bob.send(command="send", room=1, message="presume no lunch here")  # not a prefix
        for number in range(FILLERS):
            await bob.send(command="send", room=1, message=f"filler {number}")
        await bob.expect(lambda f: f.get("message") == f"filler {FILLERS - 1}")

        page = await logged_in(open_page, server, ALICE)
        await page.keyboard.press("Control+k")
        box = page.get_by_label("Search for")
        await expect(box).to_be_focused()
        await box.fill("RÉSU lun")
        await box.press("Enter")

        results = page.locator(".search-result")
        await expect(results).to_have_count(2)
        await expect(page.locator("#search-status")).to_have_text("2 messages.")
        newest, oldest = results.nth(0), results.nth(1)
        await expect(oldest.locator("mark")).to_have_text(["Résumé", "LUNCH"])
        await expect(oldest.locator(".result-room")).to_have_text("Lobby")
        await expect(oldest.locator(".sender")).to_have_text("bob")
        await expect(oldest.locator("time")).to_have_count(1)
        await expect(newest.locator(".result-text")).to_have_text(f"resumed lunch {HOSTILE}")
        await expect(newest.locator("mark")).to_have_text(["resumed", "lunch"])
        assert await page.locator("#xss, #search-results img, #search-results script").count() == 0
        assert dialogs(page) == []
        assert int(await newest.get_attribute("data-seq") or 0) == hostile["seq"]

        await oldest.click()
        shown = message_numbered(page, target["seq"])
        await expect(shown).to_have_class(HIGHLIGHTED)
        await expect(shown).to_be_in_viewport()
        await expect(shown).to_be_focused()
        await expect(page.locator("#room-title")).to_have_text("Lobby")
        # History around it, then the rest caught up: the newest filler comes too.
        await expect(page.locator(".message .text", has_text=f"filler {FILLERS - 1}")
                     ).to_have_count(1)


async def test_slash_opens_search_of_this_room_and_a_refusal_is_told_in_words(
    server: ChatServer, open_page: PageFactory
) -> None:
    async with bob_joined(server) as bob:
        await bob.send(command="send", room=1, message="kiwi in the lobby")
        seen = await bob.expect(lambda f: f.get("message") == "kiwi in the lobby")
        page = await logged_in(open_page, server, ALICE)
        await page.get_by_role("button", name="Lobby", exact=True).click()
        await page.locator("#messages").click()
        await page.keyboard.press("/")
        await expect(page.get_by_label("Search for")).to_be_focused()
        await page.get_by_label("Where").select_option("room")
        await search_for(page, "KIWI")
        await expect(page.locator(".search-result")).to_have_count(1)
        assert await page.locator(".search-result").get_attribute("data-seq") == str(seen["seq"])
        await expect(page.locator(".search-result mark")).to_have_text("kiwi")
        # Enter on a result in the room already open: the message is marked there.
        await page.locator(".search-result").focus()
        await page.keyboard.press("Enter")
        await expect(message_numbered(page, seen["seq"])).to_have_class(HIGHLIGHTED)
        await expect(page.locator("#search-panel")).to_be_hidden()

        await page.get_by_role("button", name="Open search").click()
        await expect(page.locator(".search-result")).to_have_count(1)  # still there
        await search_for(page, "…")  # no word at all
        await expect(page.locator("#search-status")).to_have_text(
            "Type one to eight words to search for (200 characters at most).")
        await page.keyboard.press("Escape")
        await expect(page.locator("#search-panel")).to_be_hidden()


async def test_more_results_load_the_next_page(server: ChatServer, open_page: PageFactory) -> None:
    async with bob_joined(server) as bob:
        for number in range(PAGE + 5):
            await bob.send(command="send", room=1, message=f"apple {number}")
        await bob.expect(lambda f: f.get("message") == f"apple {PAGE + 4}")
        page = await logged_in(open_page, server, ALICE)
        await page.get_by_role("button", name="Open search").click()
        await search_for(page, "APP")
        results = page.locator(".search-result .result-text")
        await expect(results).to_have_count(PAGE)
        await expect(results.first).to_have_text(f"apple {PAGE + 4}")  # newest first
        await expect(page.locator("#search-status")).to_have_text(f"{PAGE} messages so far.")
        await page.get_by_role("button", name="More results").click()
        await expect(results).to_have_count(PAGE + 5)
        await expect(results.last).to_have_text("apple 0")
        await expect(page.get_by_role("button", name="More results")).to_be_hidden()
        await expect(page.locator("#search-status")).to_have_text(f"{PAGE + 5} messages.")


async def test_a_result_out_of_view_in_the_open_room_loads_the_room_around_it(
    server: ChatServer, open_page: PageFactory
) -> None:
    async with bob_joined(server) as bob:
        await bob.send(command="send", room=1, message="the needle")
        needle = await bob.expect(lambda f: f.get("message") == "the needle")
        for number in range(FILLERS):
            await bob.send(command="send", room=1, message=f"hay {number}")
        await bob.expect(lambda f: f.get("message") == f"hay {FILLERS - 1}")
        page = await logged_in(open_page, server, ALICE, "Lobby")
        await expect(page.locator(".message .text", has_text=f"hay {FILLERS - 1}")
                     ).to_have_count(1)
        await expect(message_numbered(page, needle["seq"])).to_have_count(0)  # not loaded
        await page.keyboard.press("Control+k")
        await search_for(page, "needle")
        await page.locator(".search-result").click()
        await expect(message_numbered(page, needle["seq"])).to_have_class(HIGHLIGHTED)
        await expect(message_numbered(page, needle["seq"])).to_be_in_viewport()
        await expect(page.get_by_label("Message")).to_be_enabled()  # joined again
        await bob.send(command="send", room=1, message="still live")
        await expect(page.locator(".message .text", has_text="still live")).to_have_count(1)


async def test_too_many_searches_are_told_in_words(
    server_config: ServerConfig, passwords: Passwords, open_page: PageFactory
) -> None:
    # A small bucket that does not refill while the test runs.
    config = dataclasses.replace(server_config, command_burst=12, command_rate=0.001)
    async with seeded_server(config, passwords) as server:
        page = await logged_in(open_page, server, ALICE)
        await page.get_by_role("button", name="Open search").click()
        status = page.locator("#search-status")
        box = page.get_by_label("Search for")
        for _ in range(config.command_burst + 1):
            await box.fill("anything")
            await box.press("Enter")
            await expect(status).not_to_have_text("Searching…")
            if await status.text_content() != "No messages found.":
                break
        await expect(status).to_have_text(
            "Too many searches at once: wait a moment and try again.")
