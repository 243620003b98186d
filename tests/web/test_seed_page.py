"""The seed's own page, its script unchanged, chatting with Multichat in a real browser.

The browser logs in at the chat server's page (that sets the session cookie),
then opens the seed's page, served by a web server of its own on another port
of the same host that relays ``/chat/stream/`` (``seed_site.py``). That origin
is in ``--allowed-origins``; the cookie goes along (same site), so the seed's
socket is logged in from its first frame, with no login shim.
"""

from __future__ import annotations

import hashlib
import json

from playwright.async_api import BrowserContext, ConsoleMessage, Page, expect

from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, BOB
from tests.web.conftest import PageFactory, log_in
from tests.web.seed_site import SEED, SeedSite

# The git blob hash of each file at andrewgodwin/channels-examples@5fa86df (seed/README.md).
UPSTREAM_BLOBS = {
    "templates/base.html": "9ab5edf84297f8fd31c7308181018b558f6d4b68",
    "templates/index.html": "852542cfaaca0e446860bdf3493703acf207a63a",
    "static/css/style.css": "cd65de60dbaed4e20b0f2c26e1b4aa11b3c7fcf5",
    "static/js/jquery-1.12.2.min.js": "5cb0acfa07a381697b772ea4f994abfe7a5a6c7b",
    "static/js/reconnecting-websocket.min.js": "3015099ac17bb3ec057e545e21a4db524265d74f",
}

# What the seed's script logs for each frame it gets.
FRAME_LINE = "Got websocket message "
# Opens a WebSocket and tells what came first: its first frame, or its close.
FIRST_FROM_SOCKET = """url => new Promise(done => {
    const socket = new WebSocket(url);
    let opened = false;
    socket.onopen = () => { opened = true; };
    socket.onmessage = event => { done({opened, first: event.data}); socket.close(); };
    socket.onclose = event => done({opened, closed: event.code});
})"""


def test_the_fixture_is_the_seeds_page_byte_for_byte() -> None:
    for name, blob in UPSTREAM_BLOBS.items():
        data = (SEED / name).read_bytes()
        assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == blob, name


async def logged_in_context(server: ChatServer, open_page: PageFactory) -> BrowserContext:
    """A browser that logged in as alice at the chat server's own page."""
    ours = await open_page(server)
    await log_in(ours, *ALICE)
    return ours.context


async def open_seed_page(context: BrowserContext, site: SeedSite) -> tuple[Page, list[str]]:
    """The seed's page, once its socket is open and its first frame in; and what it logs
    to the console, its script errors and its alerts (the seed alerts each error frame)
    among it."""
    page = await context.new_page()
    lines: list[str] = []
    page.on("console", lambda message: lines.append(message.text))
    page.on("pageerror", lambda error: lines.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: lines.append(f"dialog: {dialog.message}"))

    def first_frame(message: ConsoleMessage) -> bool:
        return message.text.startswith(FRAME_LINE)

    async with page.expect_console_message(first_frame):
        await page.goto(f"{site.origin}/")
    return page, lines


async def test_the_seeds_page_unchanged_joins_sends_receives_sees_enter_leave_and_leaves(
    seed_site: SeedSite, seed_server: ChatServer, open_page: PageFactory
) -> None:
    context = await logged_in_context(seed_server, open_page)
    page, console = await open_seed_page(context, seed_site)
    # Logged in by the cookie from the first frame: the seed does not know the
    # login reply, and that costs it one console line.
    assert "Connected to chat socket" in console
    first = next(line for line in console if line.startswith(FRAME_LINE))
    login = json.loads(first.removeprefix(FRAME_LINE))
    assert login["login"]["username"] == "alice" and "token" not in login["login"]

    bob = await ProtocolClient.open(f"ws://127.0.0.1:{seed_server.port}/")
    try:
        await bob.login(*BOB)
        await page.locator('li.room-link[data-room-id="1"]').click()
        room = page.locator("#room-1")
        await expect(room.locator("h2")).to_have_text("Lobby")
        await expect(page.locator("li.room-link.joined")).to_have_count(1)

        await bob.join(1)
        await expect(room.locator(".messages")).to_contain_text("bob joined the room!")

        await room.locator("input").fill("hello from the seed's page")
        await room.get_by_role("button", name="Send").click()
        sent = await bob.expect(lambda f: f.get("message") == "hello from the seed's page")
        assert sent["username"] == "alice" and sent["room"] == "1"

        await bob.send(command="send", room=1, message="hello, seed")
        said = room.locator(".message", has_text="hello, seed")
        await expect(said.locator(".username")).to_have_text("bob")
        await expect(said.locator(".body")).to_have_text("hello, seed")

        await bob.send(command="leave", room=1)
        await expect(room.locator(".messages")).to_contain_text("bob left the room!")
        await bob.join(1)
        await expect(room.locator(".contextual-message", has_text="bob joined the room!")
                     ).to_have_count(2)

        await page.locator('li.room-link[data-room-id="1"]').click()  # leave
        left = await bob.expect(lambda f: f.get("msg_type") == 5)
        assert left["username"] == "alice"
        await expect(room).to_have_count(0)
        await expect(page.locator("li.room-link.joined")).to_have_count(0)
    finally:
        await bob.close()
    # What it does not know (the login reply, members, ...) is a console line, no more.
    assert "Unsupported message type!" in console
    assert not [line for line in console if line.startswith(("page error", "dialog"))]


async def test_a_same_site_page_not_allowed_cannot_ride_the_cookie(
    seed_site: SeedSite, seed_server: ChatServer, open_page: PageFactory
) -> None:
    """Cross-site WebSocket hijacking, from the same host even: refused on its Origin.

    A page on another port of the chat server's host is the same site, so the
    browser sends the session cookie with its handshake; only ``Origin`` tells
    it from the allowed one. The allowed page, the control, gets the login.
    """
    context = await logged_in_context(seed_server, open_page)
    target = f"ws://127.0.0.1:{seed_server.port}/chat/stream/"
    async with SeedSite() as attacker:
        for site, allowed in ((seed_site, True), (attacker, False)):
            page = await context.new_page()
            await page.goto(f"{site.origin}/nothing-here")
            outcome = await page.evaluate(FIRST_FROM_SOCKET, target)
            if allowed:
                assert json.loads(outcome["first"])["login"]["username"] == "alice"
            else:
                assert outcome == {"opened": False, "closed": 1006}
