"""SQLite write modes, in one process: commit per message vs batched, NORMAL vs FULL."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from multichat.server.protocol import MsgType
from multichat.server.store import Store
from multichat.server.store.records import NewMessage


def messages_per_second(synchronous: str, batch: int, count: int) -> float:
    with tempfile.TemporaryDirectory() as directory:
        store = Store.open_data_dir(Path(directory), synchronous=synchronous)
        try:
            user = store.create_user("writer", "x")
            room = store.create_room("Bench")
            message = NewMessage(room.id, user.id, "writer", MsgType.MESSAGE, "x" * 100, None, 0)
            t0 = time.perf_counter()
            for _ in range(count // batch):
                store.append_messages([message] * batch)
            return count / (time.perf_counter() - t0)
        finally:
            store.close()


def run(quick: bool) -> list[dict[str, Any]]:
    count = 2_000 if quick else 20_000
    rows: list[dict[str, Any]] = []
    for synchronous in ("normal", "full"):
        for batch in (1, 256):
            rows.append({"synchronous": synchronous, "batch": batch,
                         "messages_per_s": messages_per_second(synchronous, batch, count)})
    return rows
