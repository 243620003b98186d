"""Three server processes on one PostgreSQL and one Redis behave as one server.

Real parts only: ``multichat serve`` processes, a PostgreSQL and a redis-server
started by the tests (tests/helpers/services.py), clients over WebSockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from websockets.exceptions import ConnectionClosed

from tests.helpers.client import Frame, ProtocolClient
from tests.helpers.process import ServerProcess, cli_env, run_cli
from tests.helpers.services import (
    BEHIND_PROXY,
    PROXY_KINDS,
    PostgresService,
    RedisService,
    documented_proxy,
)
from tests.helpers.timing import TIMEOUT

pytestmark = pytest.mark.slow

USERS = ("admin", "alice", "bob", "carol", "dave")
PROCESSES = 3


def password(user: str) -> str:
    return f"{user}-password"


def is_message(frame: Frame, room: int = 1) -> bool:
    return frame.get("room") == str(room) and frame.get("msg_type") == 0


def seqs(client: ProtocolClient, room: int = 1) -> list[int]:
    return [frame["seq"] for frame in client.seen if is_message(frame, room)]


class Cluster:
    """PostgreSQL, Redis and three ``multichat serve`` processes sharing them."""

    def __init__(self, home: Path, database: str, redis: RedisService) -> None:
        self.home = home
        self.database = database
        self.redis = redis
        self.broker = redis.url
        self.servers: list[ServerProcess] = []
        self.clients: list[ProtocolClient] = []

    def admin(self, *args: str, stdin: str | None = None) -> str:
        result = run_cli(["admin", "--database", self.database, *args], self.home, stdin=stdin)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self, count: int = PROCESSES, env: dict[str, str] | None = None) -> None:
        """The first processes get the URLs as flags, the last from the environment."""
        tuning = ("--presence-ttl", "1", "--poll-interval", "1")
        for _ in range(count - 1):
            self.servers.append(ServerProcess(
                self.home / "unused", self.home, "--database", self.database,
                "--broker", self.broker, *tuning, env=env,
            ))
        self.servers.append(ServerProcess(
            self.home / "unused", self.home, *tuning,
            env={"MULTICHAT_DATABASE": self.database, "MULTICHAT_BROKER": self.broker,
                 **(env or {})},
        ))

    async def client(self, process: int, user: str | None = None) -> ProtocolClient:
        client = await ProtocolClient.open(self.servers[process].url)
        self.clients.append(client)
        if user is not None:
            await client.login(user, password(user))
        return client

    async def close(self) -> None:
        for client in self.clients:
            with contextlib.suppress(Exception):
                await client.close()
        for server in self.servers:
            server.kill()


@pytest.fixture
def seeded(tmp_path: Path, postgres_url: str, redis_service: RedisService) -> Cluster:
    home = tmp_path / "home"
    home.mkdir()
    cluster = Cluster(home, postgres_url, redis_service)
    # MULTICHAT_DATABASE works for admin as --database does.
    result = run_cli(["admin", "user", "add", "admin", "--superuser"], home,
                     stdin=password("admin") + "\n",
                     env=cli_env(home, MULTICHAT_DATABASE=postgres_url))
    assert result.returncode == 0, result.stderr
    for user in USERS[1:]:
        cluster.admin("user", "add", user, stdin=password(user) + "\n")
    assert cluster.admin("room", "add", "Lobby").strip() == "1"
    return cluster


@pytest.fixture
async def cluster(seeded: Cluster) -> AsyncIterator[Cluster]:
    seeded.start()
    try:
        yield seeded
    finally:
        await seeded.close()


@pytest.fixture
async def unstarted(seeded: Cluster) -> AsyncIterator[Cluster]:
    """The cluster for a test to start with settings of its own; closed at the end."""
    try:
        yield seeded
    finally:
        await seeded.close()


def sent_with(prefix: str) -> Callable[[Frame], bool]:
    return lambda frame: str(frame.get("client_id", "")).startswith(prefix)


async def collect(client: ProtocolClient, count: int, room: int = 1) -> list[Frame]:
    """Read until ``count`` messages of the room have arrived; return them in arrival order."""
    while len(seqs(client, room)) < count:
        await client.recv(timeout=TIMEOUT * 2)
    return [frame for frame in client.seen if is_message(frame, room)]


async def send_burst(client: ProtocolClient, tag: str, count: int, room: int = 1) -> None:
    for i in range(count):
        await client.send(command="send", room=room, message=f"{tag} {i}", client_id=f"{tag}-{i}")


async def test_concurrent_sends_through_three_processes_reach_everyone_in_one_order(
    cluster: Cluster,
) -> None:
    per_sender = 40
    senders = [await cluster.client(p, user) for p, user in enumerate(USERS[1:4])]
    readers = [await cluster.client(p, "dave") for p in range(PROCESSES)]
    for client in senders + readers:
        await client.join(1)
    await asyncio.gather(*(send_burst(s, f"s{i}", per_sender) for i, s in enumerate(senders)))
    total = per_sender * len(senders)
    orders = await asyncio.gather(*(collect(c, total) for c in senders + readers))
    first = [(f["seq"], f["client_id"], f["message"]) for f in orders[0]]
    assert [seq for seq, _, _ in first] == list(range(1, total + 1))  # gapless, no repeats
    for order in orders[1:]:  # the same order on every process, for every member
        assert [(f["seq"], f["client_id"], f["message"]) for f in order] == first
    for i in range(len(senders)):  # each sender's messages in the order it sent them
        mine = [text for _, cid, text in first if cid.startswith(f"s{i}-")]
        assert mine == [f"s{i} {n}" for n in range(per_sender)]

    # A client that reconnects to another process catches up by `since`, no matter where.
    late = await cluster.client(2, "bob")
    await late.join(1, since=total // 2)
    caught = await collect(late, total - total // 2)
    assert [(f["seq"], f["client_id"]) for f in caught] == [
        (seq, cid) for seq, cid, _ in first[total // 2:]
    ]
    # A resend through a third process is recognised, not stored twice.
    resend = await cluster.client(1, "alice")
    await resend.join(1)
    await resend.send(command="send", room=1, message="s0 0", client_id="s0-0")
    echo = await resend.expect(lambda f: f.get("client_id") == "s0-0")
    assert echo["seq"] == next(seq for seq, cid, _ in first if cid == "s0-0")


async def test_a_user_on_two_processes_enters_and_leaves_once(cluster: Cluster) -> None:
    bob = await cluster.client(2, "bob")
    await bob.join(1)
    alice_a = await cluster.client(0, "alice")
    await alice_a.join(1)
    await bob.expect(lambda f: f.get("msg_type") == 4 and f.get("username") == "alice")
    alice_b = await cluster.client(1, "alice")
    members = await alice_b.join(1)
    assert members["users"] == ["alice", "bob"]  # counted over every process, alice once
    carol = await cluster.client(0, "carol")
    assert (await carol.join(1))["users"] == ["alice", "bob", "carol"]

    await alice_a.close()  # alice is still in the room through process 1
    await alice_b.send(command="send", room=1, message="still here", client_id="x")
    await bob.expect(lambda f: f.get("client_id") == "x")
    await alice_b.close()
    await bob.expect(lambda f: f.get("msg_type") == 5 and f.get("username") == "alice")
    enters = [f for f in bob.seen if f.get("msg_type") == 4 and f.get("username") == "alice"]
    leaves = [f for f in bob.seen if f.get("msg_type") == 5 and f.get("username") == "alice"]
    assert (len(enters), len(leaves)) == (1, 1)
    assert (await (await cluster.client(1, "dave")).join(1))["users"] == ["bob", "carol", "dave"]


async def test_admin_changes_reach_every_process(cluster: Cluster) -> None:
    admin = await cluster.client(0, "admin")
    bob = await cluster.client(1, "bob")
    carol = await cluster.client(2, "carol")
    await admin.send(command="room.create", title="Annex")
    created = await admin.expect_key("room.created")
    room = int(created["room.created"]["id"])
    pushed = await carol.expect(
        lambda f: "rooms" in f and any(r["title"] == "Annex" for r in f["rooms"])
    )
    assert any(r["id"] == str(room) for r in pushed["rooms"])
    await carol.join(room)
    await admin.send(command="room.delete", room=room)
    assert (await carol.expect_key("leave"))["leave"] == str(room)
    # A new password signs bob out on the process he is connected to.
    await admin.send(command="user.update", username="bob", password="new-password")
    assert await bob.closed() == 4001


async def answer(client: ProtocolClient, **command: object) -> Frame:
    """Send a command and return its reply (the frame echoing its ref), past any pushes."""
    ref = f"ref-{len(client.seen)}"
    await client.send(**command, ref=ref)
    return await client.expect(lambda frame: frame.get("ref") == ref)


async def sent_then_marked(sender: ProtocolClient, room: int, text: str, reader: ProtocolClient,
                           marker_room: int) -> None:
    """``sender`` says ``text`` in ``room``, then a marker in ``marker_room``; return once
    ``reader`` has the marker. One process publishes both in order on one channel, so by
    then the reader's process has dealt with ``text`` too."""
    await sender.send(command="send", room=room, message=text)
    await sender.expect(lambda frame: frame.get("message") == text)
    await sender.send(command="send", room=marker_room, message=f"marker after {text}")
    await reader.expect(lambda frame: frame.get("message") == f"marker after {text}")


