"""A real server on a free loopback port with the seeded accounts: one way to start one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from multichat.server.store import Store

ADMIN = ("admin", "admin-password")
ALICE = ("alice", "alice-password")
BOB = ("bob", "bob-password")
STAFF = ("sam", "staff-password")


def hashing_with(passwords: Passwords) -> Callable[[ServerConfig], ChatServer]:
    """What makes a ChatServer that hashes with ``passwords`` (a ServerThread's make_server)."""
    return partial(ChatServer, passwords=passwords)


def seed_accounts(store: Store, passwords: Passwords) -> None:
    """An admin, two users and a staff member; a public and a staff-only room."""
    store.create_user(ADMIN[0], passwords.hash(ADMIN[1]), is_superuser=True)
    store.create_user(ALICE[0], passwords.hash(ALICE[1]))
    store.create_user(BOB[0], passwords.hash(BOB[1]))
    store.create_user(STAFF[0], passwords.hash(STAFF[1]), is_staff=True)
    store.create_room("Lobby")
    store.create_room("Staff room", staff_only=True)


def loopback_config(data_dir: Path, **settings: Any) -> ServerConfig:
    """A server on 127.0.0.1, a free port, advertising nothing; ``settings`` on top."""
    base: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "data_dir": data_dir,
                            "advertise": False}
    return ServerConfig(**{**base, **settings})


@asynccontextmanager
async def seeded_server(config: ServerConfig, passwords: Passwords,
                        **options: Any) -> AsyncIterator[ChatServer]:
    """Start ``config``'s server, seed it (Lobby is room 1), stop it at the end.

    ``options`` go to ``ChatServer`` (a ``clock`` of the test's, say)."""
    async with ChatServer(config, passwords=passwords, **options) as server:
        assert server.store is not None and server.chat is not None
        seed_accounts(server.store, passwords)
        # As a running server takes in the admin CLI's changes: now, not at a poll
        # that would push a fresh room list into the middle of a test.
        await server.chat.reconcile()
        yield server
