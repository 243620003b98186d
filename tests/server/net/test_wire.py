"""End to end over real sockets: a server on port 0 and plain protocol clients.

Each test names the row of PROTOCOL.md it holds the server to.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.frames import Frame, Opcode
from websockets.protocol import Event

from multichat.server.chat.limits import UserBuckets
from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.conftest import ADMIN, ALICE, BOB, STAFF, ClientFactory, seed_accounts
from tests.helpers.client import ProtocolClient
from tests.helpers.timing import TIMEOUT

LOBBY = 1


def message_seq(seq: int) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f.get("seq") == seq and "room" in f


async def test_seed_flow_between_two_clients_on_the_seed_path(connect: ClientFactory) -> None:
    """Seed compatibility: join, send, receive, leave, on /chat/stream/."""
    alice = await connect(ALICE, path="/chat/stream/")
    bob = await connect(BOB, path="/chat/stream/")
    await alice.send(command="join", room="1")
    assert await alice.recv() == {"join": "1", "title": "Lobby"}
    assert await alice.recv() == {"members": "1", "users": ["alice"]}
    await bob.join(1)
    enter = await alice.expect(lambda f: f.get("msg_type") == 4 and f["username"] == "bob")
    assert enter["room"] == "1" and enter["message"] is None
    await bob.send(command="send", room=1, message="hi alice")
    for client in (alice, bob):
        event = await client.expect(lambda f: f.get("msg_type") == 0)
        assert (event["room"], event["message"], event["username"]) == ("1", "hi alice", "bob")
        assert event["seq"] == 1
    await bob.send(command="leave", room=1)
    assert await bob.expect_key("leave") == {"leave": "1"}
    left = await alice.expect(lambda f: f.get("msg_type") == 5)
    assert left["username"] == "bob"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "BAD_REQUEST"),
        ("[]", "BAD_REQUEST"),
        ('{"command": "dance"}', "BAD_REQUEST"),
        ('{"command": "join", "room": "lobby"}', "BAD_REQUEST"),
        ('{"command": "join", "room": 1}', "USER_HAS_TO_LOGIN"),
        ('{"command": "rooms"}', "USER_HAS_TO_LOGIN"),
        ('{"command": "login", "username": "alice", "password": "wrong"}', "LOGIN_FAILED"),
        ('{"command": "login", "username": "nobody", "password": "x"}', "LOGIN_FAILED"),
        ('{"command": "login", "token": "forged"}', "LOGIN_FAILED"),
    ],
)
async def test_errors_before_login_keep_the_connection_open(
    connect: ClientFactory, frame: str, code: str
) -> None:
    client = await connect()
    await client.connection.send(frame)
    assert (await client.recv())["error"] == code
    assert await client.request(command="ping") == {"pong": True}


async def test_binary_frames_get_bad_request(connect: ClientFactory) -> None:
    client = await connect()
    await client.connection.send(b'{"command": "ping"}')
    assert (await client.recv())["error"] == "BAD_REQUEST"
    assert await client.request(command="ping") == {"pong": True}


@pytest.mark.parametrize(
    ("credentials", "frame", "code"),
    [
        (ALICE, {"command": "join", "room": 999}, "ROOM_INVALID"),
        (ALICE, {"command": "join", "room": 2}, "ROOM_ACCESS_DENIED"),
        (ALICE, {"command": "send", "room": 1, "message": "not joined"}, "ROOM_ACCESS_DENIED"),
        (ALICE, {"command": "room.create", "title": "Mine"}, "PERMISSION_DENIED"),
        (ALICE, {"command": "history", "room": 999}, "ROOM_INVALID"),
        (ADMIN, {"command": "room.create", "title": "Lobby"}, "ROOM_TITLE_TAKEN"),
        (ADMIN, {"command": "user.create", "username": "alice", "password": "x-password"},
         "USER_EXISTS"),
        (ADMIN, {"command": "user.delete", "username": "ghost"}, "USER_UNKNOWN"),
        (ADMIN, {"command": "room.delete", "room": 999}, "ROOM_INVALID"),
        (ADMIN, {"command": "login", "username": "bob", "password": "bob-password"},
         "BAD_REQUEST"),
    ],
)
async def test_error_codes_after_login_echo_ref(
    connect: ClientFactory, credentials: tuple[str, str], frame: dict[str, object], code: str
) -> None:
    client = await connect(credentials)
    reply = await client.request(**frame, ref="r-42")
    assert reply["error"] == code and reply["ref"] == "r-42"
    assert isinstance(reply.get("detail"), str)


async def test_message_too_long_is_refused_and_not_stored(
    connect: ClientFactory, server: ChatServer
) -> None:
    client = await connect(ALICE)
    await client.join(LOBBY)
    await client.send(command="send", room=1, message="x" * 10_001, ref="long")
    reply = await client.expect_key("error")
    assert (reply["error"], reply["ref"]) == ("MESSAGE_TOO_LONG", "long")
    assert server.store is not None and server.store.last_seq(LOBBY) == 0


async def test_a_flood_gets_rate_limited(connect: ClientFactory) -> None:
    client = await connect(ALICE)
    await client.join(LOBBY)
    for i in range(150):  # a burst of 100 is allowed, far fewer refill meanwhile
        await client.send(command="send", room=1, message=f"m{i}")
    limited = await client.expect(lambda f: f.get("error") == "RATE_LIMITED")
    assert "slow down" in limited["detail"]


async def test_oversized_frames_close_the_connection_with_1009(connect: ClientFactory) -> None:
    client = await connect(ALICE)
    await client.connection.send("x" * (2**20 + 1))
    assert await client.closed() == 1009


async def test_rooms_are_listed_by_audience(connect: ClientFactory) -> None:
    alice = await connect(ALICE)
    staff = await connect(STAFF)
    seqs = {"kind": "room", "last_seq": 0, "read_seq": 0, "unread": 0}
    assert await alice.request(command="rooms") == {
        "rooms": [{"id": "1", "title": "Lobby", "staff_only": False, **seqs}]
    }
    assert (await staff.request(command="rooms"))["rooms"] == [
        {"id": "1", "title": "Lobby", "staff_only": False, **seqs},
        {"id": "2", "title": "Staff room", "staff_only": True, **seqs},
    ]


async def test_several_rooms_over_one_socket(connect: ClientFactory) -> None:
    admin = await connect(ADMIN)
    await admin.join(1)
    await admin.join(2)
    await admin.send(command="send", room=1, message="to lobby")
    await admin.send(command="send", room=2, message="to staff")
    got = [await admin.expect(lambda f: f.get("msg_type") == 0) for _ in range(2)]
    assert {(f["room"], f["message"], f["seq"]) for f in got} == {
        ("1", "to lobby", 1), ("2", "to staff", 1)
    }


async def test_client_id_makes_resends_idempotent(connect: ClientFactory) -> None:
    alice = await connect(ALICE)
    bob = await connect(BOB)
    await alice.join(LOBBY)
    await bob.join(LOBBY)
    await alice.send(command="send", room=1, message="once", client_id="abc")
    stored = await alice.expect(lambda f: f.get("client_id") == "abc")
    await alice.send(command="send", room=1, message="once", client_id="abc")
    again = await alice.expect(lambda f: f.get("client_id") == "abc")
    assert again == stored
    await alice.send(command="send", room=1, message="twice")
    await bob.expect(message_seq(2))
    assert [f.get("client_id") for f in bob.seen if f.get("msg_type") == 0] == ["abc", None]


async def test_reconnect_with_since_loses_and_repeats_nothing(connect: ClientFactory) -> None:
    sender = await connect(BOB)
    await sender.join(LOBBY)
    reader = await connect(ALICE)
    await reader.join(LOBBY)
    for i in range(1, 6):
        await sender.send(command="send", room=1, message=f"m{i}")
    await reader.expect(message_seq(5))
    await reader.close()
    for i in range(6, 31):
        await sender.send(command="send", room=1, message=f"m{i}")
    await sender.expect(message_seq(30))
    again = await connect(ALICE)
    await again.send(command="join", room=1, since=5)
    await again.expect(message_seq(30))
    await sender.send(command="send", room=1, message="m31")
    await again.expect(message_seq(31))
    seqs = [f["seq"] for f in again.seen if "seq" in f]
    assert seqs == list(range(6, 32))
    assert [next(iter(f)) for f in again.seen[1:4]] == ["join", "members", "room"]


async def test_history_pages_back(connect: ClientFactory) -> None:
    alice = await connect(ALICE)
    await alice.join(LOBBY)
    for i in range(1, 8):
        await alice.send(command="send", room=1, message=f"m{i}")
    await alice.expect(message_seq(7))
    await alice.send(command="history", room="1", before=6, limit=3, ref="h")
    page = await alice.expect_key("history")
    assert page["history"] == "1" and page["ref"] == "h"
    assert [m["message"] for m in page["messages"]] == ["m3", "m4", "m5"]
    assert all(m["room"] == "1" and "ts" in m for m in page["messages"])


async def test_token_login_and_logout(connect: ClientFactory) -> None:
    first = await connect()
    token = (await first.login(*ALICE))["login"]["token"]
    second = await connect()
    reply = await second.request(command="login", token=token, ref="t")
    assert reply["login"]["username"] == "alice" and reply["login"]["token"] == token
    assert reply["ref"] == "t"
    assert await second.request(command="logout") == {"logout": True}
    third = await connect()
    assert (await third.request(command="login", token=token))["error"] == "LOGIN_FAILED"


async def test_admin_flow_and_pushes(connect: ClientFactory) -> None:
    admin = await connect(ADMIN)
    alice = await connect(ALICE)
    await alice.join(LOBBY)
    await admin.send(command="room.create", title="Garden", staff_only=False)
    created = await admin.expect_key("room.created")  # after the change took effect
    assert created["room.created"]["title"] == "Garden"
    await alice.expect(lambda f: "rooms" in f and len(f["rooms"]) == 2)
    await admin.send(command="announce", room=1, message="Lunch!", msg_type=1)
    warning = await alice.expect(lambda f: f.get("msg_type") == 1)
    assert (warning["message"], warning["seq"]) == ("Lunch!", 1)
    await admin.send(command="room.delete", room=1)
    assert await alice.expect_key("leave") == {"leave": "1"}
    users = await admin.expect_key("room.deleted")
    assert users["room.deleted"]["id"] == "1"
    await admin.send(command="user.delete", username="alice")
    assert await alice.closed() == 4001


async def test_shutdown_closes_connections_with_1001(
    connect: ClientFactory, server: ChatServer
) -> None:
    client = await connect(ALICE)
    await client.join(LOBBY)
    await client.send(command="send", room=1, message="last words", client_id="lw")
    await client.expect(lambda f: f.get("client_id") == "lw")
    await server.stop()
    assert await client.closed() == 1001


async def test_a_reader_that_stops_reading_is_dropped_and_others_go_on(
    server: ChatServer, connect: ClientFactory
) -> None:
    """Slow consumers: the server drops a stalled reader instead of buffering for it."""
    assert server.chat is not None
    server.chat.config = server.chat.config.replace(send_burst=10**6, send_rate=10**6)
    server.chat.user_buckets = UserBuckets(10**6, 10**6)
    url = f"ws://127.0.0.1:{server.port}"
    stalled = await ws_connect(url, max_queue=1, open_timeout=TIMEOUT)
    stalled_client = ProtocolClient(stalled)
    await stalled_client.login(*BOB)
    await stalled_client.join(LOBBY)
    stalled.transport.pause_reading()  # a client that never reads again
    sender = await connect(ALICE)
    await sender.join(LOBBY)

    def bob_connected() -> bool:
        assert server.chat is not None
        return any(s.user and s.user.username == "bob" for s in server.chat.sessions)

    big = "y" * 9_000
    sent = 0
    while bob_connected():
        assert sent < 20_000, "the stalled reader was never dropped"
        for _ in range(50):
            await sender.send(command="send", room=1, message=big)
        sent += 50
        await sender.expect(message_seq(sent))
    stalled.transport.resume_reading()
    await asyncio.wait_for(stalled.wait_closed(), TIMEOUT)
    assert stalled.protocol.close_rcvd is None  # aborted: no close frame behind the backlog
    await sender.send(command="send", room=1, message="still fine")
    event = await sender.expect(lambda f: f.get("message") == "still fine")
    assert event["seq"] == sent + 1


async def test_sessions_are_isolated_from_each_others_garbage(connect: ClientFactory) -> None:
    alice = await connect(ALICE)
    bob = await connect(BOB)
    await bob.join(LOBBY)
    await alice.join(LOBBY)
    for frame in ("{", "[1]", json.dumps({"command": "send", "room": 1, "message": ["x"]}),
                  json.dumps({"command": "join", "room": {"$gt": 0}})):
        await alice.connection.send(frame)
        assert (await alice.expect_key("error"))["error"] == "BAD_REQUEST"
    await bob.send(command="send", room=1, message="unaffected")
    assert (await alice.expect(lambda f: f.get("msg_type") == 0))["message"] == "unaffected"


async def test_pings_detect_a_dead_peer_and_clear_its_presence(
    server_config: ServerConfig, passwords: Passwords
) -> None:
    """A peer that answers no ping (a vanished laptop) is dropped and leaves its rooms."""
    config = server_config.replace(ping_interval=0.2, ping_timeout=0.2, close_timeout=0.2)
    async with ChatServer(config, passwords=passwords) as chat_server:
        assert chat_server.store is not None and chat_server.chat is not None
        seed_accounts(chat_server.store, passwords)
        url = f"ws://127.0.0.1:{chat_server.port}"
        watcher = await ProtocolClient.open(url)
        await watcher.login(*ALICE)
        await watcher.join(LOBBY)
        silent = await ProtocolClient.open(url, ping_interval=None)
        await silent.login(*BOB)
        await silent.join(LOBBY)
        silent.connection.transport.pause_reading()  # reads nothing, so answers no ping
        left = await watcher.expect(lambda f: f.get("msg_type") == 5)
        assert left["username"] == "bob"
        assert chat_server.chat.presence.usernames(LOBBY) == ["alice"]
        silent.connection.transport.abort()
        await watcher.close()


class PingCounting(ClientConnection):
    """A client connection that counts the server's pings it answered (websockets answers)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pings = 0
        self.pinged = asyncio.Event()

    def process_event(self, event: Event) -> None:
        super().process_event(event)
        if isinstance(event, Frame) and event.opcode is Opcode.PING:
            self.pings += 1
            self.pinged.set()


