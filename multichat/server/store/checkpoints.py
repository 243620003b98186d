"""SQLite WAL checkpoints off the writer's commits.

By default SQLite checkpoints inside the commit that pushes the WAL past 1,000
pages: that commit, and every message waiting on it, pays for copying the
pages back into the database file and syncing it. The server's writer turns
that off for its own connection (``Store.defer_checkpoints``) and this thread
checkpoints instead, PASSIVE (it never blocks the writer or a reader), soon
after commits happened. ``python -m bench --only sqlite`` (batches of 32, one
core): p99 commit 5.2 -> 1.1 ms, at the price of 5% of the write rate and a
rarer but longer worst commit (8 -> 14-20 ms) when the two threads share the
core; docs/benchmarks.md has the table.
"""

from __future__ import annotations

import logging
import threading

from multichat.server.store.repository import Store

log = logging.getLogger(__name__)

# Seconds between checkpoints while messages are being written. Short enough that
# the WAL stays small (a second of traffic), long enough to cost nothing idle.
CHECKPOINT_INTERVAL = 1.0


class WalCheckpointer:
    """A thread that checkpoints the WAL every ``interval`` seconds when there were commits."""

    def __init__(self, store: Store, commits: threading.Event,
                 interval: float = CHECKPOINT_INTERVAL) -> None:
        self._store = store
        self._commits = commits  # set by the writer after each commit
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0  # done so far, for tests

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="store-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop and join; SQLite checkpoints whatever is left when the last connection closes."""
        self._stopping.set()
        self._commits.set()  # wake it
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                self._commits.wait()
                if self._stopping.is_set():
                    break
                self._commits.clear()
                try:
                    self._store.checkpoint()
                    self.checkpoints += 1
                except Exception as exc:  # a busy or failing database: retried next time
                    log.warning("WAL checkpoint failed: %s", exc)
                self._stopping.wait(self._interval)
        finally:
            self._store.close_thread_connection()
