"""``multichat serve`` as a real process: a round trip, admin changes seen live, clean stops."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import pytest

from tests.helpers.client import ProtocolClient
from tests.helpers.process import ServerProcess, run_cli
from tests.helpers.waiting import eventually

pytestmark = pytest.mark.slow


def admin(data_dir: Path, home: Path, *args: str, stdin: str | None = None) -> None:
    result = run_cli(["admin", "--data-dir", str(data_dir), *args], home, stdin=stdin)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def seeded(data_dir: Path, home: Path) -> Path:
    admin(data_dir, home, "user", "add", "alice", stdin="alice-password\n")
    admin(data_dir, home, "user", "add", "bob", stdin="bob-password\n")
    admin(data_dir, home, "room", "add", "Lobby")
    return data_dir


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_serve_round_trip_then_a_clean_stop(
    seeded: Path, home: Path, signum: signal.Signals
) -> None:
    server = ServerProcess(seeded, home)
    try:
        assert "Multichat" in server.log() or server.port > 0
        alice = await ProtocolClient.open(server.url + "/chat/stream/")
        bob = await ProtocolClient.open(server.url)
        await alice.login("alice", "alice-password")
        await bob.login("bob", "bob-password")
        await alice.join(1)
        await bob.join(1)
        await bob.send(command="send", room=1, message="over the wire", client_id="w1")
        event = await alice.expect(lambda f: f.get("msg_type") == 0)
        assert (event["message"], event["seq"], event["username"]) == ("over the wire", 1, "bob")
        assert await asyncio.to_thread(server.signal, signum) == 0
        assert await alice.closed() == 1001
        assert await bob.closed() == 1001
        log = server.log()
    finally:
        server.kill()
    assert "listening on 127.0.0.1:" in log
    assert "Traceback" not in log


async def test_admin_changes_reach_a_running_server(seeded: Path, home: Path) -> None:
    server = ServerProcess(seeded, home, "--poll-interval", "0.2")
    try:
        alice = await ProtocolClient.open(server.url)
        await alice.login("alice", "alice-password")
        bob = await ProtocolClient.open(server.url)
        await bob.login("bob", "bob-password")
        await asyncio.to_thread(admin, seeded, home, "room", "add", "Garden")
        pushed = await alice.expect_key("rooms")
        assert [room["title"] for room in pushed["rooms"]] == ["Garden", "Lobby"]
        await asyncio.to_thread(admin, seeded, home, "user", "delete", "bob")
        assert await bob.closed() == 4001
        assert await alice.request(command="ping") == {"pong": True}
        await alice.close()
    finally:
        server.kill()


def test_a_port_in_use_is_one_line(seeded: Path, home: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(["serve", "--host", "127.0.0.1", "--port", str(port),
                          "--data-dir", str(seeded)], home)
    assert result.returncode == 1
    assert "multichat: error: cannot serve:" in result.stderr
    assert "Traceback" not in result.stderr


# A soft limit of open files far under the connections below (the server's own files,
# its database and threads take a dozen or two).
LOW_SOFT_LIMIT = 64


@pytest.mark.skipif(sys.platform == "win32", reason="no limit of open files to raise")
async def test_serve_takes_more_connections_than_its_soft_limit_of_open_files(
    seeded: Path, home: Path,
) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4 * LOW_SOFT_LIMIT:
        pytest.skip("the hard limit of open files is too low to tell")
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW_SOFT_LIMIT, hard))
    try:
        server = ServerProcess(seeded, home)  # inherits the low soft limit
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    clients: list[ProtocolClient] = []
    try:
        for _ in range(2 * LOW_SOFT_LIMIT):
            clients.append(await ProtocolClient.open(server.url))
        assert await clients[-1].request(command="ping") == {"pong": True}
    finally:
        for client in clients:
            await client.close()
        server.kill()


async def test_a_second_signal_during_a_slow_stop_ends_the_process_at_once(
    seeded: Path, home: Path,
) -> None:
    """Ctrl-C twice: the first stop waits for a peer that never answers its close (up
    to --close-timeout, 60 s here); the second ends the process now, with one line
    saying so. Before, the second interrupted the stop halfway and the process hung
    on the threads it left running, until a third."""
    server = ServerProcess(seeded, home, "--close-timeout", "60")
    silent = socket.create_connection(("127.0.0.1", server.port))
    try:
        silent.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                       b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       b"Sec-WebSocket-Version: 13\r\n\r\n")
        assert silent.recv(4096).startswith(b"HTTP/1.1 101")  # open; it will never read again
        server.process.send_signal(signal.SIGINT)
        await eventually(lambda: "stopping:" in "".join(server.output))
        assert server.process.poll() is None  # waiting on the silent peer's close
        assert await asyncio.to_thread(server.signal, signal.SIGINT) == 128 + signal.SIGINT
        log = server.log()
    finally:
        silent.close()
        server.kill()
    assert "a second SIGINT: stopping now" in log
    assert "Traceback" not in log


async def test_serve_on_a_unix_socket_then_its_file_goes_and_a_crashs_is_replaced(
    seeded: Path, home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "8801.sock"
    server = ServerProcess(seeded, home, unix=path)
    try:
        alice = await ProtocolClient.open("ws://localhost/", unix=True, path=str(path))
        await alice.login("alice", "alice-password")
        assert await asyncio.to_thread(server.signal, signal.SIGTERM) == 0
        assert await alice.closed() == 1001
        assert not path.exists()  # removed at a clean stop
    finally:
        server.kill()
    crashed = ServerProcess(seeded, home, unix=path)
    crashed.kill()  # SIGKILL: its socket file stays, nobody listening
    assert path.is_socket()
    again = ServerProcess(seeded, home, unix=path)  # replaces the stale file
    try:
        bob = await ProtocolClient.open("ws://localhost/", unix=True, path=str(path))
        await bob.login("bob", "bob-password")
        await bob.close()
        assert f"listening on unix:{path}" in "".join(again.output)
    finally:
        again.kill()
    assert "Traceback" not in server.log() + again.log()
