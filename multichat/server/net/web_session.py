"""The browser's session cookie: how it is set, cleared, read, and guarded from CSRF.

The cookie holds a login token (256 random bits, stored by the server only as
its SHA-256), the one the page logged in with over the WebSocket. It is
``HttpOnly`` (no script reads it: an injected one cannot carry it away),
``SameSite=Strict`` (the browser sends it on requests and WebSocket handshakes
made by this site's own pages only: another site's page neither rides on it
nor triggers ``/session`` or ``/logout`` with it) and ``Secure`` over TLS.
"""

from __future__ import annotations

from websockets.datastructures import Headers

COOKIE_NAME = "multichat_session"
# Longer than any token (43 characters); a longer value is no token of ours.
MAX_COOKIE_CHARS = 256


def session_cookie(token: str, *, secure: bool, max_age: int) -> str:
    """The ``Set-Cookie`` value that gives the browser ``token`` for ``max_age`` seconds."""
    return _cookie(token, secure=secure, max_age=max_age)


def cleared_cookie(*, secure: bool) -> str:
    """The ``Set-Cookie`` value that makes the browser drop the session cookie."""
    return _cookie("", secure=secure, max_age=0)


def _cookie(value: str, *, secure: bool, max_age: int) -> str:
    attributes = [f"{COOKIE_NAME}={value}", "HttpOnly", "SameSite=Strict", "Path=/",
                  f"Max-Age={max_age}"]
    if secure:
        attributes.append("Secure")
    return "; ".join(attributes)


def cookie_token(headers: Headers) -> str | None:
    """The token of the session cookie a request carries, if it carries one.

    Read by hand rather than with ``http.cookies``, which gives up on a whole
    header over one odd cookie another page of the same host may have set.
    """
    for header in headers.get_all("Cookie"):
        for pair in header.split(";"):
            name, sep, value = pair.strip().partition("=")
            if sep and name == COOKIE_NAME and 0 < len(value) <= MAX_COOKIE_CHARS:
                return value.strip('"')
    return None


def from_own_pages(headers: Headers) -> bool:
    """Whether a request to a cookie endpoint may come from this server's own page.

    Current browsers tell where a request comes from (``Sec-Fetch-Site``): a
    fetch by our page says ``same-origin``. Anything else (another site's link,
    form or image, even a same-site page on another port) is refused, so no
    other page can log a browser in as someone else (login CSRF) or out. A
    request without the header (an old browser, a script) has no ambient
    cookie an attacker could use; it is let through.
    """
    sites = headers.get_all("Sec-Fetch-Site")
    return not sites or sites == ["same-origin"]
