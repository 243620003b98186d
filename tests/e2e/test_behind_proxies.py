"""Behind the documented nginx and HAProxy, each client is counted by its own address.

One ``multichat serve`` on SQLite with the settings docs/operations.md gives it
behind each proxy (``MULTICHAT_TRUSTED_PROXIES=127.0.0.1``, and
``MULTICHAT_PROXY_PROTOCOL=true`` behind nginx ``stream`` and HAProxy), plus
``--max-connections-per-address 2 --limit-loopback`` so that clients on
loopback are counted. The proxy runs its documented config as it is, its three
upstreams all pointing at this one process. Clients connect from 127.0.0.2
and 127.0.0.3 (the source address bound): to the server, two people behind one
proxy at 127.0.0.1.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

from tests.helpers.client import ProtocolClient
from tests.helpers.process import ServerProcess, run_cli
from tests.helpers.services import BEHIND_PROXY, PROXY_KINDS, ProxyService, documented_proxy
from tests.helpers.timing import TIMEOUT
from tests.helpers.waiting import eventually
from tests.server.net import proxy_headers
from tests.server.net.raw_handshake import request, send_raw

pytestmark = pytest.mark.slow

FIRST, SECOND = "127.0.0.2", "127.0.0.3"  # two clients behind the proxy
LIMIT = 2
FORGED = "203.0.113.66"  # an address a client claims for itself
MAX_GUESSES = 40  # failed logins after which some lock-out must have started


@dataclass
class Deployment:
    kind: str
    server: ServerProcess
    proxy: ProxyService
    clients: list[ProtocolClient] = field(default_factory=list)

    @property
    def via(self) -> str:
        """The proxy's name in the server's log: its address, or the server's socket."""
        return f"unix:{self.server.unix}" if self.server.unix else "127.0.0.1"

    def url(self, *, direct: bool = False) -> str:
        return self.server.url if direct else f"ws://127.0.0.1:{self.proxy.port}"

    async def open(self, local: str, *, direct: bool = False,
                   headers: dict[str, str] | None = None) -> ProtocolClient:
        client = await ProtocolClient.open(self.url(direct=direct), local_addr=(local, 0),
                                           additional_headers=headers or {})
        self.clients.append(client)
        return client

    async def refused(self, local: str, *, direct: bool = False,
                      headers: dict[str, str] | None = None) -> int:
        with pytest.raises(InvalidStatus) as refused:
            await ws_connect(self.url(direct=direct), open_timeout=TIMEOUT,
                             local_addr=(local, 0), additional_headers=headers or {})
        return refused.value.response.status_code

    async def logged(self, text: str) -> str:
        """Wait until the server's log holds ``text``; return the log."""
        await eventually(lambda: text in "".join(self.server.output))
        return "".join(self.server.output)


@pytest.fixture
def accounts(tmp_path: Path) -> tuple[Path, Path]:
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    for user in ("alice", "bob"):
        result = run_cli(["admin", "--data-dir", str(data), "user", "add", user], home,
                         stdin=f"{user}-password\n")
        assert result.returncode == 0, result.stderr
    return home, data


# "http-unix": the nginx http block with the documented upstream of Unix sockets, in
# front of ``serve --unix`` (no --trusted-proxies: the socket's peer is the proxy).
@pytest.fixture(params=[*PROXY_KINDS, "http-unix"])
async def deployment(request: pytest.FixtureRequest, tmp_path: Path,
                     accounts: tuple[Path, Path]) -> AsyncIterator[Deployment]:
    kind: str = request.param
    home, data = accounts
    unix = tmp_path / "8801.sock" if kind == "http-unix" else None
    server = ServerProcess(data, home, "--max-connections-per-address", str(LIMIT),
                           "--limit-loopback", env=BEHIND_PROXY.get(kind, {}), unix=unix)
    try:
        upstreams: list[int | Path] = [unix] * 3 if unix else [server.port] * 3
        proxy = documented_proxy(kind.removesuffix("-unix"), tmp_path / kind, upstreams)
        proxy.start()
        deployment = Deployment(kind, server, proxy)
        try:
            yield deployment
        finally:
            for client in deployment.clients:
                with contextlib.suppress(Exception):
                    await client.close()
            proxy.stop()
    finally:
        server.kill()


async def test_each_client_behind_the_proxy_is_counted_by_its_own_address(
    deployment: Deployment,
) -> None:
    for _ in range(LIMIT):
        await deployment.open(FIRST)
    assert await deployment.refused(FIRST) == 429
    other = await deployment.open(SECOND)  # the same proxy, another person
    await other.login("alice", "alice-password")
    log = await deployment.logged("alice logged in from 127.0.0.3")
    assert (f"refused a connection from 127.0.0.2 (via {deployment.via}): too many connections"
            in log)


async def test_an_address_a_client_claims_for_itself_is_not_believed(
    deployment: Deployment,
) -> None:
    for _ in range(LIMIT):
        await deployment.open(FIRST)
    # Its own X-Forwarded-For through the proxy: nginx http appends the address it
    # saw; the TCP proxies pass it on untouched to servers that read PROXY headers only.
    assert await deployment.refused(FIRST, headers={"X-Forwarded-For": FORGED}) == 429
    # Its own PROXY header through the proxy.
    forged_header = proxy_headers.v1(FORGED) + request()
    answer = await send_raw(deployment.proxy.port, forged_header, local=FIRST)
    assert answer.status != 101  # nginx http: its own 400; TCP proxies: closed by the server
    if deployment.kind not in ("http", "http-unix"):
        await deployment.logged("refused a second PROXY header from 127.0.0.2 "
                                "(via proxy 127.0.0.1)")
    await deployment.open(SECOND)  # the other client is not affected
    if deployment.kind == "http-unix":  # the socket's only peer is the proxy (its mode)
        assert FORGED not in "".join(deployment.server.output)
        return
    # Straight to the server, from a peer that is not a trusted proxy.
    assert await deployment.refused(FIRST, direct=True,
                                    headers={"X-Forwarded-For": FORGED}) == 429
    answer = await send_raw(deployment.server.port, forged_header, local=FIRST)
    assert answer.status is None
    await deployment.logged("refused a PROXY header from 127.0.0.2, which is not in "
                            "--trusted-proxies")
    assert FORGED not in "".join(deployment.server.output)


async def test_failed_logins_lock_out_the_guessers_address_not_the_proxys(
    deployment: Deployment,
) -> None:
    guesser = await deployment.open(FIRST)
    for _ in range(MAX_GUESSES):  # guessing alice's password from one address
        reply = await guesser.request(command="login", username="alice", password="guess")
        if reply.get("error") == "RATE_LIMITED":
            break
        assert reply.get("error") == "LOGIN_FAILED", reply
    else:
        pytest.fail(f"{MAX_GUESSES} failed logins from one address and no lock-out")
    reply = await guesser.request(command="login", username="alice", password="alice-password")
    assert reply.get("error") == "RATE_LIMITED", reply  # the guesser's address is locked out
    owner = await deployment.open(SECOND)  # someone else behind the same proxy is not
    await owner.login("alice", "alice-password")
    await deployment.logged("alice logged in from 127.0.0.3")