async def test_a_change_on_one_process_is_not_overtaken_by_events_on_others(
    cluster: Cluster,
) -> None:
    """Seen: after the reply to room.update staff_only=true on one process, messages sent
    through another still reached the excluded users on a third (10 of 10 tries)."""
    admin = await cluster.client(0, "admin")
    assert "user.updated" in await answer(admin, command="user.update", username="carol",
                                          is_staff=True)
    annex = int((await answer(admin, command="room.create", title="Annex"))["room.created"]["id"])
    alice = await cluster.client(1, "alice")
    carol = await cluster.client(2, "carol")
    for client in (alice, carol):
        await client.join(annex)
    for attempt in range(10):
        await alice.join(1)
        await carol.join(1)
        assert "room.updated" in await answer(admin, command="room.update", room=1,
                                              staff_only=True)
        text = f"staff only now {attempt}"
        await sent_then_marked(carol, 1, text, alice, annex)
        assert not [f for f in alice.seen if f.get("message") == text], f"try {attempt}"
        assert "room.updated" in await answer(admin, command="room.update", room=1,
                                              staff_only=False)


async def test_a_demotion_on_one_process_is_not_overtaken_by_events_on_others(
    cluster: Cluster,
) -> None:
    admin = await cluster.client(0, "admin")
    for name in ("carol", "dave"):
        await answer(admin, command="user.update", username=name, is_staff=True)
    vault = int((await answer(admin, command="room.create", title="Vault",
                              staff_only=True))["room.created"]["id"])
    dave = await cluster.client(1, "dave")
    carol = await cluster.client(2, "carol")
    for client in (dave, carol):
        await client.join(1)
    await carol.join(vault)
    for attempt in range(10):
        await dave.join(vault)
        assert "user.updated" in await answer(admin, command="user.update", username="dave",
                                              is_staff=False)
        text = f"not for dave {attempt}"
        await sent_then_marked(carol, vault, text, dave, 1)
        assert not [f for f in dave.seen if f.get("message") == text], f"try {attempt}"
        await answer(admin, command="user.update", username="dave", is_staff=True)
        await dave.expect(lambda frame: frame.get("account", {}).get("is_staff") is True)


