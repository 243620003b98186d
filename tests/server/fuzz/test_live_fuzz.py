"""A bounded fuzz of a live server over a real socket.

bob's connection sends hypothesis-drawn text and binary frames, each followed
by a ``ping``; everything read until its pong must be a JSON object, and any
error must carry a known code. The connection stays open throughout (every
frame is under the size limit), sam, staff, in the staff room where bob may
not go, sees nothing of it, and the server still logs a newcomer in.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from websockets.protocol import State

from multichat.protocol import ErrorCode
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.conftest import ALICE, BOB, STAFF, ClientFactory
from tests.helpers.client import Frame, ProtocolClient
from tests.helpers.timing import TIMEOUT
from tests.server.fuzz.frames import wire_frames

FUZZ = settings.get_profile("fuzz")
STAFF_ROOM = 2
ERROR_CODES = {code.value for code in ErrorCode}
_refs = itertools.count()


@pytest.fixture
def server_config(tmp_path: Path) -> ServerConfig:
    """The shared server's, but with no login lock-outs: the fuzz fails many logins from
    127.0.0.1, which must not lock the newcomer out (the rules' fuzz covers lock-outs)."""
    return ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "server",
                        poll_interval=0.2, advertise=False, login_free_failures=10**9)


@pytest.fixture
async def watcher(server: ChatServer, connect: ClientFactory) -> ProtocolClient:
    # The accounts and rooms were seeded under the running server: take them in now,
    # or the poller pushes a `rooms` frame to whoever is logged in when it next looks.
    assert server.chat is not None
    await server.chat.reconcile()
    client = await connect(STAFF)
    await client.join(STAFF_ROOM)
    await until_pong(client)  # its own ENTER
    return client


@pytest.fixture
async def attacker(connect: ClientFactory, watcher: ProtocolClient) -> ProtocolClient:
    return await connect(BOB)


async def until_pong(client: ProtocolClient) -> list[Frame]:
    """Ping, then read every frame until the pong; return the frames before it."""
    ref = f"fuzz-{next(_refs)}"
    await client.send(command="ping", ref=ref)
    frames: list[Frame] = []
    while True:
        raw = await asyncio.wait_for(client.connection.recv(), TIMEOUT)
        assert isinstance(raw, str), f"a binary frame from the server: {raw!r}"
        frame = json.loads(raw)
        assert isinstance(frame, dict), frame
        if frame == {"pong": True, "ref": ref}:
            return frames
        frames.append(frame)


@settings(FUZZ, max_examples=200)
@given(frame=wire_frames())
@example(frame='{"command": "ping", "ref": "\\ud800"}')  # once closed the connection (1011)
@example(frame='{"command": "join", "room": "' + "9" * 4301 + '"}')  # ditto
@example(frame='{"command": "send", "room": 1, "message": "\\udfff"}')
@example(frame=b'{"command": "ping"}')
async def test_a_live_server_answers_every_frame_and_stays_up(
    connect: ClientFactory, attacker: ProtocolClient, watcher: ProtocolClient,
    frame: str | bytes,
) -> None:
    await attacker.connection.send(frame)
    for reply in await until_pong(attacker):
        if "error" in reply:
            assert reply["error"] in ERROR_CODES, reply
    assert attacker.connection.state is State.OPEN
    # A dm.open naming sam rightly pushes sam's room list (as the rules fuzzer allows).
    seen = [f for f in await until_pong(watcher) if "rooms" not in f]
    assert seen == [], "something reached the staff room"
    newcomer = await connect()
    await newcomer.login(*ALICE)
    await newcomer.close()
