"""The cluster bench's Channels peer speaks the seed's protocol: a real daphne on a real
PostgreSQL and Redis, real WebSocket clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.helpers.services import RedisService, free_port, wait_until
from tests.helpers.timing import TIMEOUT

pytest.importorskip("daphne")
pytest.importorskip("channels_redis")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def peer(postgres_url: str, redis_service: RedisService, tmp_path: Path) -> Iterator[str]:
    """One daphne worker of the peer, on a fresh database with rooms 1 and 2; its URL."""
    env = {**os.environ, "PEER_DATABASE": postgres_url, "PEER_REDIS": redis_service.url,
           "DJANGO_SETTINGS_MODULE": "bench.channels_peer.settings"}
    subprocess.run([sys.executable, "-m", "bench.channels_peer.prepare", "2"], cwd=ROOT,
                   env=env, check=True, timeout=TIMEOUT * 6)
    port = free_port()
    with (tmp_path / "daphne.log").open("wb") as log:
        daphne = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "bench.channels_peer.asgi:application"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _accepts(port, daphne), "daphne", TIMEOUT * 3)
        yield f"ws://127.0.0.1:{port}/"
    finally:
        daphne.terminate()
        daphne.wait(TIMEOUT)


def _accepts(port: int, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"daphne exited with {process.returncode}")
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def ask(ws: ClientConnection, command: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps(command))
    return dict(json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)))


async def test_the_peer_logs_in_joins_and_fans_a_message_out_in_the_seed_frames(
        peer: str) -> None:
    async with contextlib.AsyncExitStack() as stack:
        alice = await stack.enter_async_context(connect(peer))
        bob = await stack.enter_async_context(connect(peer))
        for n, ws in enumerate((alice, bob)):
            assert (await ask(ws, {"command": "login", "token": f"bench-token-{n}"}))[
                "login"]["username"] == f"u{n}"
            assert await ask(ws, {"command": "join", "room": "1"}) == {"join": "1",
                                                                       "title": "Room 1"}
        await alice.send(json.dumps({"command": "send", "room": "1", "message": "hi"}))
        seen = [json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)) for ws in (alice, bob)]
    assert seen == [{"msg_type": 0, "room": "1", "username": "u0", "message": "hi"}] * 2


async def test_the_peer_answers_the_seed_errors(peer: str) -> None:
    async with connect(peer) as ws:
        assert await ask(ws, {"command": "join", "room": "1"}) == {"error": "USER_HAS_TO_LOGIN"}
        await ask(ws, {"command": "login", "token": "bench-token-3"})
        assert await ask(ws, {"command": "join", "room": "99"}) == {"error": "ROOM_INVALID"}
        assert await ask(ws, {"command": "send", "room": "2", "message": "x"}) == {
            "error": "ROOM_ACCESS_DENIED"}
        assert await ask(ws, {"command": "join", "room": "2"}) == {"join": "2",
                                                                   "title": "Room 2"}
        assert await ask(ws, {"command": "leave", "room": "2"}) == {"leave": "2"}
