"""What a Multichat server says of itself on the LAN, and what a browser makes of it.

The TXT record carries what a person needs to choose and trust a server:

    name     the display name (``--name``, default the host name)
    version  the server's Multichat version
    tls      "1" for wss://, "0" for ws://
    fp       with TLS, the certificate's SHA-256 fingerprint (pre-fills the pin
             the person confirms; TXT records are unauthenticated, so it is a
             hint to compare, never trusted by itself)
    path     the WebSocket path ("/")

The SRV record names a host of the server's own (``server_host_name``), whose
A/AAAA records are exactly the addresses that server listens on. Records of
one host name are merged by every browser: were every server on a machine to
publish ``HOST.local.``, each would be listed at the addresses of all of them
(a server bound to 127.0.0.1 was listed at a LAN address another server on
the machine listened on).
"""

from __future__ import annotations

import hashlib
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from multichat import __version__

if TYPE_CHECKING:  # a record is plain data: the desktop app lists them before zeroconf loads
    from zeroconf.asyncio import AsyncServiceInfo

SERVICE_TYPE = "_multichat._tcp.local."
# DNS labels (instance names, host names) are at most 63 bytes.
MAX_LABEL_BYTES = 63
# Seconds browsers may keep our records. A stopping server says goodbye at once; one
# that dies (kill -9, power) leaves the lists when its records expire. zeroconf's
# defaults keep PTR and TXT for 75 minutes: too long to list a server that is gone.
RECORD_TTL = 120


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
        path = "" if self.path in ("", "/") else self.path
        return f"{'wss' if self.tls else 'ws'}://{url_host(host)}:{self.port}{path}"


def url_host(host: str) -> str:
    """A host as a URL names it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


def instance_name(name: str, port: int) -> str:
    """``name`` made a valid DNS-SD instance label, unique per port on one host."""
    label = f"{name} :{port}".replace(".", " ")
    while len(label.encode()) > MAX_LABEL_BYTES:
        label = label[:-1]
    return label


def server_host_name(announcement: Announcement) -> str:
    """The host name of one server's SRV record: this machine's, its port, its addresses.

    Two servers on one machine cannot listen on the same address and port, so
    no two get the same name, and a server restarted where it was gets the
    same one again (caches then hold nothing that contradicts it).
    """
    addresses = " ".join(sorted(announcement.addresses))
    digest = hashlib.sha256(addresses.encode()).hexdigest()[:8]
    suffix = f"-{announcement.port}-{digest}"
    machine = _host_label()[:MAX_LABEL_BYTES - len(suffix)]
    return f"{machine}{suffix}.local."


def found_from(info: AsyncServiceInfo) -> FoundServer | None:
    """A resolved record as a FoundServer, with the addresses of its own host name only."""
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


def _host_label() -> str:
    label = socket.gethostname().split(".")[0] or "multichat"
    return "".join(c if c.isalnum() or c == "-" else "-" for c in label).strip("-") or "multichat"
