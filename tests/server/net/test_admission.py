"""Limits on who may connect and how much one user or connection may do, over real sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

from multichat.server.chat.limits import AddressCounter, address_key
from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from multichat.server.net.admission import exempt_from_limit
from tests.conftest import ALICE, STAFF, ClientFactory, seed_accounts
from tests.helpers.client import ProtocolClient
from tests.helpers.timing import TIMEOUT
from tests.helpers.waiting import eventually

LOBBY, STAFF_ROOM = 1, 2


@pytest.fixture
def server_config(tmp_path: Path) -> ServerConfig:
    return ServerConfig(
        host="127.0.0.1", port=0, data_dir=tmp_path / "server", advertise=False,
        # Per connection: plenty. Per user: 3 sends, then (in practice) none.
        send_burst=1000, send_rate=1000.0, user_send_burst=3, user_send_rate=0.001,
        max_connections_per_address=2, limit_loopback=True, max_rooms_per_connection=1,
        allowed_origins="https://chat.example.com, http://localhost:8000",
    )


async def refused_status(url: str, **kwargs: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await ws_connect(url, open_timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]
    return refused.value.response.status_code


async def test_a_user_cannot_send_faster_by_opening_more_connections(
    connect: ClientFactory,
) -> None:
    first, second = await connect(ALICE), await connect(ALICE)
    for client in (first, second):
        await client.join(LOBBY)
    for n, client in enumerate((first, second, first)):
        await client.send(command="send", room=1, message=f"m{n}", client_id=f"c{n}")
        cid = f"c{n}"
        await client.expect(lambda f: f.get("client_id") == cid)  # noqa: B023 (awaited here)
    await second.send(command="send", room=1, message="m3", ref="r")
    refused = await second.expect_key("error")
    assert refused["error"] == "RATE_LIMITED" and refused["ref"] == "r"
    assert "connections together" in refused["detail"]


async def test_rooms_per_connection_are_limited_and_a_leave_makes_room(
    connect: ClientFactory,
) -> None:
    staff = await connect(STAFF)
    await staff.join(LOBBY)
    await staff.send(command="join", room=STAFF_ROOM, ref="j")
    refused = await staff.expect_key("error")
    assert refused["error"] == "LIMIT_REACHED" and refused["ref"] == "j"
    assert "at most 1 open room(s)" in refused["detail"]
    assert (await staff.join(LOBBY))["members"] == "1"  # joining an open room again is no more
    await staff.send(command="leave", room=LOBBY)
    await staff.expect_key("leave")
    assert (await staff.join(STAFF_ROOM))["members"] == "2"


async def test_connections_per_address_are_limited_at_the_handshake(
    server: ChatServer, connect: ClientFactory
) -> None:
    url = f"ws://127.0.0.1:{server.port}"
    first = await connect()
    await connect()
    assert await refused_status(url) == 429
    await first.close()
    await eventually(lambda: server.connections.open("127.0.0.1") == 1)
    third = await connect(ALICE)  # a closed connection frees its place
    assert "login" in third.seen[-1]


@pytest.mark.parametrize("origin", ["https://evil.example", "https://chat.example.com.evil.io",
                                    "null"])
async def test_a_browser_page_not_on_the_allow_list_is_refused(
    server: ChatServer, origin: str
) -> None:
    assert await refused_status(f"ws://127.0.0.1:{server.port}", origin=origin) == 403
    assert server.connections.open("127.0.0.1") == 0


@pytest.mark.parametrize("origin", ["https://chat.example.com", "HTTP://LOCALHOST:8000", None])
async def test_allowed_pages_and_clients_without_origin_connect(
    server: ChatServer, origin: str | None
) -> None:
    client = ProtocolClient(await ws_connect(f"ws://127.0.0.1:{server.port}",
                                             open_timeout=TIMEOUT, origin=origin))  # type: ignore[arg-type]
    try:
        assert "login" in await client.login(*ALICE)
    finally:
        await client.close()


async def test_star_allows_any_page(tmp_path: Path, passwords: Passwords) -> None:
    config = ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "s", advertise=False,
                          allowed_origins="*")
    async with ChatServer(config, passwords=passwords) as server:
        assert server.store is not None
        seed_accounts(server.store, passwords)
        connection = await ws_connect(f"ws://127.0.0.1:{server.port}", open_timeout=TIMEOUT,
                                      origin="https://anywhere.example")  # type: ignore[arg-type]
        await connection.close()


@pytest.fixture
async def default_server(tmp_path: Path, passwords: Passwords) -> AsyncIterator[ChatServer]:
    config = ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "d", advertise=False)
    async with ChatServer(config, passwords=passwords) as server:
        yield server


async def test_by_default_no_web_page_may_connect(default_server: ChatServer) -> None:
    url = f"ws://127.0.0.1:{default_server.port}"
    assert await refused_status(url, origin="http://localhost:8000") == 403
    connection = await ws_connect(url, open_timeout=TIMEOUT)  # the app sends no Origin
    await connection.close()


async def test_by_default_loopback_clients_are_not_limited(default_server: ChatServer) -> None:
    """A test suite or a benchmark on this machine holds more than 32 connections."""
    url = f"ws://127.0.0.1:{default_server.port}"
    opened = []
    try:
        for _ in range(45):
            opened.append(await ws_connect(url, open_timeout=TIMEOUT))
        await eventually(lambda: default_server.connections.open("127.0.0.1") == 45)
    finally:
        for connection in opened:
            await connection.close()


@pytest.mark.parametrize("address", ["203.0.113.5", "192.168.1.20", "2001:db8::5",
                                     "::ffff:203.0.113.5", "unknown"])
def test_other_addresses_are_limited_by_default(address: str) -> None:
    counter = AddressCounter(2)
    exempt = exempt_from_limit(address, address, limit_loopback=False)
    assert [counter.admit(address, exempt=exempt) for _ in range(3)] == [True, True, False]
    counter.release(address)
    assert counter.admit(address, exempt=exempt)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "127.255.0.9", "::1",
                                     "::ffff:127.0.0.1"])
def test_loopback_addresses_are_counted_and_limited_only_when_asked(address: str) -> None:
    free = AddressCounter(2)
    exempt = exempt_from_limit(address, address, limit_loopback=False)
    assert all(free.admit(address, exempt=exempt) for _ in range(40))
    assert free.open(address) == 40
    assert not exempt_from_limit(address, address, limit_loopback=True)


def test_a_loopback_address_a_proxy_reports_is_not_exempt() -> None:
    """A client behind a trusted proxy may write 127.0.0.1 into X-Forwarded-For; a
    trusted proxy on this machine that forwards no address gives all its clients its own."""
    assert not exempt_from_limit("127.0.0.1", "10.0.0.2", limit_loopback=False)
    assert not exempt_from_limit("127.0.0.1", "127.0.0.1", limit_loopback=False,
                                 peer_is_proxy=True)


@pytest.mark.parametrize(("address", "key"), [
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.5", "203.0.113.5"),
    ("203.0.113.5", "203.0.113.5"),
    ("unknown", "unknown"),
])
def test_an_ipv6_client_is_counted_by_its_64(address: str, key: str) -> None:
    """Rotating through a /64 (privacy addresses) escapes no per-address limit."""
    assert address_key(address) == key
