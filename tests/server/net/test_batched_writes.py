"""A batch of stored events goes to each connection in one write, in seq order, bounded.

Many sends queued at once make the writer commit them in batches of several;
each member then gets one write per batch (net/peer.py, ``HeldWrites``). What
a client can see of it: every event, in seq order, on plain and compressed
connections alike; a pong still after the events it waited for; and a client
that stops reading still dropped at its output bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ADMIN, ALICE, BOB, STAFF, seeded_server

LOBBY = 1
PER_SENDER = 150
SENDERS = (ALICE, BOB, ADMIN)


@pytest.fixture
async def busy_server(server_config: ServerConfig,
                      passwords: Passwords) -> AsyncIterator[ChatServer]:
    config = server_config.replace(send_burst=10_000, send_rate=10_000.0,
                                   user_send_burst=10_000, user_send_rate=10_000.0,
                                   command_burst=10_000, command_rate=10_000.0,
                                   compression=True)
    async with seeded_server(config, passwords) as server:
        yield server


async def opened(server: ChatServer, who: tuple[str, str], **options: Any) -> ProtocolClient:
    """A client in the Lobby; uncompressed unless ``compression="deflate"``."""
    options.setdefault("compression", None)
    client = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}", **options)
    await client.login(*who)
    await client.join(LOBBY)
    return client


async def room_seqs(client: ProtocolClient, count: int) -> list[int]:
    """The seqs of the next ``count`` messages the client receives in the Lobby."""
    seqs: list[int] = []
    while len(seqs) < count:
        frame = await client.expect(lambda f: f.get("msg_type") == 0)
        assert frame["room"] == str(LOBBY)
        seqs.append(frame["seq"])
    return seqs


async def test_a_burst_reaches_every_member_whole_and_in_seq_order(
        busy_server: ChatServer, clients: list[ProtocolClient]) -> None:
    senders = [await opened(busy_server, who) for who in SENDERS]
    plain = await opened(busy_server, STAFF)
    compressed = await opened(busy_server, STAFF, compression="deflate")
    clients += [*senders, plain, compressed]
    assert compressed.connection.protocol.extensions  # the server agreed to deflate
    assert not plain.connection.protocol.extensions
    chat = busy_server.chat
    assert chat is not None
    batches_before = chat.writer.batches
    total = PER_SENDER * len(senders)

    async def burst(client: ProtocolClient, name: str) -> None:
        for n in range(PER_SENDER):  # no waiting for replies: they queue up at the server
            await client.send(command="send", room=LOBBY, message=f"{name} {n}",
                              client_id=f"{name}-{n}")

    readers = [asyncio.create_task(room_seqs(client, total))
               for client in (*senders, plain, compressed)]
    await asyncio.gather(*(burst(client, who[0]) for client, who in zip(senders, SENDERS,
                                                                          strict=True)))
    for seqs in await asyncio.gather(*readers):
        assert seqs == list(range(1, total + 1))
    # Batches of several formed (else this test would not exercise the held writes).
    assert chat.writer.batches - batches_before < total


async def test_a_pong_comes_after_the_events_of_the_sends_before_it(
        busy_server: ChatServer, clients: list[ProtocolClient]) -> None:
    alice, bob = await opened(busy_server, ALICE), await opened(busy_server, BOB)
    clients += [alice, bob]
    for n in range(PER_SENDER):
        await bob.send(command="send", room=LOBBY, message=f"x{n}", client_id=f"b{n}")
        await alice.send(command="send", room=LOBBY, message=f"y{n}", client_id=f"a{n}")
    await alice.send(command="ping")
    pong = await alice.expect(lambda f: "pong" in f)
    assert pong["pong"] is True
    own = [f for f in alice.seen if f.get("msg_type") == 0 and f["username"] == "alice"]
    assert len(own) == PER_SENDER  # every send of alice's was out before the pong
    seqs = [f["seq"] for f in alice.seen if f.get("msg_type") == 0]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_a_client_that_stops_reading_is_dropped_in_a_burst(
        server_config: ServerConfig, passwords: Passwords,
        clients: list[ProtocolClient]) -> None:
    config = server_config.replace(send_burst=10_000, send_rate=10_000.0,
                                   user_send_burst=10_000, user_send_rate=10_000.0,
                                   max_message_chars=2**16, max_frame_bytes=2**18,
                                   max_output_bytes=2**20)
    async with seeded_server(config, passwords) as server:
        alice, bob, sam = (await opened(server, ALICE), await opened(server, BOB),
                           await opened(server, STAFF))
        clients += [alice, bob, sam]
        sam.connection.transport.pause_reading()  # sam stops reading
        try:
            text = "z" * 2**16
            sent = 0
            left = None
            while left is None and sent < 2000:  # ~130 MB at most: far past any buffers
                for _ in range(20):
                    await bob.send(command="send", room=LOBBY, message=text)
                sent += 20
                seqs = await room_seqs(alice, 20)  # the readers keep up
                assert seqs == list(range(sent - 19, sent + 1))
                left = next((f for f in alice.seen
                             if f.get("msg_type") == 5 and f["username"] == "sam"), None)
            assert left is not None, "the silent client was never dropped"
        finally:
            sam.connection.transport.abort()
