"""Edits, deletions and reactions count like sends: a flood of them is limited."""

from __future__ import annotations

from pathlib import Path

import pytest

from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.conftest import ClientFactory
from tests.server.chat.test_conversations import LOBBY, answer, say, two_members


@pytest.fixture
def server_config(tmp_path: Path) -> ServerConfig:
    """A small send burst, so that a flood of reactions meets the limit quickly."""
    return ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "server",
                        poll_interval=0.2, advertise=False, send_burst=6, send_rate=0.001)


async def test_changes_spend_the_send_limit(connect: ClientFactory, server: ChatServer) -> None:
    alice, _ = await two_members(connect)
    original = await say(alice, "popular")  # 1 of the burst of 6
    answers = []
    for index in range(8):
        on = index % 2 == 0
        answers.append(await answer(alice, command="react", room=LOBBY, seq=original["seq"],
                                    emoji="👍", on=on))
    assert [a.get("error") for a in answers] == [None] * 5 + ["RATE_LIMITED"] * 3
    error = await say(alice, "and a send")
    assert error["error"] == "RATE_LIMITED"
    assert server.store is not None and server.store.last_seq(LOBBY) == 6


