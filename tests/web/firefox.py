"""Debian's Firefox ESR, headless, driven over WebDriver BiDi with a few commands.

Playwright's Firefox is a patched build it downloads, which the closed
network of CI cannot fetch; its BiDi mode (``channel="moz-firefox"``) drives a
stock Firefox, but needs commands Firefox ESR 153 lacks
(``emulation.setMediaFeaturesOverride`` on every new context). Firefox speaks
WebDriver BiDi itself (``--remote-debugging-port``), so this talks to it over
a WebSocket (the ``websockets`` library the server uses): navigate, evaluate,
real key presses and pointer clicks, cookies. Enough for a smoke test of the
page in a second engine, not a Playwright.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import IO, Any

from websockets.asyncio.client import ClientConnection, connect

from tests.helpers.timing import TIMEOUT

FIREFOX = os.environ.get("MULTICHAT_FIREFOX", "/usr/bin/firefox-esr")
KEYS = {"Enter": "\ue007", "Shift": "\ue008", "Tab": "\ue004", "Escape": "\ue00c"}
# Nothing of Firefox's own reaches for the network (CI has none to give).
PREFERENCES = {
    "app.update.disabledForTesting": True,
    "browser.shell.checkDefaultBrowser": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "services.settings.server": "http://127.0.0.1:9/",
    "toolkit.telemetry.enabled": False,
}


def have_firefox() -> bool:
    return shutil.which(FIREFOX) is not None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FirefoxPage:
    """One tab of a Firefox session."""

    def __init__(self, connection: ClientConnection, context: str) -> None:
        self._connection = connection
        self.context = context
        self._next_id = 0
        self.console: list[str] = []  # what the page logged (after listen())
        self.prompts: list[str] = []  # alert/confirm/prompt messages it opened

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One BiDi command and its result (events that come meanwhile are dropped)."""
        self._next_id += 1
        asked = self._next_id
        await self._connection.send(json.dumps({"id": asked, "method": method,
                                                "params": params}))
        async with asyncio.timeout(TIMEOUT):
            while True:
                message = json.loads(await self._connection.recv())
                if message.get("id") != asked:
                    self._event(message)
                    continue
                if message.get("type") == "error":
                    raise RuntimeError(f"{method}: {message.get('error')}: "
                                       f"{message.get('message')}")
                result: dict[str, Any] = message["result"]
                return result

    def _event(self, message: dict[str, Any]) -> None:
        params = message.get("params", {})
        if message.get("method") == "log.entryAdded":
            self.console.append(str(params.get("text", "")))
        elif message.get("method") == "browsingContext.userPromptOpened":
            self.prompts.append(str(params.get("message", "")))

    async def listen(self) -> None:
        """Keep what the page logs to its console and the prompts it opens."""
        await self.call("session.subscribe", events=["log.entryAdded",
                                                     "browsingContext.userPromptOpened"])

    async def wait_for_console(self, text: str) -> None:
        """Until the page logged a line starting with ``text`` (each look takes events in)."""
        async with asyncio.timeout(TIMEOUT):
            while not any(line.startswith(text) for line in self.console):
                await self.evaluate("0")
                await asyncio.sleep(0.05)

    async def goto(self, url: str) -> None:
        await self.call("browsingContext.navigate", context=self.context, url=url,
                        wait="complete")

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited), through JSON."""
        result = await self.call("script.evaluate", target={"context": self.context},
                                 expression=f"(async () => JSON.stringify(await ({expression})))()",
                                 awaitPromise=True)
        if result["type"] == "exception":
            raise RuntimeError(result["exceptionDetails"]["text"])
        value = result["result"]
        return None if value["type"] == "undefined" else json.loads(value["value"])

    async def wait_for(self, expression: str) -> Any:
        """Poll an expression until it is truthy (TIMEOUT at most)."""
        async with asyncio.timeout(TIMEOUT):
            # The page's state, across a process boundary: nothing to await but a look.
            while not (value := await self.evaluate(expression)):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        return value

    async def click(self, selector: str) -> None:
        """A real pointer click in the middle of the element ``selector`` finds."""
        found = await self.call("script.evaluate", target={"context": self.context},
                                expression=f"document.querySelector({json.dumps(selector)})",
                                awaitPromise=False)
        node = found["result"]
        if node["type"] != "node":
            raise AssertionError(f"no element {selector}")
        origin = {"type": "element", "element": {"sharedId": node["sharedId"]}}
        await self.call("input.performActions", context=self.context, actions=[{
            "type": "pointer", "id": "mouse", "actions": [
                {"type": "pointerMove", "x": 0, "y": 0, "origin": origin},
                {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}]}])

    async def type(self, text: str) -> None:
        """Keys pressed one by one, as a person types them."""
        actions = []
        for char in text:
            actions += [{"type": "keyDown", "value": char}, {"type": "keyUp", "value": char}]
        await self._keys(actions)

    async def press(self, key: str) -> None:
        """``Enter``, ``Shift+Enter``, ``Tab``...: modifiers held around the key."""
        *held, last = [KEYS.get(part, part) for part in key.split("+")]
        actions = [{"type": "keyDown", "value": value} for value in held]
        actions += [{"type": "keyDown", "value": last}, {"type": "keyUp", "value": last}]
        actions += [{"type": "keyUp", "value": value} for value in reversed(held)]
        await self._keys(actions)

    async def _keys(self, actions: list[dict[str, str]]) -> None:
        await self.call("input.performActions", context=self.context,
                        actions=[{"type": "key", "id": "keyboard", "actions": actions}])

    async def cookies(self) -> list[dict[str, Any]]:
        found = await self.call("storage.getCookies", partition={"type": "context",
                                                                 "context": self.context})
        return list(found["cookies"])


def _start(profile: Path, port: int) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """Firefox on a fresh profile, its output in the profile's firefox.log."""
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "user.js").write_text("".join(f"user_pref({json.dumps(name)}, "
                                             f"{json.dumps(value)});\n"
                                             for name, value in PREFERENCES.items()))
    log = (profile / "firefox.log").open("wb")
    process = subprocess.Popen(
        [FIREFOX, "--headless", "--no-remote", "-profile", str(profile),
         "--remote-debugging-port", str(port), "about:blank"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "MOZ_CRASHREPORTER_DISABLE": "1"})
    return process, log


@asynccontextmanager
async def firefox_page(profile: Path) -> AsyncIterator[FirefoxPage]:
    """A headless Firefox with a fresh profile in ``profile``, and its first tab."""
    port = _free_port()
    process, log = await asyncio.to_thread(_start, profile, port)
    try:
        async with asyncio.timeout(TIMEOUT * 3):  # a cold start of Firefox is slow
            while True:
                try:
                    connection = await connect(f"ws://127.0.0.1:{port}/session", max_size=None)
                    break
                except OSError as refused:
                    if process.poll() is not None:
                        raise RuntimeError(f"Firefox exited: {profile / 'firefox.log'}"
                                           ) from refused
                    await asyncio.sleep(0.1)
        async with connection:
            page = FirefoxPage(connection, "")
            await page.call("session.new", capabilities={"alwaysMatch": {
                "acceptInsecureCerts": True}})
            tree = await page.call("browsingContext.getTree")
            page.context = tree["contexts"][0]["context"]
            yield page
            with suppress(Exception):
                await page.call("session.end")
    finally:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
