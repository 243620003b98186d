"""Faults a running server meets: a full disk, a read-only database, a lock held elsewhere, a
client gone half-open. Each on a real ``multichat serve`` process (one in-process, to watch
the server's side of a socket), the fault made for real from outside; every wait is on a
condition.

Through a database fault the server answers a send it cannot store with an error that says
why, keeps serving what only reads (history, ``join`` with ``since``, ``rooms``, a login with a
saved token), and stores sends again, with no gap in ``seq``, once the fault is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from multichat.server.net.peer import WebSocketPeer
from multichat.server.store.database import DATABASE_FILENAME
from tests.conftest import ALICE, BOB, seed_accounts
from tests.e2e.test_durability import history
from tests.helpers.client import Frame, ProtocolClient
from tests.helpers.process import ServerProcess, run_cli
from tests.helpers.services import PostgresService, wait_until
from tests.helpers.timing import TIMEOUT, TIMEOUT_FACTOR
from tests.helpers.waiting import eventually

pytestmark = pytest.mark.slow

USERS = ("alice", "bob")
LOBBY = 1
# What a sender reads in the error's detail (multichat/server/store/errors.py).
DISK_REFUSED = ("the message was not stored: the server cannot write to its disk (over a size "
                "limit or quota, or failing); try again later")
DISK_FULL = "the message was not stored: the server's disk is full; try again later"
READ_ONLY = "the message was not stored: the database is read-only; try again later"


def password(user: str) -> str:
    return f"{user}-password"


@dataclass
class Chat:
    """A seeded database (alice, bob, the Lobby) and how to serve it."""

    home: Path
    data_dir: Path
    database: list[str] = field(default_factory=list)  # ["--database", URL] or the data dir's

    def admin(self, *args: str, stdin: str | None = None) -> None:
        where = self.database or ["--data-dir", str(self.data_dir)]
        result = run_cli(["admin", *where, *args], self.home, stdin=stdin)
        assert result.returncode == 0, result.stderr

    def serve(self, *extra: str) -> ServerProcess:
        return ServerProcess(self.data_dir, self.home, *self.database, *extra)


def new_chat(tmp_path: Path, *, data_dir: Path | None = None,
             database: str | None = None) -> Chat:
    home = tmp_path / "home"
    home.mkdir()
    chat = Chat(home, data_dir or tmp_path / "data", ["--database", database] if database else [])
    for user in USERS:
        chat.admin("user", "add", user, stdin=password(user) + "\n")
    chat.admin("room", "add", "Lobby")
    return chat


@dataclass
class Party:
    """alice and bob, logged in with a password and in the Lobby."""

    server: ServerProcess
    alice: ProtocolClient
    bob: ProtocolClient
    bob_token: str


@contextlib.asynccontextmanager
async def running(server: ServerProcess) -> AsyncIterator[Party]:
    """alice and bob on ``server``; the clients closed and the server killed after."""
    clients: list[ProtocolClient] = []
    try:
        tokens = []
        for user in USERS:
            client = await ProtocolClient.open(server.url)
            clients.append(client)
            tokens.append((await client.login(user, password(user)))["login"]["token"])
            await client.join(LOBBY)
        yield Party(server, clients[0], clients[1], tokens[1])
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()
        server.kill()


async def send(client: ProtocolClient, text: str) -> Frame:
    """Send ``text`` (as its own client_id and ref); return its stored event or its error."""
    await client.send(command="send", room=LOBBY, message=text, client_id=text, ref=text)
    return await client.expect(lambda f: f.get("client_id") == text or f.get("ref") == text)


def refused(detail: str, text: str) -> Frame:
    return {"error": "SERVER_ERROR", "detail": detail, "ref": text}


async def logged(server: ServerProcess, text: str) -> None:
    """Wait until a line of the server's log (stdout and stderr) holds ``text``."""
    await eventually(lambda: any(text in line for line in server.output), TIMEOUT * 2)


