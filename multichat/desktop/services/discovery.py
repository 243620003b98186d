"""The servers on the LAN, live: DNS-SD browsing on the app's (qasync) loop, as Qt signals.

Signals:
    serverFound(FoundServer): a server appeared, or its record changed.
    serverLost(str key): a server withdrew its record (stopped) or expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from PySide6.QtCore import QObject, Signal
from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

from multichat.server.net.discovery import SERVICE_TYPE, resolve_server

log = logging.getLogger(__name__)


class LanBrowser(QObject):
    serverFound = Signal(object)
    serverLost = Signal(str)

    def __init__(self, parent: QObject | None = None, *,
                 interfaces: list[str] | InterfaceChoice = InterfaceChoice.All) -> None:
        super().__init__(parent)
        self._interfaces = interfaces
        self._zeroconf: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._tasks: set[asyncio.Task[None]] = set()
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
            self.serverLost.emit(name)
            return
        task = asyncio.ensure_future(self._resolve(name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, name: str) -> None:
        if self._zeroconf is None:
            return
        try:
            server = await resolve_server(self._zeroconf, name)
        except Exception as exc:  # a malformed record from some other program
            log.info("ignoring %s: %s", name, exc)
            return
        if server is not None:
            self.serverFound.emit(server)
