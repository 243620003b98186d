"""Screenshots of the browser client in real Chromium: docs/screenshots/web-*.png.

Desktop and phone width, light and dark, of a seeded server on a free port:
a Lobby conversation (a reply, an edit, a reaction, a mention, a message
grouped under the one before it, the "New messages" line), unread and
mention badges on Garden and a direct conversation, and one message's
buttons shown under the pointer; then, at desktop width in light, a search
("lunch", everywhere) and Garden's files (a photo's thumbnail, a document's
card).
Run from the repository: ``.venv/bin/python -m tools.web_screenshots``.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from functools import partial
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.async_api import Browser, Page, async_playwright, expect

from multichat.server.chat.passwords import Passwords
from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, BOB, STAFF, loopback_config, seeded_server

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1100, "height": 680}, "phone": {"width": 360, "height": 720}}


def said(text: str, frame: dict[str, object]) -> bool:
    return frame.get("message") == text


async def client(port: int, credentials: tuple[str, str]) -> ProtocolClient:
    opened = await ProtocolClient.open(f"ws://127.0.0.1:{port}/")
    await opened.login(*credentials)
    return opened


async def say(who: ProtocolClient, room: int, text: str, **extra: object) -> int:
    await who.send(command="send", room=room, message=text, **extra)
    return int((await who.expect(partial(said, text)))["seq"])


def photo() -> bytes:
    """A small picture of tomatoes on a vine, drawn here (no file to ship)."""
    picture = Image.new("RGB", (640, 420), (118, 170, 92))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 300, 640, 420), fill=(96, 72, 48))
    draw.line((60, 40, 600, 90), fill=(60, 110, 50), width=10)
    for x, y, r in ((150, 150, 60), (300, 200, 75), (460, 160, 58), (380, 300, 50)):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(214, 48, 39), outline=(150, 30, 25),
                     width=4)
        draw.ellipse((x - r // 3, y - r // 2, x - r // 8, y - r // 4), fill=(245, 140, 130))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


async def upload(who: ProtocolClient, name: str, data: bytes, mime_type: str) -> str:
    """Send a file up as the protocol says; its id."""
    accepted = await who.request(command="upload", name=name, size=len(data), type=mime_type,
                                 ref=name)
    chunk = int(accepted["upload"]["chunk"])
    for start in range(0, len(data), chunk):
        await who.connection.send(data[start:start + chunk])
    done = await who.expect(lambda f: "file" in f and f.get("ref") == name)
    return str(done["file"]["id"])


async def conversation(server: ChatServer) -> None:
    """What the people say before alice opens the page."""
    assert server.store is not None and server.chat is not None
    garden = server.store.create_room("Garden").id
    await server.chat.reconcile()
    bob, sam, alice = [await client(server.port, who) for who in (BOB, STAFF, ALICE)]
    for person in (bob, sam, alice):
        await person.join(1)
    printer = await say(bob, 1, "Morning! Is the printer on the 3rd floor fixed?")
    await say(bob, 1, "It jammed twice yesterday.")
    await say(alice, 1, "I called the technician, they came at 5.")
    fixed = await say(sam, 1, "Yes, since yesterday evening.")
    await alice.send(command="read", room=1, seq=fixed)  # alice read this far, then left
    await alice.close()
    toner = await say(sam, 1, "@alice can you check the toner while you're there?")
    thanks = await say(sam, 1, "Thanks all!")
    await sam.send(command="edit", room=1, seq=thanks, message="Thanks all! 🙏")
    await sam.expect(lambda f: f.get("msg_type") == 6)
    await bob.send(command="react", room=1, seq=printer, emoji="👍", on=True)
    await bob.expect(lambda f: f.get("msg_type") == 8)
    await bob.send(command="react", room=1, seq=toner, emoji="😂", on=True)
    await bob.expect(lambda f: f.get("msg_type") == 8)
    await bob.join(garden)
    await say(bob, garden, "The tomatoes are in!")
    await say(bob, garden, "@alice want some basil?")
    await say(bob, garden, "Pesto for lunch on Friday, with the first basil")
    tomatoes = await upload(bob, "tomatoes.png", photo(), "image/png")
    await say(bob, garden, "First harvest", files=[tomatoes])
    plan = await upload(bob, "Planting plan 2027.pdf", b"%PDF-1.4\n" + bytes(48_000),
                        "application/pdf")
    await say(bob, garden, "", files=[plan])
    dm = await bob.request(command="dm.open", users=["alice"], ref="d")
    while "dm" not in dm:
        dm = await bob.recv()
    direct = int(dm["dm"]["id"])
    await bob.join(direct)
    await say(bob, direct, "Lunch at 12:30?")
    await bob.close()
    await sam.close()


async def shoot(browser: Browser, port: int, size: str, scheme: str, first: bool) -> None:
    viewport = SIZES[size]
    context = await browser.new_context(viewport={"width": viewport["width"],
                                                  "height": viewport["height"]},
                                        color_scheme="dark" if scheme == "dark" else "light")
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{port}/")
    await page.get_by_label("Username").fill(ALICE[0])
    await page.get_by_label("Password").fill(ALICE[1])
    if first:
        await page.screenshot(path=str(OUT / "web-login.png"))
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()
    if size == "phone":
        await page.get_by_role("button", name="Conversations").click()
        await expect(page.get_by_role("button", name="Garden", exact=True)).to_be_visible()
        await page.screenshot(path=str(OUT / f"web-{size}-{scheme}-rooms.png"))
    await page.get_by_role("button", name="Lobby", exact=True).click()
    await expect(page.locator(".message", has_text="Thanks all")).to_be_visible()
    if first:
        await reply(page)
    await page.locator(".message", has_text="jammed").hover()
    await page.screenshot(path=str(OUT / f"web-{size}-{scheme}.png"))
    await context.close()


async def search_and_files(browser: Browser, port: int) -> None:
    """Alice searches everywhere for "lunch", then looks at Garden's files (last: Garden
    is read from then on)."""
    desktop = SIZES["desktop"]
    context = await browser.new_context(
        viewport={"width": desktop["width"], "height": desktop["height"]}, color_scheme="light")
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{port}/")
    await page.get_by_label("Username").fill(ALICE[0])
    await page.get_by_label("Password").fill(ALICE[1])
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("button", name="Lobby", exact=True).click()
    await expect(page.locator(".message", has_text="Thanks all")).to_be_visible()
    await page.keyboard.press("Control+k")
    await page.get_by_label("Search for").fill("lunch")
    await page.get_by_label("Search for").press("Enter")
    await expect(page.locator(".search-result")).not_to_have_count(0)
    await page.screenshot(path=str(OUT / "web-desktop-search.png"))
    await page.keyboard.press("Escape")
    await page.get_by_role("button", name="Garden", exact=True).click()
    thumbnail = page.locator(".file-image img")
    await expect(thumbnail).to_be_visible()
    await page.wait_for_function("() => document.querySelector('.file-image img').complete")
    await page.locator(".file-card").scroll_into_view_if_needed()
    await page.screenshot(path=str(OUT / "web-desktop-files.png"))
    await context.close()


async def reply(page: Page) -> None:
    """Alice answers sam's question with a reply."""
    asked = page.locator(".message", has_text="toner")
    await asked.hover()
    await asked.get_by_role("button", name="Reply").click()
    await page.get_by_label("Message").fill("On it ✅")
    await page.get_by_label("Message").press("Enter")
    await expect(page.locator(".message:not(.pending)", has_text="On it")).to_be_visible()


async def main() -> None:
    passwords = Passwords()
    with tempfile.TemporaryDirectory() as data:
        async with seeded_server(loopback_config(Path(data)), passwords) as server:
            await conversation(server)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=["--no-sandbox", "--disable-background-networking"])
                first = True
                for scheme in ("light", "dark"):
                    for size in SIZES:
                        await shoot(browser, server.port, size, scheme, first)
                        first = False
                await search_and_files(browser, server.port)
                await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
