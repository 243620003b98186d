"""The chat page in a real browser: rooms, live messages, changes, typing, unread, reconnects."""

from __future__ import annotations

import dataclasses

from playwright.async_api import Locator, Page, expect

from multichat.server.chat.passwords import Passwords
from multichat.server.net import ChatServer
from tests.helpers.servers import ALICE, BOB
from tests.web.conftest import PageFactory, bob_joined, dialogs, logged_in, open_room

HOSTILE = ('<b id=xss>x</b><img src=http://127.0.0.1:9/x onerror="alert(1)">'
           "<script>alert(2)</script>")


def message_numbered(page: Page, seq: int) -> Locator:
    return page.locator(f".message[data-seq='{seq}']")


async def test_two_people_chat_live_and_hostile_text_stays_text(
    server: ChatServer, open_page: PageFactory
) -> None:
    alice = await logged_in(open_page, server, ALICE)
    requests: list[str] = []
    alice.on("request", lambda request: requests.append(request.url))
    await open_room(alice, "Lobby")
    bob_page = await logged_in(open_page, server, BOB, "Lobby")

    await alice.get_by_label("Message").fill("hello\nbob")
    await alice.get_by_label("Message").press("Enter")
    message = bob_page.locator(".message", has_text="hello")
    await expect(message).to_contain_text("alice")
    await expect(message.locator(".text")).to_have_text("hello\nbob")  # Shift-less Enter sent it
    await expect(message.locator("time")).to_have_count(1)

    await bob_page.get_by_label("Message").fill(HOSTILE)
    await bob_page.get_by_label("Message").press("Enter")
    shown = alice.locator(".message .text", has_text="onerror")
    await expect(shown).to_have_text(HOSTILE)
    assert await alice.locator("#xss").count() == 0
    assert await alice.locator("#messages img, #messages script, #messages b").count() == 0
    assert dialogs(alice) == [] and dialogs(bob_page) == []
    assert not [url for url in requests if "127.0.0.1:9" in url]


