"""Room commands are rate-limited as sends are: a join/leave loop can't flood a room's members.

Seen before: one connection looping join/leave made each of 60 members receive
763 ENTER/LEAVE frames a second. Now a connection gets a burst of commands and
then a steady rate, and a user's joins and leaves over all their connections
share one bucket; past either, RATE_LIMITED, and nobody hears of it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from multichat.server.chat.passwords import Passwords
from multichat.server.net import ChatServer
from tests.helpers.client import Frame, ProtocolClient
from tests.helpers.servers import ALICE, BOB, loopback_config, seeded_server

LOBBY = 1
ENTER, LEAVE = 4, 5
BURST, RATE = 20, 2.0  # the connection's commands
USER_BURST, USER_RATE = 30, 3.0  # the user's joins and leaves


@pytest.fixture
async def strict_server(tmp_path: Path, passwords: Passwords) -> AsyncIterator[ChatServer]:
    config = loopback_config(tmp_path / "server", command_burst=BURST, command_rate=RATE,
                             user_join_burst=USER_BURST, user_join_rate=USER_RATE)
    async with seeded_server(config, passwords) as server:
        yield server


async def client(server: ChatServer, credentials: tuple[str, str]) -> ProtocolClient:
    opened = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}/")
    await opened.login(*credentials)
    return opened


def notices_from(client: ProtocolClient, username: str) -> list[Frame]:
    return [f for f in client.seen
            if f.get("msg_type") in (ENTER, LEAVE) and f.get("username") == username]


async def flood(flooder: ProtocolClient, rounds: int) -> list[str]:
    """Join and leave the Lobby ``rounds`` times as fast as the socket goes; the errors."""
    for n in range(rounds):
        await flooder.send(command="join", room=LOBBY, ref=f"j{n}")
        await flooder.send(command="leave", room=LOBBY, ref=f"l{n}")
    await flooder.send(command="ping", ref="done")
    await flooder.expect(lambda frame: frame.get("ref") == "done", timeout=30)
    return [f["error"] for f in flooder.seen if "error" in f]


async def heard_all(watcher: ProtocolClient) -> None:
    await watcher.send(command="ping", ref="all")
    await watcher.expect(lambda frame: frame.get("ref") == "all")


async def test_a_join_leave_loop_is_rate_limited_and_members_hear_a_bounded_number(
    strict_server: ChatServer,
) -> None:
    watcher = await client(strict_server, BOB)
    await watcher.join(LOBBY)
    flooder = await client(strict_server, ALICE)
    started = time.monotonic()
    errors = await flood(flooder, 200)
    elapsed = time.monotonic() - started
    await heard_all(watcher)
    assert errors and set(errors) == {"RATE_LIMITED"}
    # at most the burst, then the rate, whatever the loop's speed (login took one command)
    allowed = BURST + RATE * elapsed
    assert len(notices_from(watcher, "alice")) <= allowed
    assert len(errors) >= 400 - allowed - 1
    await flooder.close()
    await watcher.close()


async def test_a_users_connections_share_one_join_bucket(strict_server: ChatServer) -> None:
    watcher = await client(strict_server, BOB)
    await watcher.join(LOBBY)
    flooders = [await client(strict_server, ALICE) for _ in range(4)]
    started = time.monotonic()
    await asyncio.gather(*(flood(f, BURST // 2) for f in flooders))  # each within its burst
    elapsed = time.monotonic() - started
    await heard_all(watcher)
    refused = sum(f.get("error") == "RATE_LIMITED" for c in flooders for f in c.seen)
    assert refused > 0  # 4 x 20 commands: past the user's 30
    assert len(notices_from(watcher, "alice")) <= USER_BURST + USER_RATE * elapsed
    for opened in (*flooders, watcher):
        await opened.close()
