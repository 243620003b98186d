"""Desktop notifications through the browser's Notification API, once allowed.

Headless Chromium shows a notification without a screen to draw it on, and
fires its ``show`` event; Playwright has no way to list them. So the test
watches them with a hook of its own, injected before the page's scripts: it
wraps ``window.Notification`` to record each one made (title, body) and
whether Chromium showed it, and keeps it so the test can click it. The page's
code is unchanged by this.
"""

from __future__ import annotations

import dataclasses
import socket
from functools import partial
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, BOB, seeded_server
from tests.web.conftest import PageFactory, log_in, open_room

RECORD_NOTIFICATIONS = """(() => {
    const Real = window.Notification;
    window.shownNotes = [];
    class Recorded extends Real {
        constructor(title, options) {
            super(title, options);
            const note = {title, body: options?.body ?? "", shown: false, object: this};
            window.shownNotes.push(note);
            this.addEventListener("show", () => { note.shown = true; });
        }
        static get permission() { return Real.permission; }
        static requestPermission() { return Real.requestPermission(); }
    }
    window.Notification = Recorded;
})()"""

LOOKING_AWAY = """(() => {
    let away = false;
    Object.defineProperty(document, "visibilityState", {get: () => away ? "hidden" : "visible"});
    Object.defineProperty(document, "hidden", {get: () => away});
    document.hasFocus = () => !away;
    window.lookAway = (value) => {
        away = value;
        document.dispatchEvent(new Event("visibilitychange"));
    };
})()"""

NOTES = "() => window.shownNotes.map(({title, body, shown}) => ({title, body, shown}))"


def said(text: str, frame: dict[str, Any]) -> bool:
    return frame.get("message") == text


async def notes(page: Page) -> list[dict[str, Any]]:
    return list(await page.evaluate(NOTES))


async def test_once_allowed_messages_elsewhere_that_concern_the_person_make_notifications(
    server: ChatServer, browser: Browser, open_page: PageFactory
) -> None:
    assert server.store is not None and server.chat is not None
    garden = server.store.create_room("Garden").id
    await server.chat.reconcile()
    context = await browser.new_context()
    try:
        await context.add_init_script(script=RECORD_NOTIFICATIONS)
        page = await open_page(server, context=context)
        await log_in(page, *ALICE)
        await open_room(page, "Lobby")
        button = page.get_by_role("button", name="Turn on notifications")
        await expect(button).to_be_visible()
        assert await page.evaluate("Notification.permission") == "default"
        # The person allows them when the browser asks (Playwright answers for them).
        await context.grant_permissions(["notifications"],
                                        origin=f"http://127.0.0.1:{server.port}")
        await button.click()
        await expect(button).to_be_hidden()

        bob = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}/")
        try:
            await bob.login(*BOB)
            await bob.join(1)
            await bob.join(garden)
            # Not told: the room in view, and another room's message that names nobody.
            for room, text in ((1, "in the open room"), (garden, "nothing for alice")):
                await bob.send(command="send", room=room, message=text)
            await bob.send(command="send", room=garden, message="@alice, the roses?")
            dm = await bob.request(command="dm.open", users=["alice"], ref="d")
            while "dm" not in dm:
                dm = await bob.recv()
            direct = int(dm["dm"]["id"])
            await bob.join(direct)
            await bob.send(command="send", room=direct, message="psst")
        finally:
            await bob.close()
        await expect(page.locator(f'#direct-list li[data-room-id="{direct}"] .badge.unread')
                     ).to_have_text("1")
        await expect(page.locator(".message", has_text="in the open room")).to_be_visible()
        await page.wait_for_function("window.shownNotes.length >= 2")
        await page.wait_for_function("window.shownNotes.every(note => note.shown)")
        assert await notes(page) == [
            {"title": "bob in Garden", "body": "mentioned you", "shown": True},
            {"title": "bob", "body": "sent you a message", "shown": True},
        ]
        # Clicking one opens its conversation.
        await page.evaluate("window.shownNotes[1].object.dispatchEvent(new Event('click'))")
        await expect(page.locator("#room-title")).to_have_text("bob")
        await expect(page.locator(".message", has_text="psst")).to_be_visible()
    finally:
        await context.close()


