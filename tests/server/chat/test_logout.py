"""A logout and a reconcile at the same time: the session hears its logout answered.

Seen in the rules fuzzer on a loaded machine (a barrier's pong never came): a
reconcile read the tokens just after a logout's revocation committed and
before the logout heard back from its store thread, found the session's token
gone, and closed the session as revoked elsewhere (4001); its ``logout`` answer
and everything after were never sent.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from multichat.server.broker import LocalBroker
from multichat.server.chat import ChatService
from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from multichat.server.store import Store
from multichat.server.store.errors import ReadOnly
from tests.conftest import BOB, seed_accounts
from tests.helpers.peer import RecordingPeer
from tests.helpers.timing import TIMEOUT


class LateAnsweringStore(Store):
    """A real store whose revocations commit at once but are answered only when the
    test lets them: its thread descheduled right after the commit, as on a loaded
    machine. With ``refuse`` set, the database refuses them instead."""

    committed: threading.Event
    answer: threading.Event
    refuse = False

    def revoke_token(self, token_hash: str) -> bool:
        if self.refuse:
            raise ReadOnly("the logout was not recorded")
        revoked = super().revoke_token(token_hash)
        self.committed.set()
        self.answer.wait(30)
        return revoked


@dataclass
class Chat:
    chat: ChatService
    store: LateAnsweringStore


@pytest.fixture
async def chat(tmp_path: Path, passwords: Passwords) -> AsyncIterator[Chat]:
    store = LateAnsweringStore.open_data_dir(tmp_path / "chat")
    assert isinstance(store, LateAnsweringStore)
    store.committed, store.answer = threading.Event(), threading.Event()
    seed_accounts(store, passwords)
    # No poll in the way: the test runs the reconcile itself, at the moment it means.
    chat = ChatService(store, LocalBroker(), ServerConfig(poll_interval=3600),
                       passwords=passwords)
    await chat.start()
    try:
        yield Chat(chat, store)
    finally:
        store.answer.set()
        await chat.stop()
        store.close()


async def test_a_reconcile_during_a_logout_leaves_its_answer_to_the_logout(
    chat: Chat,
) -> None:
    peer = RecordingPeer()
    session = chat.chat.connect(peer)
    await ChatServer.handle_frame(chat.chat, session, json.dumps(
        {"command": "login", "username": BOB[0], "password": BOB[1]}))
    await peer.expect_key("login")

    logout = asyncio.ensure_future(ChatServer.handle_frame(
        chat.chat, session, json.dumps({"command": "logout", "ref": "bye"})))
    await asyncio.to_thread(chat.store.committed.wait, TIMEOUT)  # revoked, not yet answered
    await chat.chat.reconcile()  # reads the token gone
    chat.store.answer.set()
    await asyncio.wait_for(logout, TIMEOUT)

    assert peer.closed is None, "the logging-out session was closed as revoked elsewhere"
    assert (await peer.expect(lambda frame: frame.get("ref") == "bye")).get("logout") is True
    await ChatServer.handle_frame(chat.chat, session, '{"command": "ping", "ref": "after"}')
    assert "pong" in await peer.expect(lambda frame: frame.get("ref") == "after")
    assert session.user is None


async def test_a_logout_the_database_refuses_leaves_the_session_on_its_token(
    chat: Chat,
) -> None:
    peer = RecordingPeer()
    session = chat.chat.connect(peer)
    await ChatServer.handle_frame(chat.chat, session, json.dumps(
        {"command": "login", "username": BOB[0], "password": BOB[1]}))
    token = (await peer.expect_key("login"))["login"]["token"]
    chat.store.refuse = True

    await ChatServer.handle_frame(chat.chat, session, json.dumps(
        {"command": "logout", "ref": "bye"}))
    assert "error" in await peer.expect(lambda frame: frame.get("ref") == "bye")
    # Still logged in, with the same token: a ticket is issued for it alone.
    await ChatServer.handle_frame(chat.chat, session, json.dumps(
        {"command": "session.ticket", "token": token, "ref": "ticket"}))
    assert "session.ticket" in await peer.expect(lambda frame: frame.get("ref") == "ticket")
    await chat.chat.reconcile()  # and the token is live: nothing closes the session
    assert peer.closed is None
