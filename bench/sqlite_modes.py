"""SQLite write modes, in one process: commit per message vs batched, NORMAL vs FULL,
and WAL checkpoints inside the commits (SQLite's default) vs on a thread of their own
(what the server's writer does: multichat/server/store/checkpoints.py)."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from multichat.protocol import MsgType
from multichat.server.store import Store
from multichat.server.store.checkpoints import WalCheckpointer
from multichat.server.store.records import NewMessage

IN_COMMITS, OWN_THREAD = "in commits", "own thread"


def measure(synchronous: str, batch: int, count: int, checkpoints: str) -> dict[str, Any]:
    """Messages per second, and how long each commit took (p50, p99, worst)."""
    with tempfile.TemporaryDirectory() as directory:
        store = Store.open_data_dir(Path(directory), synchronous=synchronous)
        committed = threading.Event()
        checkpointer = WalCheckpointer(store, committed) if checkpoints == OWN_THREAD else None
        try:
            user = store.create_user("writer", "x")
            room = store.create_room("Bench")
            message = NewMessage(room.id, user.id, "writer", MsgType.MESSAGE, "x" * 100, None, 0)
            if checkpointer is not None:
                store.defer_checkpoints()
                checkpointer.start()
            commits = []
            t0 = time.perf_counter()
            for _ in range(count // batch):
                c0 = time.perf_counter()
                store.append_messages([message] * batch)
                commits.append(time.perf_counter() - c0)
                committed.set()
            elapsed = time.perf_counter() - t0
        finally:
            if checkpointer is not None:
                checkpointer.stop()
            store.close()
    commits.sort()
    return {"synchronous": synchronous, "batch": batch, "checkpoints": checkpoints,
            "messages_per_s": count / elapsed,
            "commit_p50_ms": commits[len(commits) // 2] * 1e3,
            "commit_p99_ms": commits[int(len(commits) * 0.99)] * 1e3,
            "commit_max_ms": commits[-1] * 1e3}


def run(quick: bool) -> list[dict[str, Any]]:
    count = 2_000 if quick else 20_000
    rows = [measure(synchronous, batch, count, IN_COMMITS)
            for synchronous in ("normal", "full") for batch in (1, 256)]
    # A loaded server's batches: enough messages for the WAL to pass SQLite's
    # 1,000-page checkpoint point many times.
    many = 40_000 if quick else 400_000
    rows += [measure("normal", 32, many, checkpoints) for checkpoints in (IN_COMMITS, OWN_THREAD)]
    return rows
