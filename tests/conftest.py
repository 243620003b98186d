"""Fixtures shared by every test: isolated user dirs, a real server on port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from multichat.server.chat.passwords import Passwords, cheap_passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from multichat.server.store import Store
from tests.helpers.client import ProtocolClient
from tests.helpers.servers import ADMIN, ALICE, BOB, STAFF, seed_accounts, seeded_server

__all__ = ["ADMIN", "ALICE", "BOB", "STAFF", "seed_accounts"]

# Real PostgreSQL and Redis servers, for the scale-out tests (and skipped without them).
pytest_plugins = ["tests.helpers.services"]

# Hypothesis must not judge speed: tests never depend on timing (CI machines vary).
settings.register_profile(
    "multichat", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("multichat")



@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Never touch the real user's home, data dir or keyring."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for name in ("MULTICHAT_DATABASE", "MULTICHAT_BROKER", "MULTICHAT_DATA_DIR", "MULTICHAT_PORT"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def passwords() -> Passwords:
    return cheap_passwords()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A new SQLite store in a temp data dir."""
    opened = Store.open_data_dir(tmp_path / "data")
    yield opened
    opened.close()


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    """The store of a test (tests/server/store runs its tests on PostgreSQL too)."""
    return sqlite_store


@pytest.fixture
def server_config(tmp_path: Path) -> ServerConfig:
    return ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "server", poll_interval=0.2,
                        advertise=False)


@pytest.fixture
async def server(server_config: ServerConfig, passwords: Passwords) -> AsyncIterator[ChatServer]:
    """A real server on a free loopback port with seeded accounts (Lobby is room 1)."""
    async with seeded_server(server_config, passwords) as chat_server:
        yield chat_server


ClientFactory = Callable[..., Awaitable[ProtocolClient]]


@pytest.fixture
async def connect(server: ChatServer) -> AsyncIterator[ClientFactory]:
    """Open clients to the server, logged in when given credentials; closed at the end."""
    clients: list[ProtocolClient] = []

    async def open_client(
        credentials: tuple[str, str] | None = None, path: str = "/"
    ) -> ProtocolClient:
        client = await ProtocolClient.open(f"ws://127.0.0.1:{server.port}{path}")
        clients.append(client)
        if credentials:
            await client.login(*credentials)
        return client

    yield open_client
    for client in clients:
        await client.close()
