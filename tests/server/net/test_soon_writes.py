"""Presence notices under a burst: each one arrives, in order, and never after a later frame.

A connection writes notices (ENTER, LEAVE) at once when it had none in the
last moment, else a few at a time (net/peer.py, ``SoonWrites``). What a
client can see of it: every notice of a burst of joins and leaves, in the
order they happened, and a message sent after them arriving after them all;
on plain and compressed connections alike.
"""

from __future__ import annotations

import pytest

from multichat.protocol.codes import MsgType
from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ADMIN, ALICE, BOB, STAFF, seeded_server

LOBBY = 1
ROUNDS = 30
ENTER, LEAVE = int(MsgType.ENTER), int(MsgType.LEAVE)


@pytest.mark.parametrize("compression", [None, "deflate"])
async def test_a_burst_of_notices_arrives_whole_in_order_before_the_next_message(
        server_config: ServerConfig, passwords: Passwords, clients: list[ProtocolClient],
        compression: str | None) -> None:
    config = server_config.replace(user_join_burst=10_000, user_join_rate=10_000.0,
                                   command_burst=10_000, command_rate=10_000.0,
                                   compression=True)
    async with seeded_server(config, passwords) as server:
        url = f"ws://127.0.0.1:{server.port}"
        watcher = await ProtocolClient.open(url, compression=compression)
        clients.append(watcher)
        await watcher.login(*ALICE)
        await watcher.join(LOBBY)
        movers = []
        for who in (BOB, ADMIN, STAFF):
            mover = await ProtocolClient.open(url, compression=None)
            clients.append(mover)
            await mover.login(*who)
            movers.append((mover, who[0]))
        expected = []
        for _ in range(ROUNDS):  # each round: every mover joins, then leaves
            for mover, name in movers:
                await mover.join(LOBBY)
                expected.append((ENTER, name))
            for mover, name in movers:
                await mover.request(command="leave", room=LOBBY)
                expected.append((LEAVE, name))
        await watcher.send(command="send", room=LOBBY, message="after the burst",
                           client_id="after")
        await watcher.expect(lambda f: f.get("message") == "after the burst")
        seen = [(f["msg_type"], f["username"]) for f in watcher.seen
                if f.get("msg_type") in (ENTER, LEAVE) and f["username"] != "alice"]
        assert seen == expected  # every notice, in order, before the message after them
        assert watcher.seen[-1].get("message") == "after the burst"


async def test_notices_that_wait_go_out_on_their_own(
        server_config: ServerConfig, passwords: Passwords,
        clients: list[ProtocolClient]) -> None:
    """Nothing else sent to the watcher: the notices that waited still arrive, all of them."""
    config = server_config.replace(user_join_burst=10_000, user_join_rate=10_000.0,
                                   command_burst=10_000, command_rate=10_000.0)
    async with seeded_server(config, passwords) as server:
        url = f"ws://127.0.0.1:{server.port}"
        watcher = await ProtocolClient.open(url)
        clients.append(watcher)
        await watcher.login(*ALICE)
        await watcher.join(LOBBY)
        bob = await ProtocolClient.open(url)
        clients.append(bob)
        await bob.login(*BOB)
        for _ in range(ROUNDS):
            await bob.join(LOBBY)
            await bob.request(command="leave", room=LOBBY)
        notices: list[int] = []
        while len(notices) < 2 * ROUNDS:
            frame = await watcher.expect(lambda f: f.get("username") == "bob")
            notices.append(frame["msg_type"])
        assert notices == [ENTER, LEAVE] * ROUNDS
