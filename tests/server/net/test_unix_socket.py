"""A real server on a real Unix socket (``--unix``): clients, the trust rule, the file.

A peer on the socket has no address, and only the local proxy the file's
mode (0660) lets in can connect: its X-Forwarded-For (or, with
--proxy-protocol, its PROXY header) names the client, whom the per-address
limits then count. On TCP the same header from a peer not trusted is still
ignored. The file: a stale one (a crashed server's) is replaced, a live
server's is not, anything else at the path is left alone, and it goes at stop.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidMessage, InvalidStatus

from multichat.server.chat.passwords import Passwords
from multichat.server.cli.settings import SettingsError, load_config
from multichat.server.net import ChatServer, ServerError
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, BOB, loopback_config, seeded_server
from tests.helpers.timing import TIMEOUT
from tests.helpers.waiting import eventually
from tests.server.net import proxy_headers
from tests.server.net.raw_handshake import logged

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets")

LIMIT = 2
URI = "ws://localhost/"  # the Host header a proxy would pass; the socket is the address


def socket_config(data_dir: Path, path: Path, **settings: Any) -> Any:
    return loopback_config(data_dir, unix=path, max_connections_per_address=LIMIT,
                           **settings)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "chat.sock"


@pytest.fixture
async def server(tmp_path: Path, path: Path, passwords: Passwords,
                 caplog: pytest.LogCaptureFixture) -> AsyncIterator[ChatServer]:
    caplog.set_level(logging.INFO)
    async with seeded_server(socket_config(tmp_path / "server", path), passwords) as chat:
        yield chat


async def open_on(path: Path, clients: list[ProtocolClient], *,
                  forwarded_for: str | None = None) -> ProtocolClient:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    client = await ProtocolClient.open(URI, unix=True, path=str(path),
                                       additional_headers=headers)
    clients.append(client)
    return client


async def refused_on(path: Path, *, forwarded_for: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await ws_connect(URI, unix=True, path=str(path), open_timeout=TIMEOUT,
                         additional_headers={"X-Forwarded-For": forwarded_for})
    return refused.value.response.status_code


def exists(path: Path) -> bool:
    return path.exists()


def write(path: Path, text: str) -> None:
    path.write_text(text)


def read(path: Path) -> str:
    return path.read_text()


# -- clients through the socket -----------------------------------------------------------------


async def test_clients_on_the_socket_chat_and_only_owner_and_group_may_connect(
    server: ChatServer, path: Path, clients: list[ProtocolClient]
) -> None:
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
    assert server.listening() == []  # no TCP port besides
    alice, bob = await open_on(path, clients), await open_on(path, clients)
    await alice.login(*ALICE)
    await bob.login(*BOB)
    await alice.join(1)
    await bob.join(1)
    await alice.send(command="send", room=1, message="over the socket")
    said = await bob.expect(lambda f: f.get("msg_type") == 0)
    assert (said["message"], said["username"]) == ("over the socket", "alice")


# -- the trust rule ----------------------------------------------------------------------------


async def test_on_the_socket_x_forwarded_for_names_the_client_the_limit_counts(
    server: ChatServer, path: Path, clients: list[ProtocolClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # What nginx's $proxy_add_x_forwarded_for makes of a client that sent its own header.
    for _ in range(LIMIT):
        await open_on(path, clients, forwarded_for="203.0.113.66, 198.51.100.9")
    assert await refused_on(path, forwarded_for="198.51.100.9") == 429
    other = await open_on(path, clients, forwarded_for="198.51.100.10")
    await other.login(*ALICE)
    await eventually(lambda: server.connections.open("198.51.100.9") == LIMIT)
    assert server.connections.open("203.0.113.66") == 0  # the client's own word
    assert logged(caplog, "alice logged in from 198.51.100.10")
    assert logged(caplog, f"refused a connection from 198.51.100.9 (via unix:{path}): too many")


@pytest.mark.parametrize("listener", ["tcp", "unix"])
async def test_the_header_from_a_tcp_peer_not_trusted_is_ignored_from_the_socket_believed(
    listener: str, tmp_path: Path, path: Path, passwords: Passwords,
    clients: list[ProtocolClient],
) -> None:
    where: dict[str, Any] = {"unix": True, "path": str(path)} if listener == "unix" else {}
    config = (socket_config(tmp_path / "server", path) if listener == "unix" else
              loopback_config(tmp_path / "server", max_connections_per_address=LIMIT,
                              limit_loopback=True))
    async with seeded_server(config, passwords) as server:
        uri = URI if listener == "unix" else f"ws://127.0.0.1:{server.port}"
        for n in range(LIMIT):
            clients.append(await ProtocolClient.open(
                uri, additional_headers={"X-Forwarded-For": f"198.51.100.{n}"}, **where))
        third = {"X-Forwarded-For": f"198.51.100.{LIMIT}"}
        if listener == "tcp":  # every one of them is 127.0.0.1, whatever it says
            with pytest.raises(InvalidStatus) as refused:
                await ws_connect(uri, open_timeout=TIMEOUT, additional_headers=third)
            assert refused.value.response.status_code == 429
            assert server.connections.open("127.0.0.1") == LIMIT
            assert server.connections.open("198.51.100.0") == 0
        else:  # each is the client its proxy names
            clients.append(await ProtocolClient.open(uri, additional_headers=third, **where))
            await eventually(lambda: all(server.connections.open(f"198.51.100.{n}") == 1
                                         for n in range(LIMIT + 1)))


async def test_a_connection_on_the_socket_that_forwards_no_address_is_counted_as_the_socket(
    server: ChatServer, path: Path, clients: list[ProtocolClient]
) -> None:
    for _ in range(LIMIT):  # a local program with no header: the proxy's own connections
        await open_on(path, clients)
    with pytest.raises(InvalidStatus) as refused:
        await ws_connect(URI, unix=True, path=str(path), open_timeout=TIMEOUT)
    assert refused.value.response.status_code == 429
    assert server.connections.open(f"unix:{path}") == LIMIT


async def test_with_the_proxy_protocol_the_sockets_peer_names_the_client_by_its_header(
    tmp_path: Path, path: Path, passwords: Passwords, clients: list[ProtocolClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    config = socket_config(tmp_path / "server", path, proxy_protocol=True)
    async with seeded_server(config, passwords) as server:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(path))
        sock.sendall(proxy_headers.v1("198.51.100.9"))  # nginx stream's proxy_protocol on
        client = ProtocolClient(await ws_connect(URI, sock=sock, open_timeout=TIMEOUT))
        clients.append(client)
        await client.login(*ALICE)
        assert logged(caplog, "alice logged in from 198.51.100.9")
        with pytest.raises(InvalidMessage):  # no header: closed, as any proxy's would be
            await ws_connect(URI, unix=True, path=str(path), open_timeout=TIMEOUT)
        assert logged(caplog, f"closed a connection from proxy unix:{path}: the connection "
                              "does not start with a PROXY header")
        assert server.connections.open(f"unix:{path}") == 0


# -- the socket file ---------------------------------------------------------------------------


async def test_a_live_servers_socket_is_kept_a_stale_one_replaced_and_ours_goes_at_stop(
    tmp_path: Path, path: Path, passwords: Passwords, clients: list[ProtocolClient],
) -> None:
    config = socket_config(tmp_path / "server", path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as other:  # another server
        other.bind(str(path))
        other.listen()
        with pytest.raises(ServerError, match=f"another server is listening on {path}"):
            await ChatServer(config, passwords=passwords).start()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.connect(str(path))  # still its socket
    assert stat.S_ISSOCK(os.lstat(path).st_mode)  # and now what a SIGKILL leaves
    async with seeded_server(config, passwords):
        client = await open_on(path, clients)
        await client.login(*ALICE)
        await client.close()
    assert not exists(path)


async def test_a_file_at_the_path_that_is_not_a_socket_is_left_alone(
    tmp_path: Path, path: Path, passwords: Passwords,
) -> None:
    write(path, "someone's notes")
    server = ChatServer(socket_config(tmp_path / "server", path), passwords=passwords)
    with pytest.raises(ServerError, match="exists and is not a socket; not removing it"):
        await server.start()
    assert read(path) == "someone's notes"


async def test_a_path_too_long_for_a_socket_is_refused_in_words(
    tmp_path: Path, passwords: Passwords,
) -> None:
    path = tmp_path / ("x" * 120) / "chat.sock"
    server = ChatServer(socket_config(tmp_path / "server", path), passwords=passwords)
    with pytest.raises(ServerError, match=r"may have at most 10\d bytes here, this one has"):
        await server.start()
    with pytest.raises(SettingsError, match=r"may have at most 10\d bytes"):
        load_config({"unix": str(path)}, {})


async def test_a_socket_with_tls_is_refused_it_is_the_proxys_to_terminate(
    tmp_path: Path, path: Path, passwords: Passwords,
) -> None:
    server = ChatServer(socket_config(tmp_path / "server", path, tls=True), passwords=passwords)
    with pytest.raises(ServerError, match="terminates TLS"):
        await server.start()
    assert not exists(path)
    with pytest.raises(SettingsError, match="terminates TLS"):
        load_config({"unix": str(path), "tls": True}, {})