async def test_a_redis_restart_leaves_no_client_with_a_gap(cluster: Cluster) -> None:
    senders = [await cluster.client(p, user) for p, user in ((0, "alice"), (1, "bob"))]
    readers = [await cluster.client(p, "dave") for p in range(PROCESSES)]
    for client in senders + readers:
        await client.join(1)
    sent = itertools.count()

    async def burst(count: int) -> int:
        await asyncio.gather(*(send_burst(s, f"r{next(sent)}", count) for s in senders))
        return count * len(senders)

    total = await burst(20)
    await asyncio.gather(*(collect(r, total) for r in readers))
    cluster.redis.stop()  # mid-traffic: sends go on while Redis is down
    total += await burst(20)
    for process in range(len(senders)):
        # Local members are served meanwhile: each process's own sender reaches its reader.
        await readers[process].expect(sent_with(f"r{2 + process}-"))
    cluster.redis.start()
    total += await burst(20)
    orders = await asyncio.gather(*(collect(r, total) for r in readers))
    for order in orders:
        assert [f["seq"] for f in order] == list(range(1, total + 1))
    assert len({tuple(f["client_id"] for f in order) for order in orders}) == 1


async def test_a_killed_process_loses_nothing_its_clients_saw(cluster: Cluster) -> None:
    writer = await cluster.client(1, "alice")
    doomed = await cluster.client(0, "bob")
    watcher = await cluster.client(2, "carol")
    for client in (writer, doomed, watcher):
        await client.join(1)
    await send_burst(writer, "k", 100)
    await collect(doomed, 30)
    cluster.servers[0].kill()  # SIGKILL: no shutdown, no goodbye to Redis
    with contextlib.suppress(ConnectionClosed, TimeoutError):
        while True:  # whatever reached bob before the socket died was seen too
            await doomed.recv(timeout=TIMEOUT)
    seen = [f for f in doomed.seen if is_message(f)]
    assert len(seen) >= 30

    # bob comes back through another process and catches up from the last seq he saw.
    back = await cluster.client(1, "bob")
    await back.join(1, since=seen[-1]["seq"])
    rest = await collect(back, 100 - len(seen))
    assert [f["seq"] for f in seen + rest] == list(range(1, 101))
    assert [f["client_id"] for f in seen + rest] == [f"k-{i}" for i in range(100)]
    # bob is a member again, now through process 1.
    members = await (await cluster.client(2, "dave")).join(1)
    assert "bob" in members["users"]


