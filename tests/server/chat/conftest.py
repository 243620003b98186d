"""The chat rules on a real SQLite store and the in-process broker, with recording peers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from multichat.protocol import decode_command
from multichat.server.broker import LocalBroker
from multichat.server.chat import ChatError, ChatService, Session
from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.store import Store
from tests.conftest import seed_accounts
from tests.helpers.peer import RecordingPeer


class ChatHarness:
    def __init__(self, chat: ChatService) -> None:
        self.chat = chat
        self.store = chat.store

    async def session(
        self, credentials: tuple[str, str] | None = None, address: str = "192.0.2.1"
    ) -> tuple[Session, RecordingPeer]:
        peer = RecordingPeer(address)
        session = self.chat.connect(peer)
        if credentials:
            error = await self.run(session, command="login", username=credentials[0],
                                   password=credentials[1])
            assert error is None, error
            assert "login" in peer.take()[-1]
        return session, peer

    async def run(self, session: Session, **frame: Any) -> ChatError | None:
        """Carry out one command as the edge would; return the ChatError, if any."""
        try:
            await self.chat.execute(session, decode_command(json.dumps(frame)))
        except ChatError as exc:
            return exc
        return None

    async def joined(self, credentials: tuple[str, str], room: int = 1,
                     address: str = "192.0.2.1") -> tuple[Session, RecordingPeer]:
        session, peer = await self.session(credentials, address)
        assert await self.run(session, command="join", room=room) is None
        await peer.expect_key("members")
        return session, peer


@pytest.fixture
async def harness(tmp_path: Path, passwords: Passwords) -> AsyncIterator[ChatHarness]:
    store = Store.open_data_dir(tmp_path / "chat")
    seed_accounts(store, passwords)
    config = ServerConfig(poll_interval=0.1, send_burst=5, send_rate=1.0)
    chat = ChatService(store, LocalBroker(), config, passwords=passwords)
    await chat.start()
    try:
        yield ChatHarness(chat)
    finally:
        await chat.stop()
        store.close()
