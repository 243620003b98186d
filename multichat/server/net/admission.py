"""Who may open a WebSocket at all: the Origin allow-list and connections per address.

Checked on the HTTP handshake, before any frame: a refused connection costs
the server one HTTP response, and a browser gets a status it can show.

Origin matters for browsers only. A web page the user happens to visit can
open a WebSocket to any address the browser reaches, LAN servers included,
and the browser then sends the page's ``Origin``; the server refuses pages
that are not on the allow-list. Clients that are not browsers (the app,
scripts, the seed's tests) send no Origin and are not concerned.
"""

from __future__ import annotations

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


def check_origin(origin: str | None, allowed: frozenset[str]) -> Refusal | None:
    """None when a handshake with this ``Origin`` header may go on."""
    if origin is None or ANY_ORIGIN in allowed or origin.strip().lower() in allowed:
        return None
    return Refusal(HTTPStatus.FORBIDDEN,
                   f"Origin {origin} is not allowed to connect to this server "
                   "(see --allowed-origins)")


TOO_MANY_CONNECTIONS = Refusal(
    HTTPStatus.TOO_MANY_REQUESTS,
    "too many connections from your address; close some and try again",
)