async def test_a_stopped_or_dead_process_members_leave(cluster: Cluster) -> None:
    watcher = await cluster.client(2, "carol")
    await watcher.join(1)
    stopping = await cluster.client(1, "alice")
    await stopping.join(1)
    doomed = await cluster.client(0, "bob")
    await doomed.join(1)
    await watcher.expect(lambda f: f.get("msg_type") == 4 and f.get("username") == "bob")
    assert cluster.servers[1].signal(signal.SIGTERM) == 0  # a clean stop says goodbye at once
    await watcher.expect(lambda f: f.get("msg_type") == 5 and f.get("username") == "alice")
    cluster.servers[0].kill()
    # After the presence TTL (1 s here) another process counts bob out and says so.
    await watcher.expect(lambda f: f.get("msg_type") == 5 and f.get("username") == "bob",
                         timeout=TIMEOUT * 2)
    assert (await (await cluster.client(2, "dave")).join(1))["users"] == ["carol", "dave"]


# -- behind the load balancer of docs/operations.md ------------------------------------------

@pytest.mark.parametrize("kind", PROXY_KINDS)
async def test_the_documented_load_balancers_make_one_chat(
    unstarted: Cluster, tmp_path: Path, kind: str
) -> None:
    """nginx (TCP and HTTP) and HAProxy, configured as docs/operations.md says."""
    cluster = unstarted
    cluster.start(env=BEHIND_PROXY[kind])  # the servers' settings behind that proxy
    proxy = documented_proxy(kind, tmp_path / kind, [server.port for server in cluster.servers])
    proxy.start()
    try:
        url = f"ws://127.0.0.1:{proxy.port}"
        clients = []
        for user in USERS[1:]:
            client = await ProtocolClient.open(url)
            cluster.clients.append(client)
            await client.login(user, password(user))
            members = await client.join(1)
            clients.append(client)
        assert set(members["users"]) == set(USERS[1:]), members
        for i, client in enumerate(clients):
            await client.send(command="send", room=1, message=f"via {kind} {i}",
                              client_id=f"lb-{i}")
        orders = await asyncio.gather(*(collect(c, len(clients)) for c in clients))
        for order in orders:
            assert [f["seq"] for f in order] == list(range(1, len(clients) + 1))
            assert [f["client_id"] for f in order] == [f["client_id"] for f in orders[0]]
        # The balancer spread the connections (least connections): more than one
        # process served them, so the order above crossed processes.
        assert len({server.port for server in cluster.servers
                    if connections_to(server.process.pid, server.port)}) > 1
    finally:
        proxy.stop()