async def test_nothing_is_shown_until_the_person_allows_it(
    server: ChatServer, browser: Browser, open_page: PageFactory
) -> None:
    context = await browser.new_context()
    try:
        await context.add_init_script(script=RECORD_NOTIFICATIONS)
        page = await open_page(server, context=context)
        await log_in(page, *ALICE)
        bob = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}/")
        try:
            await bob.login(*BOB)
            await bob.join(1)
            await bob.send(command="send", room=1, message="@alice hello")
        finally:
            await bob.close()
        await expect(page.locator('#room-list li[data-room-id="1"] .badge.mention')
                     ).to_have_text("@1")
        assert await notes(page) == []
    finally:
        await context.close()


async def test_while_the_person_looks_away_the_open_room_counts_and_tells(
    server: ChatServer, browser: Browser, open_page: PageFactory
) -> None:
    context = await browser.new_context(permissions=["notifications"])
    try:
        await context.add_init_script(script=RECORD_NOTIFICATIONS)
        await context.add_init_script(script=LOOKING_AWAY)
        page = await open_page(server, context=context)
        await log_in(page, *ALICE)
        await open_room(page, "Lobby")
        phone = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}/")
        bob = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}/")
        try:
            await phone.login(*ALICE)
            await bob.login(*BOB)
            await bob.join(1)
            await page.evaluate("window.lookAway(true)")
            for text in ("while you were away", "@alice this one is for you"):
                await bob.send(command="send", room=1, message=text)
                last = (await bob.expect(partial(said, text)))["seq"]
            row = page.locator('#room-list li[data-room-id="1"]')
            await expect(row.locator(".badge.unread")).to_have_text("2")
            await expect(row.locator(".badge.mention")).to_have_text("@1")
            await expect(page).to_have_title("(@1 · 2) Multichat")
            await page.wait_for_function("window.shownNotes.length >= 2")
            assert await notes(page) == [
                {"title": "bob in Lobby", "body": "while you were away", "shown": True},
                {"title": "bob in Lobby", "body": "@alice this one is for you", "shown": True},
            ]
            # Not read while away: the server still counts them.
            await phone.send(command="rooms", ref="r")
            listed = await phone.expect(lambda f: f.get("ref") == "r")
            assert [r["unread"] for r in listed["rooms"] if r["id"] == "1"] == [2]
            # Back: read, and the other device hears of it.
            await page.evaluate("window.lookAway(false)")
            await expect(row.locator(".badge")).to_have_count(0)
            told = await phone.expect(lambda f: f.get("read") == "1")
            assert told["seq"] == last and told["unread"] == 0
        finally:
            await bob.close()
            await phone.close()
    finally:
        await context.close()


def lan_address() -> str | None:
    """An address of this machine that is not loopback (a page there is not secure)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        address = str(probe.getsockname()[0])
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


async def test_on_a_plain_http_lan_address_the_button_says_why_there_are_none(
    server_config: ServerConfig, passwords: Passwords, open_page: PageFactory
) -> None:
    address = lan_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    config = dataclasses.replace(server_config, host=address)
    async with seeded_server(config, passwords) as lan_server:
        page = await open_page(f"http://{address}:{lan_server.port}/")
        await log_in(page, *ALICE)
        assert await page.evaluate("window.isSecureContext") is False
        button = page.get_by_role("button", name="Turn on notifications")
        await button.click()
        await expect(page.locator("#connection-status")).to_have_text(
            "Desktop notifications need the page's https:// address (a server with --tls).")
        await expect(button).to_be_hidden()
