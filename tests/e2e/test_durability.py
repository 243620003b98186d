"""kill -9 under load: every message anyone saw survives, and seq carries on from there."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.helpers.client import ProtocolClient, two_in_the_lobby
from tests.helpers.process import ServerProcess, run_cli

pytestmark = pytest.mark.slow

SENT = 300
KILL_AFTER = 60  # messages the reader must have seen before the crash


def admin(data_dir: Path, home: Path, *args: str, stdin: str | None = None) -> None:
    result = run_cli(["admin", "--data-dir", str(data_dir), *args], home, stdin=stdin)
    assert result.returncode == 0, result.stderr


async def history(client: ProtocolClient, room: int) -> list[dict[str, object]]:
    """Every stored event of a room, paging back from the newest."""
    events: list[dict[str, object]] = []
    before: int | None = None
    while True:
        request: dict[str, object] = {"command": "history", "room": room, "limit": 200}
        if before is not None:
            request["before"] = before
        await client.send(**request)
        page = (await client.expect_key("history"))["messages"]
        if not page:
            return events
        events = page + events
        before = page[0]["seq"]


def messages(client: ProtocolClient) -> list[dict[str, object]]:
    return [frame for frame in client.seen if frame.get("msg_type") == 0]


async def crash_under_load(data_dir: Path, home: Path) -> list[dict[str, object]]:
    """Send a burst, SIGKILL the server mid-stream; return the messages anyone saw.

    That is every event the reader got and every one the writer got back for
    its own sends: the confirmations that they were stored.
    """
    server = ServerProcess(data_dir, home)
    try:
        writer, reader = await two_in_the_lobby(server.url, ("writer", "writer-pw"),
                                                ("reader", "reader-pw"))
        for i in range(SENT):  # pipelined: the server stores them as fast as it can
            await writer.send(command="send", room=1, message=f"m{i}", client_id=f"c{i}")
        while len(messages(reader)) < KILL_AFTER:
            await reader.recv()
        server.kill()  # SIGKILL mid-stream: no shutdown, no flush
        # Whatever else reached either client before its socket died was seen too.
        for client in (reader, writer):
            with contextlib.suppress(ConnectionClosed):
                while True:
                    await client.recv()
        assert messages(writer), "the writer got none of its messages back before the crash"
        return messages(reader) + messages(writer)
    finally:
        server.kill()


async def test_a_killed_server_loses_nothing_anyone_saw(tmp_path: Path) -> None:
    home, data_dir = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    admin(data_dir, home, "user", "add", "writer", stdin="writer-pw\n")
    admin(data_dir, home, "user", "add", "reader", stdin="reader-pw\n")
    admin(data_dir, home, "room", "add", "Lobby")
    seen = await crash_under_load(data_dir, home)

    restarted = ServerProcess(data_dir, home)
    try:
        reader = await ProtocolClient.open(restarted.url)
        await reader.login("reader", "reader-pw")
        stored = await history(reader, 1)
        assert [event["seq"] for event in stored] == list(range(1, len(stored) + 1))  # gapless
        by_seq = {event["seq"]: event for event in stored}
        for event in seen:  # everything anyone saw is there, unchanged
            assert by_seq[event["seq"]]["message"] == event["message"]
            assert by_seq[event["seq"]]["client_id"] == event["client_id"]
        assert len(stored) >= len({event["seq"] for event in seen}) >= KILL_AFTER

        # A resend of a stored client_id is answered with the stored event, not stored again.
        writer = await ProtocolClient.open(restarted.url)
        await writer.login("writer", "writer-pw")
        await writer.join(1, since=len(stored))
        first = stored[0]
        await writer.send(command="send", room=1, message=first["message"],
                          client_id=first["client_id"])
        echo = await writer.expect(lambda f: f.get("client_id") == first["client_id"])
        assert echo["seq"] == first["seq"] == 1
        # And seq carries on right after the last stored message.
        await writer.send(command="send", room=1, message="after the crash", client_id="new")
        fresh = await writer.expect(lambda f: f.get("client_id") == "new")
        assert fresh["seq"] == len(stored) + 1
        # A reader coming back with `since` gets exactly the rest.
        await reader.send(command="join", room=1, since=KILL_AFTER)
        # (Its "activity" for the lobby, not joined yet, carries a seq too: not an event.)
        await reader.expect(lambda f: "room" in f and f.get("seq") == len(stored) + 1)
        caught_up = [f["seq"] for f in reader.seen if "seq" in f and "room" in f]
        assert caught_up == list(range(KILL_AFTER + 1, len(stored) + 2))
        for client in (reader, writer):
            await client.close()
    finally:
        restarted.kill()