async def reads_go_on(party: Party, stored: list[str]) -> None:
    """history, rooms, a login with a saved token, join with since: nothing that writes."""
    assert [m["message"] for m in await history(party.bob, LOBBY)] == stored
    rooms = await party.bob.request(command="rooms", ref="r")
    assert [room["title"] for room in rooms["rooms"]] == ["Lobby"]
    again = await ProtocolClient.open(party.server.url)  # the desktop app reconnecting
    try:
        assert "login" in await again.request(command="login", token=party.bob_token)
        await again.send(command="join", room=LOBBY, since=0)
        caught_up = [await again.expect(lambda f: "seq" in f) for _ in stored]
        assert [f["message"] for f in caught_up] == stored
    finally:
        await again.close()


async def password_login_refused(party: Party, detail: str) -> None:
    """A password login stores a new token, so it is refused, in words too."""
    other = await ProtocolClient.open(party.server.url)
    try:
        reply = await other.request(command="login", username="bob", password=password("bob"))
        assert reply == {"error": "SERVER_ERROR", "detail": detail}
    finally:
        await other.close()


async def seqs_seen(client: ProtocolClient, count: int) -> list[int]:
    """The seqs of the first ``count`` room messages the client got, reading on as needed."""
    def seqs() -> list[int]:
        return [f["seq"] for f in client.seen if f.get("msg_type") == 0]
    while len(seqs()) < count:
        await client.recv()
    return seqs()[:count]


# -- a full disk ---------------------------------------------------------------------------------


@contextlib.contextmanager
def file_size_limit(pid: int, limit: int) -> Iterator[None]:
    """Lower a process's RLIMIT_FSIZE: its writes at or past ``limit`` bytes of a file fail."""
    soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))


async def test_a_disk_that_takes_no_more_fails_sends_in_words_and_reads_go_on(
        tmp_path: Path) -> None:
    """The server's file size limit lowered to 0: each write() it makes fails with EFBIG.

    Python ignores SIGXFSZ, so the process lives on, and SQLite reports
    SQLITE_IOERR_WRITE ("disk I/O error") when the commit writes its WAL frames.
    """
    server = new_chat(tmp_path).serve()
    async with running(server) as party:
        assert (await send(party.alice, "before"))["seq"] == 1
        with file_size_limit(party.server.process.pid, 0):
            assert await send(party.alice, "refused") == refused(DISK_REFUSED, "refused")
            await logged(party.server, "storing 1 message(s) failed: the server cannot write "
                                       "to its disk")
            assert await send(party.alice, "refused too") == refused(DISK_REFUSED, "refused too")
            await reads_go_on(party, ["before"])
            await password_login_refused(party, DISK_REFUSED.replace(
                "the message was not stored: ", ""))
        assert (await send(party.alice, "after"))["seq"] == 2  # nothing was allocated meanwhile
        assert await seqs_seen(party.bob, 2) == [1, 2]
        await logged(party.server, "messages are stored again; 2 failed meanwhile")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of 4 MiB of its own: a disk that can really fill up (ENOSPC)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root, outside a container that forbids "
                    f"it): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; return it (delete it to make room again)."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 4096)
    return filler


async def test_a_full_disk_fails_sends_in_words_and_sends_come_back_with_room(
        tmp_path: Path, small_disk: Path) -> None:
    """A real ENOSPC: the data dir on a small tmpfs, filled to the last block.

    SQLite reports SQLITE_FULL ("database or disk is full"). It overwrites a
    WAL it has reset without needing new blocks, so the first sends after the
    disk filled up may still go in: the test sends until one is refused.
    """
    server = new_chat(tmp_path, data_dir=small_disk / "data").serve()
    async with running(server) as party:
        assert (await send(party.alice, "before"))["seq"] == 1
        filler = fill(small_disk)
        stored = ["before"]
        for n in range(1000):
            frame = await send(party.alice, f"m{n}")
            if "error" in frame:
                assert frame == refused(DISK_FULL, f"m{n}")
                break
            stored.append(frame["message"])
        else:
            pytest.fail("a thousand sends went in on a full disk")
        await logged(party.server, "the server's disk is full")
        await reads_go_on(party, stored)
        filler.unlink()
        assert (await send(party.alice, "after"))["seq"] == len(stored) + 1


# -- a read-only database ------------------------------------------------------------------------


