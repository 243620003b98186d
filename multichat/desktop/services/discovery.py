"""The servers on the LAN, live: DNS-SD browsing on the app's (qasync) loop, as Qt signals.

Signals:
    serverFound(FoundServer): a server appeared, or its record changed.
    serverLost(str key): a server withdrew its record (stopped) or expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from PySide6.QtCore import QObject, Signal
from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

from multichat.server.net.discovery import SERVICE_TYPE, resolve_server

log = logging.getLogger(__name__)

# Seconds between checks that each listed server still answers. A server that stops
# says goodbye and goes at once; one that dies says nothing, and caches may keep its
# pointer record for many minutes. Its other records live 120 s (RECORD_TTL), so a
# check after they expire finds it silent: gone from the list within about 2.5 min.
RECHECK_INTERVAL = 30.0


class LanBrowser(QObject):
    serverFound = Signal(object)
    serverLost = Signal(str)

    def __init__(self, parent: QObject | None = None, *,
                 interfaces: list[str] | InterfaceChoice = InterfaceChoice.All,
                 recheck_interval: float = RECHECK_INTERVAL) -> None:
        super().__init__(parent)
        self._interfaces = interfaces
        self._recheck_interval = recheck_interval
        self._zeroconf: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._listed: set[str] = set()
        self.error: str | None = None  # why browsing could not start, in words

    @property
    def running(self) -> bool:
        return self._browser is not None

    async def start(self) -> None:
        """Browse until ``stop()``; where the network allows no multicast, say so and stop."""
        if self._browser is not None:
            return
        try:
            # zeroconf's asyncio API on the loop that runs it (zeroconf #1059).
            self._zeroconf = AsyncZeroconf(interfaces=self._interfaces, ip_version=IPVersion.All)
            self._browser = AsyncServiceBrowser(self._zeroconf.zeroconf, [SERVICE_TYPE],
                                                handlers=[self._changed])
            self._keep(self._recheck())
        except Exception as exc:
            self.error = f"cannot browse the network: {exc or type(exc).__name__}"
            log.warning("%s", self.error)
            await self.stop()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
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
            return
        self._keep(self._resolve(name))

    def _keep(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _lost(self, name: str) -> None:
        if name in self._listed:
            self._listed.discard(name)
            self.serverLost.emit(name)

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
            self.serverFound.emit(server)
        else:
            self._lost(name)  # listed before, silent now: it died

    async def _recheck(self) -> None:
        while True:
            await asyncio.sleep(self._recheck_interval)
            for name in list(self._listed):
                self._keep(self._resolve(name))
