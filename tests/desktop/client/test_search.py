"""ChatClient.search against a real server: results as typed frames with their rooms, the
next page by the cursor, refusals as searchFailed in words (never a room's error)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient
from multichat.desktop.client.search import SearchPage, describe_search_error
from multichat.desktop.services.hosting import ServerThread
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent
from multichat.server.chat.passwords import Passwords
from multichat.server.net import ChatServer
from multichat.server.store.records import NewMessage
from tests.conftest import ALICE
from tests.desktop.conftest import seeded_server_thread
from tests.desktop.helpers import WAIT_MS, log_in
from tests.helpers.servers import loopback_config

BURST = 6  # the login and the room list take two of them


@pytest.fixture
def strict_server(tmp_path: Path, passwords: Passwords) -> Iterator[ServerThread]:
    """A server whose command bucket is small and refills slowly: searches run out."""
    thread = seeded_server_thread(
        loopback_config(tmp_path / "strict", command_burst=BURST, command_rate=0.01,
                        poll_interval=0.2), passwords)
    yield thread
    thread.stop()


def say(server: ServerThread, texts: list[str]) -> None:
    async def fill(chat: ChatServer) -> None:
        assert chat.store is not None
        batch = [NewMessage(1, None, "bob", MsgType.MESSAGE, text, None, 1_000 + i)
                 for i, text in enumerate(texts)]
        await asyncio.to_thread(chat.store.append_messages, batch)

    server.call(fill)


def test_results_carry_their_room_and_the_cursor_reaches_the_oldest(
    qtbot: QtBot, hosted_server: ServerThread, make_client: Callable[[], ChatClient],
) -> None:
    say(hosted_server, [f"lunch {i}" for i in range(5)] + ["brunch"])
    client = make_client()
    log_in(qtbot, client, hosted_server, ALICE)
    with qtbot.waitSignal(client.searchResults, timeout=WAIT_MS) as first:
        ref = client.search("LUNCH", limit=3)
    page = first.args[0]
    assert isinstance(page, SearchPage) and page.ref == ref and page.first
    assert page.query == "LUNCH" and page.room == ""
    assert all(isinstance(event, RoomEvent) and event.room == 1 for event in page.results)
    assert [event.message for event in page.results] == ["lunch 4", "lunch 3", "lunch 2"]
    assert page.more and page.next is not None
    with qtbot.waitSignal(client.searchResults, timeout=WAIT_MS) as second:
        client.search("LUNCH", "1", before=page.next, limit=3)
    older = second.args[0]
    assert older.room == "1" and older.before == page.next
    assert [event.message for event in older.results] == ["lunch 1", "lunch 0"]
    assert not older.more and older.next is None
    with qtbot.waitSignal(client.searchFailed, timeout=WAIT_MS) as refused:
        missing = client.search("lunch", "999")  # no such room
    assert refused.args == [missing, "ROOM_INVALID",
                            "That room is gone, or you are no longer in it."]


def test_a_refused_search_comes_as_search_failed_in_words(
    qtbot: QtBot, strict_server: ServerThread, make_client: Callable[[], ChatClient],
) -> None:
    client = make_client()
    log_in(qtbot, client, strict_server, ALICE)
    room_errors: list[tuple[str, str, str]] = []
    client.errorOccurred.connect(lambda *args: room_errors.append(args))
    failed: list[tuple[str, str, str]] = []
    client.searchFailed.connect(lambda *args: failed.append(args))
    refs = [client.search(f"word{i}") for i in range(BURST + 2)]
    qtbot.waitUntil(lambda: bool(failed), timeout=WAIT_MS)
    ref, code, words = failed[0]
    assert ref in refs and code == "RATE_LIMITED"
    assert words.startswith("Too many searches in a row")
    assert room_errors == []  # a search's refusal is the search box's, not a room's


def test_a_search_the_server_stopped_says_what_to_do() -> None:
    assert describe_search_error("LIMIT_REACHED", "search took too long").startswith(
        "This search took too long. Add letters or words")
    assert "NEW_CODE: why" in describe_search_error("NEW_CODE", "why")