async def test_pings_go_on_for_a_live_peer_until_it_falls_silent(
    server_config: ServerConfig, passwords: Passwords
) -> None:
    """Round after round: a peer that answered five pings and then reads nothing is dropped."""
    config = server_config.replace(ping_interval=0.05, ping_timeout=0.5, close_timeout=0.2)
    async with ChatServer(config, passwords=passwords) as chat_server:
        assert chat_server.store is not None
        seed_accounts(chat_server.store, passwords)
        url = f"ws://127.0.0.1:{chat_server.port}"
        watcher = await ProtocolClient.open(url)
        await watcher.login(*ALICE)
        await watcher.join(LOBBY)
        peer = await ProtocolClient.open(url, ping_interval=None, create_connection=PingCounting)
        counting = peer.connection
        assert isinstance(counting, PingCounting)
        await peer.login(*BOB)
        await peer.join(LOBBY)
        while counting.pings < 5:  # each answered in time, or it would have been dropped
            counting.pinged.clear()
            await asyncio.wait_for(counting.pinged.wait(), TIMEOUT)
        counting.transport.pause_reading()
        left = await watcher.expect(lambda f: f.get("msg_type") == 5)
        assert left["username"] == "bob"
        counting.transport.abort()
        await watcher.close()


async def test_a_fan_out_reaches_compressed_and_plain_connections_alike(
    server_config: ServerConfig, passwords: Passwords
) -> None:
    """A room event is framed once for plain peers; a compressing peer frames its own."""
    async with ChatServer(server_config.replace(compression=True), passwords=passwords) as chat:
        assert chat.store is not None
        seed_accounts(chat.store, passwords)
        url = f"ws://127.0.0.1:{chat.port}"
        squeezed = await ProtocolClient.open(url, compression="deflate")
        plain = await ProtocolClient.open(url, compression=None)
        assert squeezed.connection.protocol.extensions
        assert not plain.connection.protocol.extensions
        for client, who in ((squeezed, ALICE), (plain, BOB)):
            await client.login(*who)
            await client.join(LOBBY)
        texts = [f"message {n} " + "x" * n for n in (1, 200, 9_000)]
        for text in texts:
            await plain.send(command="send", room=LOBBY, message=text)
        for client in (squeezed, plain):
            got = [await client.expect(lambda f: f.get("msg_type") == 0) for _ in texts]
            assert [f["message"] for f in got] == texts
            assert [f["seq"] for f in got] == [1, 2, 3]
            await client.close()