async def test_processes_on_the_unix_sockets_of_postgresql_and_redis_make_one_chat(
    seeded: Cluster, postgres_service: PostgresService
) -> None:
    """docs/operations.md's same-host set-up: the database and broker URLs name the
    services' Unix sockets (no TCP to either), and the processes still make one chat."""
    import psycopg
    import redis

    seeded.database = postgres_service.socket_url(seeded.database)
    seeded.broker = seeded.redis.socket_url
    seeded.start(count=2)
    try:
        alice, bob = await seeded.client(0, "alice"), await seeded.client(1, "bob")
        for client in (alice, bob):
            await client.join(1)
        for i in range(3):
            await alice.send(command="send", room=1, message=f"by socket {i}",
                             client_id=f"sock-{i}")
        seen = await collect(bob, 3)
        assert [(f["seq"], f["message"]) for f in seen] == [
            (i + 1, f"by socket {i}") for i in range(3)]
        name = urlsplit(seeded.database).path.lstrip("/")
        with psycopg.connect(postgres_service.url(), autocommit=True) as conn:
            addresses = [row[0] for row in conn.execute(
                "SELECT client_addr FROM pg_stat_activity WHERE datname = %s", (name,))]
        assert addresses and all(address is None for address in addresses)  # local socket
        clients = redis.Redis(port=seeded.redis.port).client_list()
        subscribers = [c for c in clients if int(c.get("sub", 0))]
        assert len(subscribers) == 2
        assert all(c["addr"].startswith("/") for c in subscribers)  # the socket's path
    finally:
        await seeded.close()


