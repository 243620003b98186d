"""The client's real address behind a reverse proxy: the PROXY protocol and X-Forwarded-For.

Pure: bytes and strings in, addresses out; no socket, no asyncio. The
connection (``peer.ProxiedConnection``) feeds a trusted proxy's first bytes to
``parse_proxy_header`` and strips the header before websockets' HTTP parser
sees them; the handshake check (``ChatServer._admit``) applies
``TrustedProxies.forwarded_client`` to the ``X-Forwarded-For`` headers.

Only a peer in ``--trusted-proxies`` is believed, or a peer on the server's
Unix socket (``serve --unix``: it has no address to list, and only the
local proxy the socket file's mode lets in can connect: unix_socket.py), and
in one way only:

* with ``--proxy-protocol``, by the PROXY header it must send first (v1 text
  or v2 binary: nginx ``proxy_protocol on``, HAProxy ``send-proxy``/
  ``send-proxy-v2``). ``X-Forwarded-For`` is then ignored: a TCP proxy passes
  the client's own headers through untouched.
* without it, by ``X-Forwarded-For`` (nginx's ``$proxy_add_x_forwarded_for``):
  the right-most address that is not itself a trusted proxy, since each proxy
  appends the address it saw and everything left of that is the client's word.

Exceptions::

    ValueError
     ├── ProxyHeaderError      the first bytes of a trusted proxy are no PROXY header
     └── ForwardedForError     a trusted proxy's X-Forwarded-For names no address
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

V1_PREFIX = b"PROXY "
V1_MAX_BYTES = 107  # the specification's bound for the longest v1 line, CRLF included
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_FIXED_BYTES = 16  # signature, version and command, family, length
# Addresses take at most 216 bytes (AF_UNIX); the rest is TLVs, which HAProxy adds
# only when told to (ALPN, authority, unique id, TLS details). The format allows
# 64 KiB; a proxy of ours never needs more than this, and a stranger gets no more.
V2_MAX_BYTES = V2_FIXED_BYTES + 2048

UNIX_PEER_PREFIX = "unix:"  # a peer on a Unix socket has no address: it is unix:PATH

_V2_LOCAL, _V2_PROXY = 0x0, 0x1
_V2_UNSPEC, _V2_INET, _V2_INET6, _V2_UNIX = 0x0, 0x1, 0x2, 0x3


class ProxyHeaderError(ValueError):
    """The bytes are not a PROXY protocol header (or one too long to accept)."""


class ForwardedForError(ValueError):
    """An ``X-Forwarded-For`` entry that should name the client is not an address."""


@dataclass(frozen=True, slots=True)
class ProxyHeader:
    """A parsed PROXY header: ``size`` bytes to strip, the client's ``source`` address.

    ``source`` is None when the proxy speaks for itself (v2 ``LOCAL``, v1
    ``UNKNOWN``, a family without an IP address): a health check, which keeps
    the proxy's own address.
    """

    size: int
    source: str | None


def canonical(address: IPAddress) -> str:
    """The address as we count it: an IPv4-mapped IPv6 address is its IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def parse_address(text: str) -> IPAddress | None:
    """The IP address ``text`` is, or None (a host name, a Unix socket, garbage)."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def unix_peer(path: str) -> str:
    """The peer's "address" of a connection on the Unix socket at ``path``, as the
    limits count it and the log names it when no client address is forwarded."""
    return UNIX_PEER_PREFIX + path


def is_unix_peer(address: str) -> bool:
    """Whether ``address`` is ``unix_peer``'s (no IP address starts so)."""
    return address.startswith(UNIX_PEER_PREFIX)


def starts_with_proxy_header(data: bytes) -> bool:
    """Whether a connection's first bytes are (the start of) a PROXY header of either version."""
    return data.startswith(V1_PREFIX) or data.startswith(V2_SIGNATURE)


def parse_proxy_header(data: bytes) -> ProxyHeader | None:
    """The PROXY header at the start of ``data``; None while more bytes are needed.

    Raises ProxyHeaderError as soon as the bytes cannot begin a valid header of
    either version, or would make one longer than we accept: a connection that
    must start with a header is closed at its first wrong byte.
    """
    if data[:len(V2_SIGNATURE)] == V2_SIGNATURE[:len(data)]:
        return _parse_v2(data)
    if data[:len(V1_PREFIX)] == V1_PREFIX[:len(data)]:
        return _parse_v1(data)
    raise ProxyHeaderError("the connection does not start with a PROXY header")


def _parse_v1(data: bytes) -> ProxyHeader | None:
    end = data.find(b"\r\n", 0, V1_MAX_BYTES)
    if end < 0:
        if len(data) >= V1_MAX_BYTES:
            raise ProxyHeaderError(f"PROXY v1 line longer than {V1_MAX_BYTES} bytes")
        return None
    try:
        line = data[:end].decode("ascii")
    except UnicodeDecodeError:
        raise ProxyHeaderError("PROXY v1 line is not ASCII") from None
    fields = line.split(" ")
    if fields[1:2] == ["UNKNOWN"]:
        return ProxyHeader(end + 2, None)
    if len(fields) != 6 or fields[1] not in ("TCP4", "TCP6"):
        raise ProxyHeaderError(f"malformed PROXY v1 line {line[:V1_MAX_BYTES]!r}")
    _, family, source, destination, source_port, destination_port = fields
    version = 4 if family == "TCP4" else 6
    for text in (source, destination):
        address = parse_address(text)
        if address is None or address.version != version:
            raise ProxyHeaderError(f"PROXY v1 {family} line with address {text!r}")
    for port in (source_port, destination_port):
        if not (port.isascii() and port.isdigit() and int(port) <= 65535):
            raise ProxyHeaderError(f"PROXY v1 line with port {port!r}")
    parsed = parse_address(source)
    assert parsed is not None
    return ProxyHeader(end + 2, canonical(parsed))