async def test_shift_enter_breaks_the_line_and_replies_edits_deletions_reactions_round_trip(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await logged_in(open_page, server, ALICE, "Lobby")
    async with bob_joined(server) as bob:
        box = page.get_by_label("Message")
        await box.fill("first")
        await box.press("Shift+Enter")
        await box.type("line")
        assert await box.input_value() == "first\nline"
        await box.press("Enter")
        first = await bob.expect(lambda f: f.get("message") == "first\nline")
        mine = message_numbered(page, first["seq"])

        await bob.send(command="send", room=1, message="from bob")
        from_bob = await bob.expect(lambda f: f.get("message") == "from bob")
        theirs = message_numbered(page, from_bob["seq"])
        await theirs.get_by_role("button", name="Reply").click()
        await box.fill("a reply")
        await box.press("Enter")
        event = await bob.expect(lambda f: f.get("message") == "a reply")
        assert event["reply_to"] > 0
        await expect(page.locator(".message", has_text="a reply").locator(".reply-quote")
                     ).to_contain_text("bob: from bob")

        await mine.get_by_role("button", name="Edit").click()
        await box.fill("first, edited")
        await box.press("Enter")
        edit = await bob.expect(lambda f: f.get("msg_type") == 6)
        assert edit["message"] == "first, edited"
        await expect(mine.locator(".text")).to_have_text("first, edited")
        await expect(mine).to_contain_text("(edited)")
        # Only one's own messages offer Edit and Delete.
        await expect(theirs.get_by_role("button", name="Edit")).to_have_count(0)

        await theirs.get_by_role("button", name="React 👍").click()
        reaction = await bob.expect(lambda f: f.get("msg_type") == 8)
        assert reaction["emoji"] == "👍" and reaction["on"] is True
        chip = theirs.locator(".chip")
        await expect(chip).to_have_text("👍 1")
        await bob.send(command="react", room=1, seq=reaction["target"], emoji="👍", on=True)
        await expect(chip).to_have_text("👍 2")
        await chip.click()  # toggles this person's own off
        off = await bob.expect(lambda f: f.get("msg_type") == 8 and f.get("username") == "alice"
                               and f.get("on") is False)
        assert off["target"] == reaction["target"]
        await expect(chip).to_have_text("👍 1")

        await delete_after_asking(mine)
        await bob.expect(lambda f: f.get("msg_type") == 7)
        await expect(mine.locator(".text")).to_have_text("message deleted")


async def delete_after_asking(message: Locator) -> None:
    """Deleting asks first, in the message's own bar: Cancel, then Delete for real."""
    await message.get_by_role("button", name="Delete").click()
    await message.get_by_role("button", name="Cancel").click()
    await expect(message.get_by_role("button", name="Yes, delete")).to_have_count(0)
    await message.get_by_role("button", name="Delete").click()
    await message.get_by_role("button", name="Yes, delete").click()


async def test_typing_and_unread_counts_from_activity(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await logged_in(open_page, server, ALICE, "Lobby")
    async with bob_joined(server) as bob:
        await bob.send(command="typing", room=1)
        await expect(page.locator("#typing")).to_have_text("bob is typing…")
        await bob.send(command="send", room=1, message="done typing")
        await expect(page.locator("#typing")).to_have_text("")
        # A room not open: its unread count and mentions come from activity frames.
        assert server.chat is not None and server.store is not None
        garden = server.store.create_room("Garden")
        await server.chat.reconcile()
        await expect(page.get_by_role("button", name="Garden", exact=True)).to_be_visible()
        await bob.join(garden.id)
        await bob.send(command="send", room=garden.id, message="one")
        await bob.send(command="send", room=garden.id, message="two, @alice")
        row = page.locator(f'#room-list li[data-room-id="{garden.id}"]')
        await expect(row.locator(".badge.unread")).to_have_text("2")
        await expect(row.locator(".badge.mention")).to_have_text("@1")
        await open_room(page, "Garden")
        await expect(page.locator(".message", has_text="two, @alice")).to_be_visible()
        await expect(row.locator(".badge")).to_have_count(0)


async def test_after_a_restart_the_page_catches_up_once_and_sends_what_waited_once(
    server: ChatServer, open_page: PageFactory, passwords: Passwords
) -> None:
    page = await logged_in(open_page, server, ALICE, "Lobby")
    await page.get_by_label("Message").fill("before")
    await page.get_by_label("Message").press("Enter")
    await expect(page.locator(".message:not(.pending)", has_text="before")).to_have_count(1)

    port = server.port
    await server.stop()
    await expect(page.locator("#connection-status")).to_contain_text("Reconnecting")
    # Typed while the server is away: it waits, greyed.
    await page.get_by_label("Message").fill("typed offline")
    await page.get_by_label("Message").press("Enter")
    await expect(page.locator(".message.pending", has_text="typed offline")).to_be_visible()
    # Up in the empty box now would edit "before", not the message still being sent.
    await page.get_by_label("Message").press("ArrowUp")
    await expect(page.locator("#context-bar")).to_be_hidden()

    config = dataclasses.replace(server.config, port=port)
    async with ChatServer(config, passwords=passwords) as again, bob_joined(again) as bob:
        await bob.send(command="send", room=1, message="while you were away")
        await expect(page.locator(".message", has_text="while you were away")
                     ).to_have_count(1)
        await bob.expect(lambda f: f.get("message") == "typed offline")
        await expect(page.locator(".message:not(.pending)", has_text="typed offline")
                     ).to_have_count(1)
        await expect(page.locator(".message.pending")).to_have_count(0)
        history = await bob.request(command="history", room=1, ref="h")
        texts = [m["message"] for m in history["messages"]]
        assert texts.count("typed offline") == 1 and texts.count("before") == 1
        # In order, each once, on the page too.
        shown = await page.locator(".message .text").all_text_contents()
        assert shown in (["before", "while you were away", "typed offline"],
                         ["before", "typed offline", "while you were away"])
        seqs = [int(s) for s in await page.locator(".message").evaluate_all(
            "nodes => nodes.map(n => n.dataset.seq)")]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_a_room_title_that_is_markup_stays_text(
    server: ChatServer, open_page: PageFactory
) -> None:
    assert server.store is not None and server.chat is not None
    title = "<img src=x onerror=alert(1)>Garden"
    server.store.create_room(title)
    await server.chat.reconcile()
    page = await logged_in(open_page, server, ALICE, title)
    await expect(page.locator("#room-title")).to_have_text(title)
    assert await page.locator("#sidebar img, #top-bar img").count() == 0
    assert dialogs(page) == []
