"""A browser login across two server processes on one database: the page's WebSocket
logs in on one process, its GET /session reaches the other (a load balancer without
sticky sessions), and the cookie it gets logs in on both. Once only, on either.

Real parts only: two ``multichat serve`` processes sharing a SQLite file, then sharing
a PostgreSQL and a Redis (tests/helpers/services.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.helpers.client import ProtocolClient
from tests.helpers.process import ServerProcess, run_cli
from tests.helpers.services import RedisService
from tests.helpers.timing import TIMEOUT

pytestmark = pytest.mark.slow

Pair = tuple[ServerProcess, ServerProcess]


def add_alice(home: Path, *where: str) -> None:
    result = run_cli(["admin", *where, "user", "add", "alice"], home, stdin="alice-password\n")
    assert result.returncode == 0, result.stderr


@contextlib.asynccontextmanager
async def two_servers(start: Callable[[], ServerProcess]) -> AsyncIterator[Pair]:
    servers: list[ServerProcess] = []
    try:
        servers.append(start())
        servers.append(start())
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.kill()


async def get_session(server: ServerProcess, ticket: str) -> http.client.HTTPResponse:
    def fetch() -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
        conn.request("GET", f"/session?ticket={ticket}", headers={"Sec-Fetch-Site": "same-origin"})
        response = conn.getresponse()
        response.body = response.read()  # type: ignore[attr-defined]
        conn.close()
        return response

    return await asyncio.to_thread(fetch)


async def cookie_login(server: ServerProcess, cookie: str) -> str:
    async with connect(server.url + "/", additional_headers={"Cookie": cookie},
                       open_timeout=TIMEOUT) as ws:
        first = await asyncio.wait_for(ws.recv(), TIMEOUT)
    return first if isinstance(first, str) else first.decode()


async def check_a_ticket_from_one_process_is_redeemed_once_by_the_other(pair: Pair) -> None:
    a, b = pair
    page = await ProtocolClient.open(a.url + "/")
    try:
        token = (await page.login("alice", "alice-password"))["login"]["token"]
        tickets = []
        for _ in range(2):
            reply = await page.request(command="session.ticket", token=token)
            tickets.append(str(reply["session.ticket"]))
    finally:
        await page.close()
    unknown = await get_session(a, "0" * 43)
    assert unknown.status == HTTPStatus.FORBIDDEN
    redeemed = await get_session(b, tickets[0])  # the other process than the WebSocket's
    assert redeemed.status == HTTPStatus.NO_CONTENT, redeemed.body  # type: ignore[attr-defined]
    pair_ = redeemed.headers["Set-Cookie"].split(";")[0]
    assert pair_.startswith("multichat_session=") and "HttpOnly" in redeemed.headers["Set-Cookie"]
    for server in (a, b):  # replayed on either: the same refusal as an unknown ticket
        again = await get_session(server, tickets[0])
        assert again.status == unknown.status and again.headers["Set-Cookie"] is None
        assert again.body == unknown.body  # type: ignore[attr-defined]
    for server in (a, b):
        assert '"login":{"username":"alice"' in await cookie_login(server, pair_)
    # Both processes redeeming one ticket at once: exactly one cookie.
    both = await asyncio.gather(get_session(a, tickets[1]), get_session(b, tickets[1]))
    assert sorted(r.status for r in both) == [HTTPStatus.NO_CONTENT, HTTPStatus.FORBIDDEN]


async def test_on_a_shared_sqlite_file(tmp_path: Path) -> None:
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    add_alice(home, "--data-dir", str(data))
    async with two_servers(lambda: ServerProcess(data, home)) as pair:
        await check_a_ticket_from_one_process_is_redeemed_once_by_the_other(pair)


async def test_on_postgresql_and_redis(tmp_path: Path, postgres_url: str,
                                       redis_service: RedisService) -> None:
    home = tmp_path / "home"
    home.mkdir()
    add_alice(home, "--database", postgres_url)
    async with two_servers(lambda: ServerProcess(
            home / "unused", home, "--database", postgres_url, "--broker", redis_service.url,
    )) as pair:
        await check_a_ticket_from_one_process_is_redeemed_once_by_the_other(pair)
