"""Following the Multichat servers on the LAN, on the loop that starts the browser."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from multichat.lan.record import SERVICE_TYPE, FoundServer, found_from

log = logging.getLogger(__name__)

# Seconds between checks that each listed server still answers (Browser): with
# RECORD_TTL, a server that died leaves the lists within about 2.5 minutes.
RECHECK_INTERVAL = 30.0


class Browser:
    """Follows the servers on the LAN while it runs, on the loop that started it.

    ``on_found(server)`` for each server that appears or changes, ``on_lost(key)``
    for each that withdraws (goodbye) or, checked again every ``recheck_interval``
    seconds, no longer answers: a server that died says nothing, and caches may
    keep its pointer record for many minutes, but its other records live
    RECORD_TTL seconds, so a check after they expire finds it silent.
    """

    def __init__(self, on_found: Callable[[FoundServer], None], on_lost: Callable[[str], None],
                 *, interfaces: list[str] | InterfaceChoice = InterfaceChoice.All,
                 recheck_interval: float = RECHECK_INTERVAL) -> None:
        self._on_found = on_found
        self._on_lost = on_lost
        self._interfaces = interfaces
        self._recheck_interval = recheck_interval
        self._zeroconf: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # lookups under way
        self._rechecking: asyncio.Task[None] | None = None
        self._listed: set[str] = set()

    @property
    def running(self) -> bool:
        return self._browser is not None

    @property
    def lookups(self) -> set[asyncio.Task[None]]:
        """The lookups under way (of servers just seen, or being checked again)."""
        return set(self._tasks)

    def start(self) -> None:
        """Browse until ``stop()``; raises what zeroconf raises where there is no network."""
        if self._browser is not None:
            return
        # zeroconf's asyncio API on the loop that runs it (zeroconf #1059).
        self._zeroconf = AsyncZeroconf(interfaces=self._interfaces, ip_version=IPVersion.All)
        self._browser = AsyncServiceBrowser(self._zeroconf.zeroconf, [SERVICE_TYPE],
                                            handlers=[self._changed])
        self._rechecking = asyncio.ensure_future(self._recheck())

    async def stop(self) -> None:
        for task in [*self._tasks, *filter(None, [self._rechecking])]:
            task.cancel()
        self._rechecking = None
        self._tasks.clear()
        if self._browser is not None:
            with contextlib.suppress(Exception):
                await self._browser.async_cancel()
            self._browser = None
        if self._zeroconf is not None:
            with contextlib.suppress(Exception):
                await self._zeroconf.async_close()
            self._zeroconf = None

    def _changed(self, zeroconf: object, service_type: str, name: str,
                 state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Removed:
            self._lost(name)
        else:
            self._keep(self._resolve(name))

    def _keep(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _lost(self, name: str) -> None:
        if name in self._listed:
            self._listed.discard(name)
            self._on_lost(name)

    async def _resolve(self, name: str) -> None:
        if self._zeroconf is None:
            return
        try:
            server = await resolve_server(self._zeroconf, name)
        except Exception as exc:  # a malformed record from some other program
            log.info("ignoring %s: %s", name, exc)
            return
        if server is not None:
            self._listed.add(name)
            self._on_found(server)
        else:
            self._lost(name)  # listed before, silent now: it died

    async def _recheck(self) -> None:
        while True:
            await asyncio.sleep(self._recheck_interval)
            for name in list(self._listed):
                self._keep(self._resolve(name))


async def browse(seconds: float,
                 interfaces: list[str] | InterfaceChoice = InterfaceChoice.All
                 ) -> list[FoundServer]:
    """The servers that answer within ``seconds`` (for ``multichat discover``)."""
    found: dict[str, FoundServer] = {}

    def lost(key: str) -> None:
        found.pop(key, None)

    browser = Browser(lambda server: found.__setitem__(server.key, server), lost,
                      interfaces=interfaces)
    browser.start()
    try:
        await asyncio.sleep(seconds)
        if browser.lookups:  # servers seen late: give their lookups a moment
            await asyncio.wait(browser.lookups, timeout=2)
    finally:
        await browser.stop()
    return sorted(found.values(), key=lambda s: (s.name.lower(), s.url))


async def resolve_server(zeroconf: AsyncZeroconf, name: str) -> FoundServer | None:
    """The details of one instance, or None when it does not answer or is not ours."""
    info = AsyncServiceInfo(SERVICE_TYPE, name)
    if not await info.async_request(zeroconf.zeroconf, 3000):
        return None
    return found_from(info)
