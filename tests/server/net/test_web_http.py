"""The plain HTTP side of the server's port: the page, /session, /logout, the cookie login."""

from __future__ import annotations

import asyncio
import http.client
from http import HTTPStatus

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from multichat.server.net import ChatServer
from multichat.server.net.admission import own_origin
from multichat.server.net.http import CONTENT_SECURITY_POLICY
from multichat.server.net.web_session import cookie_token
from tests.conftest import ClientFactory
from tests.helpers.servers import ALICE

NAMES = frozenset({"localhost", "myhost", "myhost.local"})


async def get(server: ChatServer, path: str, **headers: str) -> http.client.HTTPResponse:
    def fetch() -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response

    return await asyncio.to_thread(fetch)


async def ticket_for(connect: ClientFactory) -> str:
    alice = await connect(ALICE)
    token = alice.seen[-1]["login"]["token"]
    reply = await alice.request(command="session.ticket", token=token)
    return str(reply["session.ticket"])


async def test_the_page_its_files_and_404_carry_the_headers(server: ChatServer) -> None:
    page = await get(server, "/")
    assert page.status == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    for response in (page, await get(server, "/style.css"), await get(server, "/x/../etc")):
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert (await get(server, "/x/../etc")).status == 404
    assert (await get(server, "/index.html")).status == 404  # one address per file


async def test_a_ticket_buys_the_cookie_once(server: ChatServer, connect: ClientFactory) -> None:
    ticket = await ticket_for(connect)
    first = await get(server, f"/session?ticket={ticket}", **{"Sec-Fetch-Site": "same-origin"})
    assert first.status == HTTPStatus.NO_CONTENT
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain ws:
    assert first.headers["Cache-Control"] == "no-store"
    replayed = await get(server, f"/session?ticket={ticket}")
    assert replayed.status == HTTPStatus.FORBIDDEN and replayed.headers["Set-Cookie"] is None


async def test_another_sites_request_spends_no_ticket(
    server: ChatServer, connect: ClientFactory
) -> None:
    ticket = await ticket_for(connect)
    for site in ("cross-site", "same-site", "none"):
        refused = await get(server, f"/session?ticket={ticket}", **{"Sec-Fetch-Site": site})
        assert refused.status == HTTPStatus.FORBIDDEN and refused.headers["Set-Cookie"] is None
        logout = await get(server, "/logout", **{"Sec-Fetch-Site": site})
        assert logout.status == HTTPStatus.FORBIDDEN and logout.headers["Set-Cookie"] is None
    assert (await get(server, f"/session?ticket={ticket}")).status == HTTPStatus.NO_CONTENT
    cleared = await get(server, "/logout", **{"Sec-Fetch-Site": "same-origin"})
    assert "Max-Age=0" in cleared.headers["Set-Cookie"]


async def test_a_handshake_with_the_cookie_is_logged_in_without_the_token_echoed(
    server: ChatServer, connect: ClientFactory
) -> None:
    ticket = await ticket_for(connect)
    response = await get(server, f"/session?ticket={ticket}")
    pair = response.headers["Set-Cookie"].split(";")[0]
    async with connect_with(server, Cookie=f"other=1; {pair}") as ws:
        first = await asyncio.wait_for(ws.recv(), 10)
        assert '"login":{"username":"alice"' in first and "token" not in first
    async with connect_with(server, Cookie="multichat_session=not-a-token") as ws:
        assert '"LOGIN_FAILED"' in await asyncio.wait_for(ws.recv(), 10)


def connect_with(server: ChatServer, **headers: str) -> connect:
    return connect(f"ws://127.0.0.1:{server.port}/chat/stream/", additional_headers=headers,
                   open_timeout=10)


async def test_the_own_page_is_an_allowed_origin_only_at_a_host_rebinding_cannot_forge(
    server: ChatServer,
) -> None:
    port = server.port
    async with connect(f"ws://127.0.0.1:{port}/", origin=Origin(f"http://127.0.0.1:{port}"),
                       open_timeout=10):
        pass
    # An attacker's name rebound to this server: its Origin matches its Host, refused.
    for host, origin in ((f"evil.example:{port}", f"http://evil.example:{port}"),
                         (f"127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}")):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{port}/", origin=Origin(origin),
                               additional_headers={"Host": host}, open_timeout=10):
                pass
        assert refused.value.response.status_code == 403


def test_own_origin_is_the_scheme_and_host_of_a_name_that_cannot_be_rebound() -> None:
    assert own_origin(["127.0.0.1:8765"], tls=False, names=NAMES) == "http://127.0.0.1:8765"
    assert own_origin(["[::1]:8765"], tls=True, names=NAMES) == "https://[::1]:8765"
    assert own_origin(["MyHost.local:8765"], tls=False, names=NAMES) == "http://myhost.local:8765"
    for bad in (["evil.example:8765"], [], ["a", "b"], ["x@127.0.0.1"], ["127.0.0.1/x"],
                ["[::1"]):
        assert own_origin(bad, tls=False, names=NAMES) is None


def test_the_cookie_is_read_among_others_and_bounded() -> None:
    from websockets.datastructures import Headers

    assert cookie_token(Headers([("Cookie", "a=1; multichat_session=abc; b=2")])) == "abc"
    assert cookie_token(Headers([("Cookie", "multichat_session=" + "x" * 300)])) is None
    assert cookie_token(Headers()) is None