def session_setting(url: str, name: str) -> str:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(f"SHOW {name}".encode()).fetchone()
    assert row is not None
    return str(row[0])


@contextlib.contextmanager
def read_only(postgres: PostgresService, url: str) -> Iterator[None]:
    """Make every session of the cluster read-only, as a failover to a standby would.

    ``ALTER SYSTEM`` and a reload reach the server's open sessions too (each
    applies it before its next statement); ``ALTER DATABASE`` would reach
    only new ones. A new session seeing it means the postmaster has signalled
    every backend already.
    """
    postgres.execute("ALTER SYSTEM SET default_transaction_read_only = on")
    try:
        postgres.execute("SELECT pg_reload_conf()")
        wait_until(lambda: session_setting(url, "default_transaction_read_only") == "on",
                   "read-only sessions")
        yield
    finally:
        postgres.execute("ALTER SYSTEM RESET default_transaction_read_only")
        postgres.execute("SELECT pg_reload_conf()")
        wait_until(lambda: session_setting(url, "default_transaction_read_only") == "off",
                   "writable sessions")


async def test_a_read_only_database_fails_sends_in_words_and_reads_go_on(
        tmp_path: Path, postgres_service: PostgresService, postgres_url: str) -> None:
    """PostgreSQL turned read-only under a running server: SQLSTATE 25006, then back."""
    server = new_chat(tmp_path, database=postgres_url).serve()
    async with running(server) as party:
        assert (await send(party.alice, "before"))["seq"] == 1
        with read_only(postgres_service, postgres_url):
            assert await send(party.alice, "refused") == refused(READ_ONLY, "refused")
            await logged(party.server, "storing 1 message(s) failed: the database is read-only")
            await reads_go_on(party, ["before"])
            await password_login_refused(party, READ_ONLY.replace(
                "the message was not stored: ", ""))
        assert (await send(party.alice, "after"))["seq"] == 2
        assert await seqs_seen(party.bob, 2) == [1, 2]
        await logged(party.server, "messages are stored again; 1 failed meanwhile")


# -- a lost database connection ------------------------------------------------------------------

# What a sender reads when the connection died with its message's batch in flight.
CONNECTION_LOST = ("the connection to the database was lost while storing the message: it may "
                   "or may not be stored; a resend with the same client_id is stored once")
# The server's one warning when it finds its connections to PostgreSQL gone.
RECONNECTING = "the connection to PostgreSQL was lost"


def other_backends(url: str, where: str = "TRUE") -> int:
    """Sessions of the test's database but this one (the server's), that match ``where``."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            f"AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND {where}"
            .encode()).fetchone()
    assert row is not None
    return int(row[0])


def terminate_backends(url: str, where: str = "TRUE") -> None:
    """End the server's sessions (those that match ``where``) as an operator, a restart or a
    failover would, and wait until they are gone."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
            "current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
            f"AND {where}".encode())
    wait_until(lambda: other_backends(url, where) == 0, "the terminated sessions to end")


def warnings(server: ServerProcess) -> list[str]:
    return [line for line in server.output if " WARNING " in line]


async def test_dropped_database_connections_are_replaced_and_nothing_is_lost(
        tmp_path: Path, postgres_service: PostgresService, postgres_url: str) -> None:
    """pg_terminate_backend on every session of the server between two messages.

    Each database thread finds its connection gone before it uses it and opens
    a new one: the next message is stored (the next seq) and delivered, reads
    and logins go on, and the log says so in one warning.
    """
    server = new_chat(tmp_path, database=postgres_url).serve()
    async with running(server) as party:
        assert (await send(party.alice, "before"))["seq"] == 1
        await reads_go_on(party, ["before"])  # the readers hold connections too
        assert other_backends(postgres_url) > 0
        terminate_backends(postgres_url)
        assert (await send(party.alice, "after"))["seq"] == 2
        assert await seqs_seen(party.bob, 2) == [1, 2]
        await reads_go_on(party, ["before", "after"])
        found = await party.bob.request(command="search", query="after", ref="s")
        assert [event["message"] for event in found["results"]] == ["after"]
        other = await ProtocolClient.open(party.server.url)  # stores a token: a write
        try:
            assert "login" in await other.login("bob", password("bob"))
        finally:
            await other.close()
        assert [m["message"] for m in await history(party.bob, LOBBY)] == ["before", "after"]
        assert len(warnings(party.server)) == 1, warnings(party.server)
        assert RECONNECTING in warnings(party.server)[0]


