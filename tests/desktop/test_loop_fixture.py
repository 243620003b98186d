"""The test loop itself: asyncio runs inside pytest-qt's waits, against a threaded server."""

from __future__ import annotations

import asyncio
import json

from pytestqt.qtbot import QtBot
from websockets.asyncio.client import connect

from multichat.desktop.services.hosting import ServerThread


def test_coroutines_run_while_qtbot_waits(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, hosted_server: ServerThread
) -> None:
    replies: list[dict[str, object]] = []

    async def ping() -> None:
        async with connect(f"ws://127.0.0.1:{hosted_server.port}") as ws:
            await ws.send(json.dumps({"command": "ping"}))
            replies.append(json.loads(await ws.recv()))

    task = qloop.create_task(ping())
    qtbot.waitUntil(task.done, timeout=10_000)
    task.result()
    assert replies == [{"pong": True}]