def connections_to(pid: int, port: int) -> int:
    """Established TCP connections the process ``pid`` accepted on ``port`` (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if fields[3] == "01" and fields[9] in inodes and local_port == port:  # ESTABLISHED
                count += 1
    return count


async def test_edits_reactions_and_deletions_cross_processes_in_one_order(
    cluster: Cluster,
) -> None:
    alice = await cluster.client(0, "alice")
    bob = await cluster.client(1, "bob")
    carol = await cluster.client(2, "carol")
    for client in (alice, bob, carol):
        await client.join(1)
    await alice.send(command="send", room=1, message="helo", client_id="m1")
    original = await carol.expect(lambda f: f.get("client_id") == "m1")
    seq = original["seq"]
    await alice.send(command="edit", room=1, seq=seq, message="hello", client_id="e1")
    await bob.send(command="react", room=1, seq=seq, emoji="👋", on=True, client_id="r1")
    await bob.send(command="send", room=1, message="hi!", reply_to=seq, client_id="m2")
    for client in (alice, bob, carol):  # each change reaches the other processes' clients
        for cid in ("e1", "r1", "m2"):
            await client.expect(sent_with(cid))
    # An edit from one process and a deletion from another, at once: whichever the
    # store takes first wins, and an edit after the deletion is refused, never stored.
    await asyncio.gather(
        alice.send(command="edit", room=1, seq=seq, message="late edit", client_id="e2"),
        alice_b_delete(cluster, seq),
    )
    deleted = await carol.expect(lambda f: f.get("msg_type") == 7)
    assert deleted["target"] == seq

    def settled(frame: Frame) -> bool:
        return frame.get("client_id") == "e2" or frame.get("error") == "MESSAGE_INVALID"

    outcome = next((f for f in alice.seen if settled(f)), None) or await alice.expect(settled)
    if "error" not in outcome:  # stored first: then it comes before the deletion
        assert outcome["seq"] < deleted["seq"]
    pages = []
    for client in (alice, bob, carol):
        await client.send(command="history", room=1)
        pages.append((await client.expect_key("history"))["messages"])
        changes = [f["seq"] for f in client.seen if f.get("msg_type") in (6, 7, 8)]
        assert changes == sorted(changes)  # in seq order on every process
    assert pages[0] == pages[1] == pages[2]
    first, reply = pages[0]
    assert first["deleted"] is True and first["message"] is None and "reactions" not in first
    assert reply["reply_to"] == seq and reply["message"] == "hi!"


async def alice_b_delete(cluster: Cluster, seq: int) -> None:
    """Alice again, on the third process, deleting the message."""
    other = await cluster.client(2, "alice")
    await other.join(1)
    await other.send(command="delete", room=1, seq=seq, client_id="d1")


async def test_typing_crosses_processes_but_not_to_the_typists_other_connections(
    cluster: Cluster,
) -> None:
    alice = await cluster.client(0, "alice")
    alice_elsewhere = await cluster.client(1, "alice")
    bob = await cluster.client(1, "bob")
    carol = await cluster.client(2, "carol")
    for client in (alice, alice_elsewhere, bob, carol):
        await client.join(1)
    await alice.send(command="typing", room=1)
    for client in (bob, carol):
        assert await client.expect_key("typing") == {"typing": "1", "username": "alice"}
    # A message after it reaches everyone after it would have: alice's other connection,
    # on bob's process, got no typing of her own.
    await alice.send(command="send", room=1, message="done typing", client_id="t1")
    for client in (alice, alice_elsewhere, bob, carol):
        await client.expect(sent_with("t1"))
    assert not [f for f in alice.seen + alice_elsewhere.seen if "typing" in f]


async def test_a_read_marker_reaches_the_users_connections_on_every_process(
    cluster: Cluster,
) -> None:
    alice = await cluster.client(0, "alice")
    alice_b = await cluster.client(1, "alice")
    alice_c = await cluster.client(2, "alice")
    bob = await cluster.client(1, "bob")
    await alice.join(1)
    for n in range(3):
        await alice.send(command="send", room=1, message=f"m{n}", client_id=f"r{n}")
        await alice.expect(sent_with(f"r{n}"))
    await alice.send(command="read", room=1, seq=2)
    for client in (alice_b, alice_c):  # the reader's other connections, on other processes
        assert await client.expect_key("read") == {"read": "1", "seq": 2, "unread": 1}
    await alice_c.send(command="read", room=1, seq=3)
    for client in (alice, alice_b):
        assert await client.expect(lambda f: "read" in f and f["seq"] == 3)
    for client in (bob, alice, alice_b, alice_c):  # every process answers with the marker
        await client.send(command="rooms", ref="list")
        listed = await client.expect(lambda f: f.get("ref") == "list")
        (lobby,) = listed["rooms"]
        expected = 0 if client is bob else 3
        assert (lobby["last_seq"], lobby["read_seq"]) == (3, expected)
    assert not [f for f in bob.seen if "read" in f]
    assert [f["seq"] for f in alice.seen if "read" in f] == [3]
    assert [f["seq"] for f in alice_c.seen if "read" in f] == [2]


async def test_a_direct_conversation_and_its_edits_cross_processes_to_its_members_only(
    cluster: Cluster,
) -> None:
    alice = await cluster.client(0, "alice")
    bob = await cluster.client(1, "bob")
    carol = await cluster.client(2, "carol")
    await alice.send(command="dm.open", users=["bob"], ref="dm")
    entry = (await alice.expect(lambda f: f.get("ref") == "dm"))["dm"]
    assert (entry["kind"], entry["members"]) == ("direct", ["alice", "bob"])
    room = int(entry["id"])
    # Bob, on another process, is told of it; carol, on a third, may not even find it.
    await bob.expect(lambda f: "rooms" in f and entry in f["rooms"])
    await carol.send(command="join", room=room, ref="j")
    assert (await carol.expect(lambda f: f.get("ref") == "j"))["error"] == "ROOM_INVALID"
    await alice.join(room)
    await bob.join(room)
    await bob.send(command="send", room=room, message="helo alice", client_id="d1")
    said = await alice.expect(sent_with("d1"))
    await bob.send(command="edit", room=room, seq=said["seq"], message="hello alice",
                   client_id="d2")
    edit = await alice.expect(sent_with("d2"))
    assert (edit["msg_type"], edit["target"], edit["message"]) == (6, said["seq"], "hello alice")
    await carol.send(command="rooms", ref="list")
    listed = await carol.expect(lambda f: f.get("ref") == "list")
    assert [e for e in listed["rooms"] if e["kind"] == "direct"] == []
    assert not [f for f in carol.seen if f.get("room") == str(room)]
