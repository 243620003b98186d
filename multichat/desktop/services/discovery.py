"""The servers on the LAN, live: DNS-SD browsing on the app's (qasync) loop, as Qt signals.

Signals:
    serverFound(FoundServer): a server appeared, or its record changed.
    serverLost(str key): a server withdrew its record (stopped) or stopped answering.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from zeroconf import InterfaceChoice

from multichat.lan import RECHECK_INTERVAL, Browser

log = logging.getLogger(__name__)


class LanBrowser(QObject):
    serverFound = Signal(object)
    serverLost = Signal(str)

    def __init__(self, parent: QObject | None = None, *,
                 interfaces: list[str] | InterfaceChoice = InterfaceChoice.All,
                 recheck_interval: float = RECHECK_INTERVAL) -> None:
        super().__init__(parent)
        self._browser = Browser(self.serverFound.emit, self.serverLost.emit,
                                interfaces=interfaces, recheck_interval=recheck_interval)
        self.error: str | None = None  # why browsing could not start, in words

    @property
    def running(self) -> bool:
        return self._browser.running

    async def start(self) -> None:
        """Browse until ``stop()``; where the network allows no multicast, say so and stop."""
        try:
            self._browser.start()
        except Exception as exc:
            self.error = f"cannot browse the network: {exc or type(exc).__name__}"
            log.warning("%s", self.error)
            await self.stop()

    async def stop(self) -> None:
        await self._browser.stop()
