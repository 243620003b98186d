"""The opening handshake over a real socket: malformed headers, and X-Forwarded-For.

A handshake we cannot make sense of gets a 4xx with a one-line reason and
leaves no traceback in the log. Behind a trusted proxy (``--trusted-proxies``
without ``--proxy-protocol``) the client's address is the right-most
X-Forwarded-For entry that is not a proxy of ours; from anyone else the
header is ignored.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

from multichat.server.chat.passwords import Passwords
from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, loopback_config, seeded_server
from tests.helpers.timing import TIMEOUT
from tests.helpers.waiting import eventually
from tests.server.net.raw_handshake import (
    HANDSHAKE,
    assert_no_traceback,
    logged,
    request,
    send_raw,
)

PROXY = "127.0.0.1"  # the trusted proxy; clients elsewhere on loopback are not trusted
ELSEWHERE = "127.0.0.2"


@pytest.fixture
async def server(tmp_path: Path, passwords: Passwords,
                 caplog: pytest.LogCaptureFixture) -> AsyncIterator[ChatServer]:
    caplog.set_level(logging.INFO)
    config = loopback_config(tmp_path / "server", trusted_proxies=PROXY,
                             max_connections_per_address=2, limit_loopback=True,
                             allowed_origins="https://chat.example.com")
    async with seeded_server(config, passwords) as chat_server:
        yield chat_server


async def open_client(server: ChatServer, clients: list[ProtocolClient], *,
                      local: str = PROXY, forwarded_for: str | None = None) -> ProtocolClient:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    client = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}",
                                       additional_headers=headers, local_addr=(local, 0))
    clients.append(client)
    return client


async def refused_status(server: ChatServer, *, local: str = PROXY,
                         forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    with pytest.raises(InvalidStatus) as refused:
        await ws_connect(f"ws://127.0.0.1:{server.port}", open_timeout=TIMEOUT,
                         additional_headers=headers, local_addr=(local, 0))
    return refused.value.response.status_code


# -- malformed headers ------------------------------------------------------------------------


async def test_two_origin_headers_get_a_400_with_a_reason_and_no_traceback(
    server: ChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    twice = [*HANDSHAKE, ("Origin", "https://chat.example.com"),
             ("Origin", "https://chat.example.com")]
    answer = await send_raw(server.port, request(twice))
    assert (answer.status, answer.body) == (400, b"more than one Origin header\n")
    assert logged(caplog, "refused a connection from 127.0.0.1: more than one Origin header")
    assert_no_traceback(caplog)


@pytest.mark.parametrize("name", ["Origin", "Host", "Upgrade", "Connection", "Sec-WebSocket-Key",
                                  "Sec-WebSocket-Version", "Sec-WebSocket-Extensions",
                                  "Sec-WebSocket-Protocol", "X-Forwarded-For"])
@pytest.mark.parametrize("local", [PROXY, ELSEWHERE])
async def test_any_handshake_header_twice_is_answered_without_a_server_error(
    server: ChatServer, caplog: pytest.LogCaptureFixture, name: str, local: str
) -> None:
    value = dict(HANDSHAKE).get(name) or {"Origin": "https://chat.example.com",
                                          "Sec-WebSocket-Extensions": "permessage-deflate",
                                          "Sec-WebSocket-Protocol": "chat",
                                          "X-Forwarded-For": "198.51.100.9"}[name]
    headers = [*HANDSHAKE, (name, value)] if name in dict(HANDSHAKE) else [
        *HANDSHAKE, (name, value), (name, value)]
    answer = await send_raw(server.port, request(headers), local=local)
    assert answer.status is not None and (answer.status == 101 or 400 <= answer.status < 500)
    assert_no_traceback(caplog)


HEADER_NAMES = ["Origin", "X-Forwarded-For", "Host", "Upgrade", "Connection",
                "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions"]
# What an HTTP header value may hold (websockets refuses the rest before us): tab,
# printable ASCII, and bytes 0x80-0xFF, read as Latin-1.
VALUE = st.text(st.sampled_from(["\t", *map(chr, range(0x20, 0x7F)),
                                 *map(chr, range(0x80, 0x100))]), max_size=40)
ODD_VALUES = st.sampled_from(["", ",", "null", "198.51.100.9", "198.51.100.9, 10.0.0.1",
                              "127.0.0.1", "[::1]:80", "https://chat.example.com", "13",
                              "websocket", "Upgrade", "permessage-deflate; x=1"])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(extra=st.lists(st.tuples(st.sampled_from(HEADER_NAMES), VALUE | ODD_VALUES),
                      max_size=6),
       keep=st.lists(st.booleans(), min_size=len(HANDSHAKE), max_size=len(HANDSHAKE)),
       trusted=st.booleans())
async def test_no_mix_of_handshake_headers_makes_a_server_error(
    server: ChatServer, caplog: pytest.LogCaptureFixture,
    extra: list[tuple[str, str]], keep: list[bool], trusted: bool,
) -> None:
    headers = [header for header, kept in zip(HANDSHAKE, keep, strict=True) if kept] + extra
    answer = await send_raw(server.port, request(headers), local=PROXY if trusted else ELSEWHERE)
    # 200: a GET that asks for no WebSocket (no Upgrade) gets the browser client's page.
    assert answer.status is not None and (answer.status in (101, 200)
                                          or 400 <= answer.status < 500)
    assert answer.status in (101, 200) or answer.body.count(b"\n") <= 4
    assert_no_traceback(caplog)


# -- X-Forwarded-For ---------------------------------------------------------------------------


async def test_behind_a_trusted_proxy_the_limit_counts_the_forwarded_client(
    server: ChatServer, clients: list[ProtocolClient], caplog: pytest.LogCaptureFixture
) -> None:
    # What nginx's $proxy_add_x_forwarded_for makes of a client that sent its own header.
    for _ in range(2):
        await open_client(server, clients, forwarded_for="203.0.113.66, 198.51.100.9")
    assert await refused_status(server, forwarded_for="198.51.100.9") == 429
    other = await open_client(server, clients, forwarded_for="198.51.100.10")
    await other.login(*ALICE)
    await eventually(lambda: server.connections.open("198.51.100.9") == 2)
    assert server.connections.open("203.0.113.66") == 0  # the client's own word, not believed
    assert logged(caplog, "alice logged in from 198.51.100.10")
    assert logged(caplog, "refused a connection from 198.51.100.9 (via 127.0.0.1): too many")


async def test_x_forwarded_for_from_a_peer_not_trusted_is_ignored(
    server: ChatServer, clients: list[ProtocolClient]
) -> None:
    for n in range(2):
        await open_client(server, clients, local=ELSEWHERE, forwarded_for=f"198.51.100.{n}")
    assert await refused_status(server, local=ELSEWHERE, forwarded_for="198.51.100.7") == 429
    await eventually(lambda: server.connections.open(ELSEWHERE) == 2)
    assert server.connections.open("198.51.100.0") == 0


async def test_a_malformed_x_forwarded_for_from_a_trusted_proxy_gets_a_400(
    server: ChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await send_raw(server.port, request(
        [*HANDSHAKE, ("X-Forwarded-For", "198.51.100.9, unknown")]))
    assert answer.status == 400
    assert answer.body == (b"X-Forwarded-For entry 'unknown' from proxy 127.0.0.1 "
                           b"is not an address\n")
    assert_no_traceback(caplog)
