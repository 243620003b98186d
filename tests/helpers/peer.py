"""A Peer that records the frames the chat rules send it: the chat layer's test edge."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any

from tests.helpers.timing import TIMEOUT

Frame = dict[str, Any]


class RecordingPeer:
    def __init__(self, address: str = "192.0.2.1") -> None:
        self.address = address
        self.frames: list[Frame] = []
        self.closed: tuple[int, str] | None = None
        self._read = 0
        self._changed = asyncio.Event()

    def send(self, data: bytes) -> None:
        if self.closed is None:
            self.frames.append(json.loads(data))
            self._changed.set()

    def send_frames(self, datas: Sequence[bytes]) -> None:
        for data in datas:
            self.send(data)

    def send_soon(self, data: bytes) -> None:
        self.send(data)

    async def drain(self) -> None:
        await asyncio.sleep(0)

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)
        self._changed.set()

    def take(self) -> list[Frame]:
        """Every frame not taken yet."""
        frames = self.frames[self._read :]
        self._read = len(self.frames)
        return frames

    async def expect(self, predicate: Callable[[Frame], bool], timeout: float = TIMEOUT) -> Frame:
        """The next not-yet-taken frame that matches; frames before it are taken too.
        Fails at once if the peer is closed with none: no frame can come after."""
        async def wait() -> Frame:
            while True:
                while self._read < len(self.frames):
                    frame = self.frames[self._read]
                    self._read += 1
                    if predicate(frame):
                        return frame
                if self.closed is not None:
                    raise AssertionError(f"closed {self.closed} while a frame was awaited")
                self._changed.clear()
                await self._changed.wait()
        return await asyncio.wait_for(wait(), timeout)

    async def expect_key(self, key: str, timeout: float = TIMEOUT) -> Frame:
        return await self.expect(lambda frame: key in frame, timeout)

    async def wait_closed(self, timeout: float = TIMEOUT) -> tuple[int, str]:
        async def wait() -> tuple[int, str]:
            while self.closed is None:
                self._changed.clear()
                await self._changed.wait()
            return self.closed
        return await asyncio.wait_for(wait(), timeout)
