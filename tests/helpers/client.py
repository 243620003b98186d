"""A plain protocol client for tests: JSON in and out over a real WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.helpers.timing import TIMEOUT

Frame = dict[str, Any]


class ProtocolClient:
    """One connection to a Multichat server, with waits that time out instead of hanging."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.seen: list[Frame] = []

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> ProtocolClient:
        # An unbounded incoming queue: a test that stops reading must not stall the close.
        kwargs.setdefault("max_queue", None)
        return cls(await connect(url, open_timeout=TIMEOUT, **kwargs))

    async def send(self, **frame: Any) -> None:
        await self.connection.send(json.dumps(frame))

    async def recv(self, timeout: float = TIMEOUT) -> Frame:
        raw = await asyncio.wait_for(self.connection.recv(), timeout)
        frame = json.loads(raw)
        assert isinstance(frame, dict)
        self.seen.append(frame)
        return frame

    async def request(self, **frame: Any) -> Frame:
        """Send a command and return the next frame (the direct reply, when nothing else flows)."""
        await self.send(**frame)
        return await self.recv()

    async def expect(self, predicate: Callable[[Frame], bool], timeout: float = TIMEOUT) -> Frame:
        """Read frames until one matches; the ones skipped stay in ``seen``."""
        async def wait() -> Frame:
            while True:
                frame = await self.recv(timeout=timeout)
                if predicate(frame):
                    return frame
        return await asyncio.wait_for(wait(), timeout)

    async def expect_key(self, key: str, timeout: float = TIMEOUT) -> Frame:
        return await self.expect(lambda f: key in f, timeout)

    async def login(self, username: str, password: str) -> Frame:
        reply = await self.request(command="login", username=username, password=password)
        assert "login" in reply, reply
        return reply

    async def join(self, room: int | str, **extra: Any) -> Frame:
        """Join and read the join reply and the members frame; returns the members frame."""
        await self.send(command="join", room=room, **extra)
        reply = await self.expect(lambda f: "join" in f or "error" in f)
        assert "join" in reply, reply
        members = await self.recv()
        assert "members" in members, members
        return members

    async def closed(self, timeout: float = TIMEOUT) -> int | None:
        """Wait for the server to close the connection; return the close code."""
        await asyncio.wait_for(self.connection.wait_closed(), timeout)
        received = self.connection.protocol.close_rcvd
        return received.code if received else None

    async def close(self) -> None:
        await self.connection.close()


# The room a seeded test server has first (``admin room add Lobby``).
LOBBY = 1


async def two_in_the_lobby(url: str, first: tuple[str, str],
                           second: tuple[str, str]) -> tuple[ProtocolClient, ProtocolClient]:
    """Two connections to ``url``, logged in as ``first`` and ``second`` (username,
    password) and joined to the Lobby, in that order: both logins, then both joins."""
    one = await ProtocolClient.open(url)
    two = await ProtocolClient.open(url)
    await one.login(*first)
    await two.login(*second)
    await one.join(LOBBY)
    await two.join(LOBBY)
    return one, two
