"""One account holder can't stall everyone's password logins.

Seen before: logging in and out in a loop with the right password (never
throttled) from a few connections kept both Argon2 slots busy; another
user's login went from 0.1 s to 2.3 s (one address) and 7 s (three). Now
each connection, address and account holds at most one slot at a time.

The Argon2 checks here are real but wait, inside the check, for the test to
let them finish, so which ones run at once is seen directly, not timed.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path

import argon2
import pytest

from multichat.server.chat.passwords import Passwords
from multichat.server.net import ChatServer
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ALICE, BOB, loopback_config, seeded_server
from tests.helpers.waiting import eventually


class HeldPasswords(Passwords):
    """Real Argon2 whose checks wait inside until released; notes who is being checked."""

    def __init__(self) -> None:
        super().__init__(argon2.profiles.CHEAPEST)
        self.running: list[str] = []
        self._lock = threading.Lock()
        self.release = threading.Event()
        self.release.set()  # seeding hashes passwords without waiting

    def verify(self, password_hash: str | None, password: str) -> bool:
        with self._lock:
            self.running.append(password)
        try:
            self.release.wait()
            return super().verify(password_hash, password)
        finally:
            with self._lock:
                self.running.remove(password)


@pytest.fixture
async def held() -> HeldPasswords:
    return HeldPasswords()


@pytest.fixture
async def server(tmp_path: Path, held: HeldPasswords) -> AsyncIterator[ChatServer]:
    async with seeded_server(loopback_config(tmp_path / "server"), held) as server:
        try:
            yield server
        finally:
            held.release.set()  # nothing may wait on a check when the server stops


async def open_from(server: ChatServer, address: str) -> ProtocolClient:
    return await ProtocolClient.open(f"ws://127.0.0.1:{server.port}/",
                                     local_addr=(address, 0))


async def test_one_address_with_many_connections_leaves_a_slot_for_others(
    server: ChatServer, held: HeldPasswords,
) -> None:
    held.release.clear()
    attackers = [await open_from(server, "127.0.0.1") for _ in range(4)]
    for attacker in attackers:
        await attacker.send(command="login", username=ALICE[0], password=ALICE[1])
    await eventually(lambda: held.running == [ALICE[1]])
    bob = await open_from(server, "127.0.0.2")
    await bob.send(command="login", username=BOB[0], password=BOB[1])
    # bob's check starts while the attacker's still runs: it did not queue behind them
    await eventually(lambda: sorted(held.running) == sorted([ALICE[1], BOB[1]]))
    held.release.set()
    assert "login" in await bob.expect(lambda frame: "login" in frame or "error" in frame)
    for attacker in attackers:
        assert "login" in await attacker.expect(lambda f: "login" in f or "error" in f)
        await attacker.close()
    await bob.close()


async def test_many_addresses_guessing_one_account_take_one_slot(
    server: ChatServer, held: HeldPasswords,
) -> None:
    held.release.clear()
    guessers = [await open_from(server, f"127.0.0.{n}") for n in range(10, 14)]
    for guesser in guessers:
        await guesser.send(command="login", username=ALICE[0], password="guess")
    await eventually(lambda: held.running == ["guess"])
    bob = await open_from(server, "127.0.0.2")
    await bob.send(command="login", username=BOB[0], password=BOB[1])
    await eventually(lambda: sorted(held.running) == sorted(["guess", BOB[1]]))
    held.release.set()
    assert "login" in await bob.expect(lambda frame: "login" in frame or "error" in frame)
    for client in (*guessers, bob):
        await client.close()