async def test_a_restart_of_postgresql_is_survived_without_a_restart_of_the_server(
        tmp_path: Path, own_postgres_service: PostgresService) -> None:
    """PostgreSQL restarted (a fast shutdown ends every session) between two messages."""
    url = own_postgres_service.new_database()
    server = new_chat(tmp_path, database=url).serve()
    async with running(server) as party:
        assert (await send(party.alice, "before"))["seq"] == 1
        await asyncio.to_thread(own_postgres_service.restart)
        assert (await send(party.alice, "after"))["seq"] == 2
        assert await seqs_seen(party.bob, 2) == [1, 2]
        await reads_go_on(party, ["before", "after"])
        assert len(warnings(party.server)) == 1, warnings(party.server)
        assert RECONNECTING in warnings(party.server)[0]


async def test_a_database_connection_dropped_mid_batch_fails_its_message_in_words(
        tmp_path: Path, postgres_url: str) -> None:
    """The writer's session ended while its batch waits in the transaction (on a row lock
    held from outside): whether it committed is unknown to the server, so the sender is
    told it may not be stored; a resend with the same client_id is stored once, on a
    new connection."""
    server = new_chat(tmp_path, database=postgres_url).serve()
    async with running(server) as party:
        assert (await send(party.alice, "before"))["seq"] == 1
        with psycopg.connect(postgres_url, autocommit=True, connect_timeout=5) as holder:
            holder.execute(b"BEGIN")
            holder.execute(b'SELECT 1 FROM "room" WHERE "id" = 1 FOR UPDATE')
            await party.alice.send(command="send", room=LOBBY, message="cut", client_id="cut",
                                   ref="cut")
            await eventually(lambda: other_backends(postgres_url, "wait_event_type = 'Lock'")
                             == 1, TIMEOUT * 2)
            terminate_backends(postgres_url, "wait_event_type = 'Lock'")
            refusal = await party.alice.expect(
                lambda f: f.get("client_id") == "cut" or f.get("ref") == "cut")
            assert refusal == refused(CONNECTION_LOST, "cut")
            holder.execute(b"ROLLBACK")
        await logged(party.server, "storing 1 message(s) failed")
        assert (await send(party.alice, "cut"))["seq"] == 2  # stored once, on a new connection
        assert (await send(party.alice, "after"))["seq"] == 3
        assert await seqs_seen(party.bob, 3) == [1, 2, 3]
        assert [m["message"] for m in await history(party.bob, LOBBY)] == [
            "before", "cut", "after"]


# -- a lock held elsewhere -----------------------------------------------------------------------


