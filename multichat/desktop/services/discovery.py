"""The servers on the LAN, live: DNS-SD browsing on the app's (qasync) loop, as Qt signals.

zeroconf (and multichat.lan's browser) is imported when browsing starts, which
the controller does once the first window is up: not before it.

Signals:
    serverFound(FoundServer): a server appeared, or its record changed.
    serverLost(str key): a server withdrew its record (stopped) or stopped answering.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from zeroconf import InterfaceChoice

    from multichat.lan import Browser

log = logging.getLogger(__name__)


class LanBrowser(QObject):
    serverFound = Signal(object)
    serverLost = Signal(str)

    def __init__(self, parent: QObject | None = None, *,
                 interfaces: list[str] | InterfaceChoice | None = None,
                 recheck_interval: float | None = None) -> None:
        """``interfaces``: None for every one; ``recheck_interval``: None for the LAN
        browser's own (multichat.lan.RECHECK_INTERVAL)."""
        super().__init__(parent)
        self._interfaces = interfaces
        self._recheck_interval = recheck_interval
        self._browser: Browser | None = None
        self.error: str | None = None  # why browsing could not start, in words

    @property
    def running(self) -> bool:
        return self._browser is not None and self._browser.running

    def _made_browser(self) -> Browser:
        if self._browser is None:
            from zeroconf import InterfaceChoice  # noqa: PLC0415

            from multichat.lan import RECHECK_INTERVAL, Browser  # noqa: PLC0415

            interval = self._recheck_interval
            self._browser = Browser(
                self.serverFound.emit, self.serverLost.emit,
                interfaces=InterfaceChoice.All if self._interfaces is None else self._interfaces,
                recheck_interval=RECHECK_INTERVAL if interval is None else interval,
            )
        return self._browser

    async def start(self) -> None:
        """Browse until ``stop()``; where the network allows no multicast, say so and stop."""
        try:
            self._made_browser().start()
        except Exception as exc:
            self.error = f"cannot browse the network: {exc or type(exc).__name__}"
            log.warning("%s", self.error)
            await self.stop()

    async def stop(self) -> None:
        if self._browser is not None:
            await self._browser.stop()
