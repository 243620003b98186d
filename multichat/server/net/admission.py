"""Who may open a WebSocket: a well-formed handshake, an allowed Origin, an address with room.

Checked on the HTTP handshake, before any frame: a refused connection costs
the server one HTTP response, and a browser gets a status it can show.

Origin matters for browsers only. A web page the user happens to visit can
open a WebSocket to any address the browser reaches, LAN servers included,
and the browser then sends the page's ``Origin``; the server refuses pages
that are not on the allow-list. Clients that are not browsers (the app,
scripts, the seed's tests) send no Origin and are not concerned.

The server's own page (``GET /``) is always allowed: its origin is the scheme
and the ``Host`` the request came to. Only for a Host that cannot be rebound,
though: an IP address, ``localhost`` or this machine's own names. Under DNS
rebinding an attacker's name (``evil.example``) first serves their page, then
resolves to the chat server, so that page's Origin matches the Host it
connects to; such a name must be listed in ``--allowed-origins`` like any
other page. (The session cookie was set for the real name, so a rebound page
would log in as nobody; the check keeps it from even trying passwords from the
victim's browser.)
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

ANY_ORIGIN = "*"


def parse_origins(setting: str) -> frozenset[str]:
    """The allow-list of a comma-separated setting; ValueError names a bad entry."""
    origins: set[str] = set()
    for raw in setting.split(","):
        entry = raw.strip().lower().rstrip("/")
        if not entry:
            continue
        if entry not in (ANY_ORIGIN, "null"):
            parts = urlsplit(entry)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise ValueError(
                    f"{raw.strip()!r} is not an origin like https://chat.example.com[:port]"
                )
        origins.add(entry)
    return frozenset(origins)


@dataclass(frozen=True, slots=True)
class Refusal:
    status: HTTPStatus
    reason: str


def bad_request(reason: str) -> Refusal:
    """A handshake we cannot make sense of: HTTP 400 with a one-line reason."""
    return Refusal(HTTPStatus.BAD_REQUEST, reason)


def check_origin(values: list[str], allowed: frozenset[str],
                 own: str | None = None) -> Refusal | None:
    """None when a handshake with these ``Origin`` headers (zero or one) may go on.

    ``own`` is the origin of the server's own page as this request reached it
    (``own_origin``), always allowed.
    """
    if len(values) > 1:  # a browser sends one; two is a request to refuse, not to guess at
        return bad_request("more than one Origin header")
    origin = values[0] if values else None
    if origin is None or ANY_ORIGIN in allowed:
        return None
    origin = origin.strip().lower()
    if origin in allowed or (own is not None and origin == own):
        return None
    return Refusal(HTTPStatus.FORBIDDEN,
                   f"Origin {origin} is not allowed to connect to this server "
                   "(see --allowed-origins)")


def local_names() -> frozenset[str]:
    """The names of this machine no outside DNS can point elsewhere: its own."""
    names = {"localhost"}
    for name in (socket.gethostname(), socket.getfqdn()):
        if name:
            names.update({name.lower(), f"{name.lower()}.local"})
    return frozenset(names)


def own_origin(hosts: list[str], *, tls: bool, names: frozenset[str]) -> str | None:
    """The origin of the server's own page for a request with these ``Host`` headers.

    None when the Host is not one rebinding cannot forge (module docstring):
    not an IP address, not one of ``names``; or missing, doubled or malformed.
    """
    if len(hosts) != 1:
        return None
    host = hosts[0].strip().lower()
    if not host or any(c in host for c in "/?#@\\ "):
        return None
    try:
        hostname = urlsplit(f"//{host}").hostname
    except ValueError:
        return None
    if hostname is None or not (_is_ip_address(hostname) or hostname in names):
        return None
    return f"{'https' if tls else 'http'}://{host}"


def _is_ip_address(hostname: str) -> bool:
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


TOO_MANY_CONNECTIONS = Refusal(
    HTTPStatus.TOO_MANY_REQUESTS,
    "too many connections from your address; close some and try again",
)


def is_loopback(address: str) -> bool:
    """Whether ``address`` is this machine's own: 127.0.0.0/8, ::1, ::ffff:127.x."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return parsed.is_loopback


def exempt_from_limit(client: str, peer: str, *, limit_loopback: bool,
                      peer_is_proxy: bool = False) -> bool:
    """Whether a connection is counted but never refused by the per-address limit.

    Loopback clients are, unless ``limit_loopback``: they are programs of this
    machine (a test suite, a benchmark), whose owner could run them anyway. Only
    a loopback *peer* is: an address a proxy reports (PROXY header,
    X-Forwarded-For) is never taken as this machine's, since a client may have
    written it; nor is a trusted proxy's own address, whose clients all have it
    when it forwards none.
    """
    return (not limit_loopback and not peer_is_proxy and client == peer
            and is_loopback(peer))