def _parse_v2(data: bytes) -> ProxyHeader | None:
    if len(data) < V2_FIXED_BYTES:
        return None
    version, command = data[12] >> 4, data[12] & 0x0F
    family, transport = data[13] >> 4, data[13] & 0x0F
    size = V2_FIXED_BYTES + int.from_bytes(data[14:16], "big")
    if version != 2 or command not in (_V2_LOCAL, _V2_PROXY):
        raise ProxyHeaderError(f"PROXY v2 header of version {version}, command {command}")
    if family > _V2_UNIX or transport > 2:
        raise ProxyHeaderError(f"PROXY v2 header of family {family}, transport {transport}")
    if size > V2_MAX_BYTES:
        raise ProxyHeaderError(f"PROXY v2 header of {size} bytes (at most {V2_MAX_BYTES})")
    if len(data) < size:
        return None
    if command == _V2_LOCAL or family in (_V2_UNSPEC, _V2_UNIX):
        return ProxyHeader(size, None)
    body = data[V2_FIXED_BYTES:size]
    source: IPAddress
    if family == _V2_INET:
        if len(body) < 12:
            raise ProxyHeaderError("PROXY v2 IPv4 header too short for its addresses")
        source = ipaddress.IPv4Address(body[:4])
    else:
        if len(body) < 36:
            raise ProxyHeaderError("PROXY v2 IPv6 header too short for its addresses")
        source = ipaddress.IPv6Address(body[:16])
    return ProxyHeader(size, canonical(source))


def _parse_network(entry: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        raise ValueError(
            f"{entry!r} is not an address or network like 10.0.0.0/8 or ::1"
        ) from None


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    """The ``--trusted-proxies`` networks, and whether they speak the PROXY protocol."""

    networks: tuple[IPNetwork, ...] = ()
    proxy_protocol: bool = False

    @classmethod
    def parse(cls, setting: str, *, proxy_protocol: bool = False,
              tls: bool = False, unix: bool = False) -> TrustedProxies:
        """The settings as one object; ValueError names a bad entry or combination.

        ``unix``: the server listens on a Unix socket, whose peers are trusted.
        """
        networks = tuple(_parse_network(entry.strip()) for entry in setting.split(",")
                         if entry.strip())
        if proxy_protocol and not networks and not unix:
            raise ValueError("--proxy-protocol needs --trusted-proxies (the addresses of "
                             "the proxies that send the PROXY header) or --unix")
        if proxy_protocol and tls:
            raise ValueError("--proxy-protocol cannot be combined with this server's own "
                             "TLS (the header comes before the TLS handshake): terminate "
                             "TLS at the proxy")
        return cls(networks, proxy_protocol)

    def trusts(self, address: str) -> bool:
        """Whether ``address`` (a peer's, or an X-Forwarded-For entry) is a trusted proxy.

        A peer on the server's Unix socket always is (``unix_peer``); an
        X-Forwarded-For entry never names one (it must be an IP address).
        """
        if is_unix_peer(address):
            return True
        if not self.networks:
            return False
        parsed = parse_address(address)
        if parsed is None:
            return False
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped
        return any(parsed in network for network in self.networks)

    def expects_proxy_header(self, peer: str) -> bool:
        """Whether a connection from ``peer`` must start with a PROXY header."""
        return self.proxy_protocol and self.trusts(peer)

    def forwarded_client(self, peer: str, forwarded_for: Sequence[str]) -> str | None:
        """The client a handshake from ``peer`` with these X-Forwarded-For values speaks for.

        None (the header is not believed) unless ``peer`` is a trusted proxy that
        does not speak the PROXY protocol and sent the header; then the
        right-most entry that is not a trusted proxy (or the left-most, when
        every hop is one). Several headers count as one list, in order.
        ForwardedForError if that entry, or one right of it, is not an address.
        """
        if self.proxy_protocol or not forwarded_for or not self.trusts(peer):
            return None
        entries = [entry.strip() for value in forwarded_for for entry in value.split(",")]
        address: IPAddress | None = None
        for entry in reversed(entries):
            address = _forwarded_address(entry)
            if address is None:
                raise ForwardedForError(f"X-Forwarded-For entry {entry[:64]!r} from proxy "
                                        f"{peer} is not an address")
            if not self.trusts(str(address)):
                break
        assert address is not None  # split() gives at least one entry
        return canonical(address)


def _forwarded_address(entry: str) -> IPAddress | None:
    """An X-Forwarded-For entry's address: ``1.2.3.4``, ``1.2.3.4:80``, ``::1``, ``[::1]:80``."""
    port = ""
    if entry.startswith("["):
        entry, bracket, port = entry[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return None
        port = port[1:]
    elif entry.count(":") == 1:  # IPv4 with a port (a bare IPv6 address has several colons)
        entry, _, port = entry.partition(":")
    if port and not (port.isascii() and port.isdigit()):
        return None
    return parse_address(entry)
