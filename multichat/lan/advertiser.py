"""Publishing one server's DNS-SD record while it runs, on the server's own loop.

Advertising is best effort: a machine without multicast still serves, and
says why it is not advertised. Stopping withdraws the record (zeroconf sends
goodbye packets).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket

from zeroconf import InterfaceChoice, IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from multichat.lan.record import (
    RECORD_TTL,
    SERVICE_TYPE,
    Announcement,
    instance_name,
    server_host_name,
)

log = logging.getLogger(__name__)


def interfaces_for(host: str) -> list[str] | InterfaceChoice:
    """Where to multicast: the one interface a bound address names, or all of them."""
    if host in ("", "0.0.0.0", "::"):
        return InterfaceChoice.All
    return [host]


class Advertiser:
    """Keeps one server's DNS-SD record published while it runs (on the server's loop)."""

    def __init__(self, announcement: Announcement, interfaces: list[str] | InterfaceChoice,
                 *, ttl: int = RECORD_TTL) -> None:
        self.announcement = announcement
        self._interfaces = interfaces
        self._ttl = ttl
        self._zeroconf: AsyncZeroconf | None = None
        self._info: AsyncServiceInfo | None = None
        self._task: asyncio.Task[None] | None = None
        self.registered = asyncio.Event()  # set once the record is on the network

    def start(self) -> None:
        """Publish in the background: probing takes a second or two, serving need not wait."""
        self._task = asyncio.create_task(self._publish(), name="dns-sd-advertise")

    async def _publish(self) -> None:
        announcement = self.announcement
        try:
            self._zeroconf = AsyncZeroconf(interfaces=self._interfaces, ip_version=IPVersion.All)
            self._info = AsyncServiceInfo(
                SERVICE_TYPE,
                f"{instance_name(announcement.name, announcement.port)}.{SERVICE_TYPE}",
                addresses=[socket.inet_pton(_family(a), a) for a in announcement.addresses],
                port=announcement.port,
                properties=announcement.properties(),
                server=server_host_name(announcement),
                host_ttl=self._ttl,
                other_ttl=self._ttl,
            )
            # The call schedules probing and announcing; the task it returns is the work.
            registering = await self._zeroconf.async_register_service(
                self._info, allow_name_change=True)
            await registering
        except Exception as exc:  # no multicast route, no interface: serve anyway
            log.warning("not advertised on the LAN (DNS-SD): %s", exc or type(exc).__name__)
            await self._close()
            return
        self.registered.set()
        log.info("advertised on the LAN as %r (%s)", announcement.name, self._info.name)

    async def stop(self) -> None:
        """Withdraw the record (goodbye packets) and close the sockets."""
        if self._task is not None:
            if not self._task.done():
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._zeroconf is not None and self._info is not None and self.registered.is_set():
            with contextlib.suppress(Exception):  # best effort: the network may be gone
                goodbye = await self._zeroconf.async_unregister_service(self._info)
                await goodbye  # the goodbye packets are out before the sockets close
        await self._close()

    async def _close(self) -> None:
        if self._zeroconf is not None:
            with contextlib.suppress(Exception):  # best effort: the network may be gone
                await self._zeroconf.async_close()
            self._zeroconf = None


def _family(address: str) -> int:
    version = ipaddress.ip_address(address.split("%", maxsplit=1)[0]).version
    return socket.AF_INET6 if version == 6 else socket.AF_INET
