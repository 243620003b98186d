"""DNS-SD on the LAN: servers advertise ``_multichat._tcp.local.``, apps and the CLI browse.

The TXT record carries what a person needs to choose and trust a server:

    name     the display name (``--name``, default the host name)
    version  the server's Multichat version
    tls      "1" for wss://, "0" for ws://
    fp       with TLS, the certificate's SHA-256 fingerprint (pre-fills the pin
             the person confirms; TXT records are unauthenticated, so it is a
             hint to compare, never trusted by itself)
    path     the WebSocket path ("/")

Advertising is best effort: a machine without multicast still serves, and
says why it is not advertised. Stopping the server withdraws the record
(zeroconf sends goodbye packets).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from multichat import __version__

log = logging.getLogger(__name__)

SERVICE_TYPE = "_multichat._tcp.local."
# DNS-SD instance names are at most 63 bytes.
MAX_INSTANCE_BYTES = 63
# Seconds browsers may keep our records. A stopping server says goodbye at once; one
# that dies (kill -9, power) leaves the lists when its records expire. zeroconf's
# defaults keep PTR and TXT for 75 minutes: too long to list a server that is gone.
RECORD_TTL = 120
# Seconds between checks that each listed server still answers (Browser): with
# RECORD_TTL, a server that died leaves the lists within about 2.5 minutes.
RECHECK_INTERVAL = 30.0


@dataclass(frozen=True, slots=True)
class Announcement:
    """What a server says of itself on the LAN."""

    name: str
    port: int
    addresses: tuple[str, ...]
    tls: bool
    fingerprint: str | None
    version: str = __version__
    path: str = "/"

    def properties(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "tls": "1" if self.tls else "0",
                "fp": self.fingerprint or "", "path": self.path}


@dataclass(frozen=True, slots=True)
class FoundServer:
    """A server seen on the LAN: one DNS-SD instance."""

    key: str  # the DNS-SD instance name, unique on the network
    name: str
    addresses: tuple[str, ...]
    port: int
    tls: bool
    fingerprint: str | None
    version: str
    path: str

    @property
    def url(self) -> str:
        """The address to connect to: the first IPv4 address, else the first one."""
        ipv4 = [a for a in self.addresses if ":" not in a]
        host = (ipv4 or list(self.addresses) or ["127.0.0.1"])[0]
        shown = f"[{host}]" if ":" in host else host
        path = "" if self.path in ("", "/") else self.path
        return f"{'wss' if self.tls else 'ws'}://{shown}:{self.port}{path}"


def instance_name(name: str, port: int) -> str:
    """``name`` made a valid DNS-SD instance label, unique per port on one host."""
    label = f"{name} :{port}".replace(".", " ")
    while len(label.encode()) > MAX_INSTANCE_BYTES:
        label = label[:-1]
    return label


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
                server=f"{_host_label()}.local.",
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


def found_from(info: AsyncServiceInfo) -> FoundServer | None:
    if info.port is None:
        return None
    text = {(k.decode(errors="replace") if isinstance(k, bytes) else str(k)):
            (v.decode(errors="replace") if isinstance(v, bytes) else "")
            for k, v in info.properties.items()}
    instance = info.name.removesuffix("." + SERVICE_TYPE)
    return FoundServer(
        key=info.name,
        name=text.get("name") or instance,
        addresses=tuple(info.parsed_scoped_addresses()),
        port=info.port,
        tls=text.get("tls") == "1",
        fingerprint=text.get("fp") or None,
        version=text.get("version", ""),
        path=text.get("path") or "/",
    )


def _family(address: str) -> int:
    version = ipaddress.ip_address(address.split("%", maxsplit=1)[0]).version
    return socket.AF_INET6 if version == 6 else socket.AF_INET


def _host_label() -> str:
    label = socket.gethostname().split(".")[0] or "multichat"
    return "".join(c if c.isalnum() or c == "-" else "-" for c in label)[:63]
