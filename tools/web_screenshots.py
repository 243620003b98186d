"""Screenshots of the browser client in real Chromium: docs/screenshots/web-*.png.

Desktop and phone width, light and dark, of a seeded server on a free port.
Run from the repository: ``.venv/bin/python -m tools.web_screenshots``.
"""

from __future__ import annotations

import asyncio
import tempfile
from functools import partial
from pathlib import Path

from playwright.async_api import Page, async_playwright, expect

from multichat.server.chat.passwords import Passwords
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, BOB, loopback_config, seeded_server

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1100, "height": 680}, "phone": {"width": 360, "height": 720}}


def said(text: str, frame: dict[str, object]) -> bool:
    return frame.get("message") == text


async def conversation(port: int) -> None:
    bob = await ProtocolClient.open(f"ws://127.0.0.1:{port}/")
    await bob.login(*BOB)
    await bob.join(1)
    for text in ("Morning! Is the printer on the 3rd floor fixed?",
                 "Yes, since yesterday. @alice can you check the toner?"):
        await bob.send(command="send", room=1, message=text)
        await bob.expect(partial(said, text))
    await bob.close()


async def shoot(page: Page, port: int, name: str, phone: bool) -> None:
    await page.goto(f"http://127.0.0.1:{port}/")
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()
    if phone:
        await page.get_by_role("button", name="Conversations").click()
    await page.get_by_role("button", name="Lobby", exact=True).click()
    await expect(page.locator(".message")).not_to_have_count(0)
    await page.screenshot(path=str(OUT / f"web-{name}.png"))


async def main() -> None:
    passwords = Passwords()
    with tempfile.TemporaryDirectory() as data:
        async with seeded_server(loopback_config(Path(data)), passwords) as server:
            await conversation(server.port)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=["--no-sandbox", "--disable-background-networking"])
                for scheme in ("light", "dark"):
                    for size, viewport in SIZES.items():
                        context = await browser.new_context(
                            viewport={"width": viewport["width"], "height": viewport["height"]},
                            color_scheme="dark" if scheme == "dark" else "light")
                        page = await context.new_page()
                        await page.goto(f"http://127.0.0.1:{server.port}/")
                        await page.get_by_label("Username").fill(ALICE[0])
                        await page.get_by_label("Password").fill(ALICE[1])
                        if size == "desktop" and scheme == "light":
                            await page.screenshot(path=str(OUT / "web-login.png"))
                        await page.get_by_role("button", name="Log in").click()
                        await expect(page.get_by_role("button", name="Log out")).to_be_visible()
                        if size == "desktop" and scheme == "light":
                            await page.get_by_role("button", name="Lobby", exact=True).click()
                            box = page.get_by_label("Message")
                            await box.fill("On it ✅")
                            await box.press("Enter")
                            await page.locator(".message", has_text="printer").get_by_role(
                                "button", name="React 👍").click()
                            await expect(page.locator(".chip")).to_have_count(1)
                        await shoot(page, server.port, f"{size}-{scheme}", size == "phone")
                        await context.close()
                await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
