"""The PROXY protocol over a real socket: a trusted proxy's header names the client.

The server trusts 127.0.0.1 and expects PROXY headers from it
(``--proxy-protocol``); 127.0.0.2 plays a peer that is not trusted. The
client's address is seen where every part of the server sees it: the
per-address limit, and the login's log line.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

from multichat.server.chat.limits import address_key
from multichat.server.chat.passwords import Passwords
from multichat.server.net import ChatServer
from multichat.server.net.peer import PROXY_HEADER_TIMEOUT
from multichat.server.net.proxy import V1_MAX_BYTES, V2_MAX_BYTES
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, loopback_config, seeded_server
from tests.helpers.timing import TIMEOUT
from tests.helpers.waiting import eventually
from tests.server.net import proxy_headers as ph
from tests.server.net.raw_handshake import assert_no_traceback, logged, request, send_raw

PROXY = "127.0.0.1"
ELSEWHERE = "127.0.0.2"
Start = Callable[..., Awaitable[ChatServer]]


@pytest.fixture
async def start(tmp_path: Path, passwords: Passwords,
                caplog: pytest.LogCaptureFixture) -> AsyncIterator[Start]:
    """Start a server trusting 127.0.0.1, two connections per address, loopback counted."""
    caplog.set_level(logging.INFO)
    async with contextlib.AsyncExitStack() as stack:
        started = 0

        async def start_server(**settings: Any) -> ChatServer:
            nonlocal started
            settings = {"trusted_proxies": PROXY, "proxy_protocol": True,
                        "max_connections_per_address": 2, "limit_loopback": True, **settings}
            started += 1
            config = loopback_config(tmp_path / f"s{started}", **settings)
            return await stack.enter_async_context(seeded_server(config, passwords))

        yield start_server


@pytest.fixture
async def server(start: Start) -> ChatServer:
    return await start()


def socket_with(port: int, header: bytes, local: str = PROXY) -> socket.socket:
    """A connection to the server that has sent ``header`` first, as a proxy does."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT,
                                    source_address=(local, 0))
    sock.sendall(header)
    return sock


async def open_behind(server: ChatServer, header: bytes, clients: list[ProtocolClient],
                      local: str = PROXY) -> ProtocolClient:
    client = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}",
                                       sock=socket_with(server.port, header, local))
    clients.append(client)
    return client


async def refused_behind(server: ChatServer, header: bytes) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await ws_connect(f"ws://127.0.0.1:{server.port}", open_timeout=TIMEOUT,
                         sock=socket_with(server.port, header))
    return refused.value.response.status_code


@pytest.mark.parametrize("make", [ph.v1, ph.v2], ids=["v1", "v2"])
@pytest.mark.parametrize(("first", "second"), [("203.0.113.7", "203.0.113.8"),
                                               ("2001:db8::7", "2001:db8:1::8")])
async def test_the_limit_and_the_login_see_the_address_in_a_trusted_proxys_header(
    server: ChatServer, clients: list[ProtocolClient], caplog: pytest.LogCaptureFixture,
    make: Callable[[str], bytes], first: str, second: str,
) -> None:
    for _ in range(2):
        await open_behind(server, make(first), clients)
    assert await refused_behind(server, make(first)) == 429
    other = await open_behind(server, make(second), clients)  # the same proxy, another client
    await other.login(*ALICE)
    assert logged(caplog, f"alice logged in from {second}")
    await eventually(lambda: server.connections.open(address_key(first)) == 2)  # IPv6: /64
    assert server.connections.open(PROXY) == 0
    assert_no_traceback(caplog)


@pytest.mark.parametrize("header", [ph.v2(None, command=ph.LOCAL), b"PROXY UNKNOWN\r\n"],
                         ids=["v2-local", "v1-unknown"])
async def test_a_header_without_a_client_keeps_the_proxys_address(
    server: ChatServer, clients: list[ProtocolClient], header: bytes
) -> None:
    client = await open_behind(server, header, clients)
    await client.login(*ALICE)
    assert server.connections.open(PROXY) == 1


@pytest.mark.parametrize("data", [
    request(),  # no header: the proxy is not configured to send one
    b"PROXY TCP4 203.0.113.7 127.0.0.1 51000\r\n" + request(),
    b"PROXY " + b"9" * V1_MAX_BYTES,
    ph.V2_SIGNATURE + bytes([ph.PROXY, ph.TCP4]) + (V2_MAX_BYTES).to_bytes(2, "big"),
    ph.V2_SIGNATURE + bytes([0x31, ph.TCP4]) + (12).to_bytes(2, "big") + b"\0" * 12,
], ids=["none", "v1-short", "v1-long", "v2-long", "v2-version"])
async def test_a_bad_or_missing_header_from_the_proxy_is_cut_off_without_a_traceback(
    server: ChatServer, caplog: pytest.LogCaptureFixture, data: bytes
) -> None:
    answer = await send_raw(server.port, data)
    assert answer.status is None  # closed, nothing answered
    assert logged(caplog, "closed a connection from proxy 127.0.0.1: ")
    assert server.connections.open(PROXY) == 0
    assert_no_traceback(caplog)


async def test_a_half_sent_header_is_cut_off_within_the_header_time_limit(
    server: ChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await send_raw(server.port, b"PROXY TCP4 203.0.113.7 127.0.0.1 5")
    assert answer.status is None
    assert logged(caplog, f"no complete PROXY header within {PROXY_HEADER_TIMEOUT:g} s")
    assert_no_traceback(caplog)


async def test_a_proxy_header_from_a_peer_not_trusted_is_refused(
    server: ChatServer, clients: list[ProtocolClient], caplog: pytest.LogCaptureFixture
) -> None:
    answer = await send_raw(server.port, ph.v1("203.0.113.7") + request(), local=ELSEWHERE)
    assert answer.status is None
    assert logged(caplog, "refused a PROXY header from 127.0.0.2, which is not in "
                          "--trusted-proxies")
    assert server.connections.open("203.0.113.7") == 0
    # Without a header it connects, as itself: peers not trusted are ordinary clients.
    client = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}",
                                       local_addr=(ELSEWHERE, 0))
    clients.append(client)
    await client.login(*ALICE)
    assert logged(caplog, "alice logged in from 127.0.0.2")


async def test_a_client_behind_the_proxy_cannot_add_a_header_of_its_own(
    server: ChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await send_raw(server.port, ph.v2("198.51.100.1") + ph.v1("203.0.113.7") + request())
    assert answer.status is None
    assert logged(caplog, "refused a second PROXY header from 198.51.100.1 (via proxy 127.0.0.1)")
    assert server.connections.open("203.0.113.7") == 0


async def test_without_proxy_protocol_a_trusted_proxys_header_is_refused(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start(proxy_protocol=False)
    answer = await send_raw(server.port, ph.v1("203.0.113.7") + request())
    assert answer.status is None
    assert logged(caplog, "refused a PROXY header from 127.0.0.1: --proxy-protocol is off")
