"""The plain HTTP answers of the server's port: the browser client and its session.

A request that is no WebSocket upgrade comes here (``ChatServer._admit``). It
gets the page and its files, read once from ``multichat/resources/web`` (package
data, so the one-file build serves them too), the session cookie for a ticket,
the cookie cleared, or 404. websockets parses GET requests only: everything
here is a GET, and the password travels over the WebSocket, never in a URL.

Every answer carries the same strict headers: a Content-Security-Policy that
allows this origin's own files only (no inline script, no outside address;
``connect-src 'self'`` covers the same-origin ``ws:``/``wss:`` in current
Chromium and Firefox), no framing, no MIME sniffing, no Referer.
"""

from __future__ import annotations

import email.utils
from collections.abc import Awaitable
from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from multichat.server.chat.tickets import TicketBook
from multichat.server.net import web_session
from multichat.server.store.errors import StoreError

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
}
# The page names its files without a version, so a browser must ask each time
# whether they changed: a new server then never runs an old script (304s are
# not worth it for a few kilobytes on a LAN).
_CACHE = "no-cache"


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str


def load_web_files() -> dict[str, StaticFile]:
    """Every file of the browser client by its URL path (``/`` is ``index.html``)."""
    root = resources.files("multichat.resources").joinpath("web")
    found: dict[str, StaticFile] = {}

    def walk(folder: resources.abc.Traversable, prefix: str) -> None:
        for entry in folder.iterdir():
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
                continue
            suffix = entry.name[entry.name.rfind("."):]
            if suffix in _TYPES:
                found[f"{prefix}{entry.name}"] = StaticFile(entry.read_bytes(), _TYPES[suffix])

    walk(root, "/")
    found["/"] = found.pop("/index.html")
    return found


class WebAnswers:
    """The answer to each plain GET: a file, ``/session``, ``/logout``, or 404."""

    def __init__(self, tickets: TicketBook, *, secure: bool, cookie_max_age: int) -> None:
        self._files = load_web_files()
        self._tickets = tickets
        self._secure = secure
        self._max_age = cookie_max_age

    def answer(self, request: Request) -> Response | Awaitable[Response]:
        parts = urlsplit(request.path)
        if parts.path == "/session":
            return self._session(request, parse_qs(parts.query).get("ticket", []))
        if parts.path == "/logout":
            return self._logout(request)
        found = self._files.get(parts.path)
        if found is None:
            return text_answer(HTTPStatus.NOT_FOUND, "not found")
        return answer(HTTPStatus.OK, found.body, found.content_type)

    def _session(self, request: Request, tickets: list[str]) -> Response | Awaitable[Response]:
        """A good ticket, once: the cookie that names its token (204, for the page's fetch).
        Redeemed in the database (any process's ticket); websockets awaits the answer."""
        if not web_session.from_own_pages(request.headers):
            return text_answer(HTTPStatus.FORBIDDEN, "only this server's page may do that")
        return self._redeem(tickets)

    async def _redeem(self, tickets: list[str]) -> Response:
        try:
            redeemed = await self._tickets.redeem(tickets[0]) if len(tickets) == 1 else None
        except StoreError:
            return text_answer(HTTPStatus.SERVICE_UNAVAILABLE,
                               "the server cannot reach its database; try again")
        if redeemed is None:
            return text_answer(HTTPStatus.FORBIDDEN,
                               "that login ticket is unknown, used or expired; log in again")
        cookie = web_session.session_cookie(redeemed.token, secure=self._secure,
                                            max_age=self._max_age)
        return answer(HTTPStatus.NO_CONTENT, b"", None, set_cookie=cookie)

    def _logout(self, request: Request) -> Response:
        """Drop the cookie (the page revoked its token over the WebSocket first)."""
        if not web_session.from_own_pages(request.headers):
            return text_answer(HTTPStatus.FORBIDDEN, "only this server's page may do that")
        return answer(HTTPStatus.NO_CONTENT, b"", None,
                      set_cookie=web_session.cleared_cookie(secure=self._secure))


def text_answer(status: HTTPStatus, text: str) -> Response:
    """A one-line plain text answer, with the same headers as every other."""
    return answer(status, f"{text}\n".encode(), "text/plain; charset=utf-8")


def answer(status: HTTPStatus, body: bytes, content_type: str | None, *,
           set_cookie: str | None = None) -> Response:
    headers = Headers([
        ("Date", email.utils.formatdate(usegmt=True)),
        ("Connection", "close"),
        ("Content-Length", str(len(body))),
        *_SECURITY_HEADERS,
        # Cookie answers and errors must never be reused from a cache.
        ("Cache-Control", _CACHE if status == HTTPStatus.OK else "no-store"),
    ])
    if content_type is not None:
        headers["Content-Type"] = content_type
    if set_cookie is not None:
        headers["Set-Cookie"] = set_cookie
    return Response(status.value, status.phrase, headers, body)


def is_websocket_upgrade(request: Request) -> bool:
    """Whether a request asks for a WebSocket (else it gets a plain HTTP answer)."""
    upgrade = ",".join(request.headers.get_all("Upgrade")).lower()
    return "websocket" in (token.strip() for token in upgrade.split(","))
