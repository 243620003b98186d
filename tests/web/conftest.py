"""A real Chromium (Debian's, driven by Playwright) against a real server on port 0.

Skipped with a reason where chromium or playwright is missing, except under CI
(``CI=true``), where that is a failure: ``.ci/run`` installs both.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import BOB, seeded_server
from tests.helpers.timing import TIMEOUT
from tests.web.seed_site import SeedSite

try:
    from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
    HAVE_PLAYWRIGHT = True
except ImportError:  # pragma: no cover - the test extra installs it
    HAVE_PLAYWRIGHT = False

CHROMIUM = os.environ.get("MULTICHAT_CHROMIUM", "/usr/bin/chromium")

PageFactory = Callable[..., Awaitable[Page]]
_dialogs: dict[int, list[str]] = {}


def dialogs(page: Page) -> list[str]:
    """The messages of the dialogs (alert, confirm) the page opened."""
    return _dialogs[id(page)]


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is not installed; .ci/run installs it", pytrace=False)
    pytest.skip(f"{what} is not installed")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_PLAYWRIGHT:
        _missing("playwright (pip install playwright)")
    if not shutil.which(CHROMIUM):
        _missing("chromium (apt-get install chromium)")
    expect.set_options(timeout=TIMEOUT * 1000)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            # As root there is no sandbox; the closed network refuses Chromium's own calls.
            args=["--no-sandbox", "--disable-background-networking"],
        )
        yield launched
        await launched.close()


@pytest.fixture
async def open_page(browser: Browser) -> AsyncIterator[PageFactory]:
    """Open the page in a fresh browser context (its own cookies) with what it logs kept."""
    contexts: list[BrowserContext] = []

    async def opener(server: ChatServer | str, context: BrowserContext | None = None,
                     **options: Any) -> Page:
        if context is None:
            context = await browser.new_context(**options)
            contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT * 1000)
        seen: list[str] = []
        _dialogs[id(page)] = seen
        page.on("dialog", lambda dialog: seen.append(dialog.message))
        url = server if isinstance(server, str) else f"http://127.0.0.1:{server.port}/"
        await page.goto(url)
        return page

    yield opener
    for context in contexts:
        await context.close()


async def log_in(page: Page, username: str, password: str) -> None:
    """Log in with the form, by its labels and its button's name, as a person would."""
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()


async def open_room(page: Page, title: str) -> None:
    """Open a room and wait until it is joined (what others do from then on reaches it)."""
    await page.get_by_role("button", name=title, exact=True).click()
    await expect(page.get_by_label("Message")).to_be_enabled()
    await expect(page.locator("#messages")).to_have_attribute("aria-busy", "false")


async def logged_in(open_page: PageFactory, server: ChatServer, credentials: tuple[str, str],
                    room: str | None = None) -> Page:
    """A page of its own, logged in as ``credentials``, with ``room`` open (when named)."""
    page = await open_page(server)
    await log_in(page, *credentials)
    if room is not None:
        await open_room(page, room)
    return page


async def bob_in_lobby(server: ChatServer) -> ProtocolClient:
    """Bob on a protocol client (no page), logged in and in the Lobby (room 1)."""
    bob = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}/")
    await bob.login(*BOB)
    await bob.join(1)
    return bob


@asynccontextmanager
async def bob_joined(server: ChatServer) -> AsyncIterator[ProtocolClient]:
    """``bob_in_lobby`` for an ``async with``: closed however the test ends."""
    bob = await bob_in_lobby(server)
    try:
        yield bob
    finally:
        await bob.close()


@pytest.fixture
async def seed_site() -> AsyncIterator[SeedSite]:
    """The seed's page on a web server of its own, relaying /chat/stream/ (seed_site.py)."""
    async with SeedSite() as site:
        yield site


@pytest.fixture
async def seed_server(seed_site: SeedSite, server_config: ServerConfig,
                      passwords: Passwords) -> AsyncIterator[ChatServer]:
    """A chat server that allows the seed site's origin, which relays to it."""
    config = dataclasses.replace(server_config, allowed_origins=seed_site.origin)
    async with seeded_server(config, passwords) as server:
        store = server.store
        assert store is not None
        seed_site.upstream_port = server.port
        seed_site.rooms = lambda: [(room.id, room.title) for room in store.rooms(direct=False)]
        yield server
