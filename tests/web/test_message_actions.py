"""A message's buttons: out of the way until pointed at or focused; all reachable by keyboard."""

from __future__ import annotations

from functools import partial

from playwright.async_api import Locator, Page, expect

from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, BOB
from tests.web.conftest import PageFactory, log_in, open_room

FOCUSED_KEY = "() => document.activeElement.dataset.key ?? document.activeElement.dataset.seq"


async def opacity(bar: Locator) -> str:
    return str(await bar.evaluate("node => getComputedStyle(node).opacity"))


async def focused(page: Page) -> str:
    return str(await page.evaluate(FOCUSED_KEY))


def said(text: str, frame: dict[str, object]) -> bool:
    return frame.get("message") == text


async def two_messages_from_bob(server: ChatServer, open_page: PageFactory
                                ) -> tuple[Page, ProtocolClient, list[int]]:
    """Alice's page in Lobby with bob's "first" and "second" shown; bob; their seqs."""
    page = await open_page(server)
    await log_in(page, *ALICE)
    await open_room(page, "Lobby")
    bob = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}/")
    await bob.login(*BOB)
    await bob.join(1)
    seqs: list[int] = []
    for text in ("first", "second"):
        await bob.send(command="send", room=1, message=text)
        seqs.append(int((await bob.expect(partial(said, text)))["seq"]))
    await expect(page.locator(f".message[data-seq='{seqs[1]}']")).to_be_visible()
    return page, bob, seqs


async def test_buttons_show_only_over_or_in_their_message(
    server: ChatServer, open_page: PageFactory
) -> None:
    page, bob, seqs = await two_messages_from_bob(server, open_page)
    await bob.close()
    first, second = (page.locator(f".message[data-seq='{seq}'] .actions") for seq in seqs)
    box = page.get_by_label("Message")
    await box.click()
    assert await opacity(first) == "0" and await opacity(second) == "0"
    await page.locator(f".message[data-seq='{seqs[0]}']").hover()
    assert await opacity(first) == "1" and await opacity(second) == "0"
    await box.hover()
    assert await opacity(first) == "0"
    await page.locator(f".message[data-seq='{seqs[1]}']").focus()  # a tap on a phone too
    assert await opacity(second) == "1" and await opacity(first) == "0"


async def test_the_keyboard_reaches_every_message_and_button_through_one_tab_stop(
    server: ChatServer, open_page: PageFactory
) -> None:
    page, bob, seqs = await two_messages_from_bob(server, open_page)
    try:
        first, second = (page.locator(f".message[data-seq='{seq}']") for seq in seqs)
        box = page.get_by_label("Message")
        await box.click()
        # Shift+Tab from the text box: into the newest message, its buttons shown.
        await box.press("Shift+Tab")
        assert await focused(page) == "React 😂"
        assert await opacity(second.locator(".actions")) == "1"
        for _ in range(3):
            await page.keyboard.press("Shift+Tab")
        assert await focused(page) == "Reply"
        await page.keyboard.press("Shift+Tab")
        assert await focused(page) == str(seqs[1])  # the message itself: one tab stop
        # The arrows move between messages; Tab then goes into that one's buttons.
        await page.keyboard.press("ArrowUp")
        assert await focused(page) == str(seqs[0])
        assert await opacity(first.locator(".actions")) == "1"
        assert await opacity(second.locator(".actions")) == "0"
        await page.keyboard.press("Tab")
        await expect(first.get_by_role("button", name="Reply")).to_be_focused()

        # A reaction from the keyboard: the focus stays on its button when it comes back.
        await page.keyboard.press("Tab")
        assert await focused(page) == "React 👍"
        await page.keyboard.press("Enter")
        await expect(first.locator(".chip")).to_have_text("👍 1")
        await expect(first.get_by_role("button", name="React 👍")).to_be_focused()

        # Reply from the keyboard; Escape in the list goes back to the text box.
        await page.keyboard.press("Shift+Tab")
        await page.keyboard.press("Enter")
        await expect(page.locator("#context-text")).to_have_text("Replying to bob: first")
        await expect(box).to_be_focused()
        await page.keyboard.type("an answer")
        await page.keyboard.press("Enter")
        reply = await bob.expect(lambda f: f.get("message") == "an answer")
        assert reply["reply_to"] == seqs[0]
        await first.focus()
        await page.keyboard.press("Escape")
        await expect(box).to_be_focused()
    finally:
        await bob.close()


async def test_up_in_an_empty_box_edits_ones_last_message(
    server: ChatServer, open_page: PageFactory
) -> None:
    page, bob, _ = await two_messages_from_bob(server, open_page)
    try:
        box = page.get_by_label("Message")
        for text in ("first of mine", "with a tpyo"):
            await box.fill(text)
            await box.press("Enter")
            await bob.expect(partial(said, text))
        # Stored and shown as such (Up edits a stored message, never a pending one).
        await expect(page.locator(".message.pending")).to_have_count(0)
        await box.press("ArrowUp")
        await expect(page.locator("#context-text")).to_have_text("Editing your message")
        await expect(box).to_have_value("with a tpyo")
        await box.fill("with a typo, fixed")
        await box.press("Enter")
        edit = await bob.expect(lambda f: f.get("msg_type") == 6)
        assert edit["message"] == "with a typo, fixed"
        # Up in a box with text in it is the caret's business, not an edit.
        await box.fill("draft")
        await box.press("ArrowUp")
        await expect(page.locator("#context-bar")).to_be_hidden()
        await expect(box).to_have_value("draft")
    finally:
        await bob.close()