async def test_a_database_locked_elsewhere_delays_sends_and_loses_none(tmp_path: Path) -> None:
    """Another program holds SQLite's write lock (BEGIN IMMEDIATE) past the writer's busy timeout.

    The writer logs one warning and keeps trying; when the lock goes the
    waiting messages are stored, in order, once. Reads never wait for it (WAL).
    """
    chat = new_chat(tmp_path)
    server = chat.serve()
    async with running(server) as party:
        assert (await send(party.alice, "before"))["seq"] == 1
        holder = sqlite3.connect(chat.data_dir / DATABASE_FILENAME, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            for text in ("while locked", "also while locked"):
                await party.alice.send(command="send", room=LOBBY, message=text, client_id=text,
                                       ref=text)
            await logged(party.server, "database is locked by another program; retrying")
            await reads_go_on(party, ["before"])
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        first = await party.alice.expect(
            lambda f: "error" in f or f.get("client_id") == "while locked")
        assert first.get("seq") == 2, first  # stored, not refused
        assert await seqs_seen(party.bob, 3) == [1, 2, 3]
        await logged(party.server, "the database lock went after")
        stored = [m["message"] for m in await history(party.bob, LOBBY)]
        assert stored == ["before", "while locked", "also while locked"]


# -- a client gone half-open ---------------------------------------------------------------------

PING = 0.5  # --ping-interval, --ping-timeout and --close-timeout of the server below


async def test_a_half_open_client_is_dropped_and_leaves_within_the_ping_bounds(
        tmp_path: Path) -> None:
    """A client that reads nothing any more (so answers no ping) is dropped by a real server.

    It is gone, and its LEAVE sent, within ping interval + ping timeout +
    close timeout of going silent: the close frame it never acknowledges
    waits close_timeout, then the server aborts the connection.
    """
    server = new_chat(tmp_path).serve("--ping-interval", str(PING), "--ping-timeout", str(PING),
                                      "--close-timeout", str(PING))
    async with running(server) as party:
        loop = asyncio.get_running_loop()
        # bob's socket: open, but nothing is read from it any more (nor pongs sent).
        party.bob.connection.transport.pause_reading()
        silent_since = loop.time()
        left = await party.alice.expect(lambda f: f.get("msg_type") == 5)
        took = loop.time() - silent_since
        assert left["username"] == "bob"
        assert await party.alice.request(command="join", room=LOBBY) == {"join": "1",
                                                                         "title": "Lobby"}
        assert (await party.alice.recv())["users"] == ["alice"]
        # A bound, not a timing the test waits on: the slack is for a loaded machine.
        assert took < 3 * PING + TIMEOUT_FACTOR, took
        party.bob.connection.transport.abort()


STALL_PING = 2.0  # ping interval and timeout below: far longer than filling the buffer takes
WRITE_LIMIT = 2**15  # websockets' write_limit: above it a connection's writes wait to drain
MAX_FILL = 400  # 512 KiB messages, more than the socket buffers of any machine take


async def test_a_half_open_client_with_output_piled_up_is_dropped_within_the_ping_bounds(
        server_config: ServerConfig, passwords: Passwords) -> None:
    """The half-open client of a busy room: its socket full, a backlog under max_output_bytes.

    In-process, to see the server's side of the socket: the room gets 512 KiB
    messages until the silent client's unsent output passes write_limit, then
    goes quiet. The client must still go within the ping bounds.
    """
    config = server_config.replace(
        ping_interval=STALL_PING, ping_timeout=STALL_PING, close_timeout=PING,
        max_message_chars=2**20, max_frame_bytes=2**22, send_burst=1000, send_rate=1000.0,
        user_send_burst=1000, user_send_rate=1000.0)
    async with ChatServer(config, passwords=passwords) as chat_server:
        assert chat_server.store is not None and chat_server.chat is not None
        seed_accounts(chat_server.store, passwords)
        url = f"ws://127.0.0.1:{chat_server.port}"
        alice, bob = await ProtocolClient.open(url), await ProtocolClient.open(url)
        for client, who in ((alice, ALICE), (bob, BOB)):
            await client.login(*who)
            await client.join(LOBBY)
        bob.connection.transport.pause_reading()
        try:
            [bob_peer] = [s.peer for s in chat_server.chat.sessions
                          if s.user is not None and s.user.username == "bob"]
            assert isinstance(bob_peer, WebSocketPeer)
            backlog = bob_peer.connection.transport.get_write_buffer_size
            loop = asyncio.get_running_loop()
            for _ in range(MAX_FILL):
                if backlog() > 2 * WRITE_LIMIT:
                    break
                await alice.send(command="send", room=LOBBY, message="x" * 2**19)
                await alice.expect(lambda f: f.get("msg_type") == 0)
            else:
                pytest.fail(f"the socket took {MAX_FILL // 2} MiB and left no backlog")
            silent_since = loop.time()
            assert backlog() < config.max_output_bytes  # not what the output limit drops
            bound = 2 * STALL_PING + PING
            left = await alice.expect(lambda f: f.get("msg_type") == 5, bound + TIMEOUT_FACTOR)
            assert left["username"] == "bob"
            assert loop.time() - silent_since < bound + TIMEOUT_FACTOR
        finally:
            # Else the server's shutdown waits for it too: closing drains first.
            bob.connection.transport.abort()
            await alice.close()
