"""Deleted words out of SQLite's search index, in small steps off the writer's path.

SQLite before 3.42 has no FTS5 ``secure-delete``: a deleted message's index
entries stay in FTS5's older segments behind a delete marker (never found, but
in the file) until a merge brings the two together. Each deletion counts
itself in ``meta`` (``Store.deleted_words_pending``); this thread then merges
the whole index, ``MERGE_PAGES`` pages a step, each step its own short
transaction, and rests between steps so that merging takes at most
``MERGE_SHARE`` of the time: the writer waits for one step at worst (a few
milliseconds), never for the whole merge (``optimize``: 1.5 s at a million
messages). Once a merge that began after the deletions ends, their words have
left the index, and ``secure_delete`` has zeroed the freed pages.

It looks when the writer has committed (at most every ``CHECK_INTERVAL``) and
every ``POLL_INTERVAL`` anyway (a room deleted by an admin command, a
deletion by the admin CLI or before a restart). Where SQLite has
``secure-delete`` nothing is ever counted, and the thread only looks.
"""

from __future__ import annotations

import logging
import threading
import time

from multichat.server.store.repository import Store

log = logging.getLogger(__name__)

# FTS5 pages (about 4 KB each) written per step: at a million messages a step of 16 took
# 8 ms (median) on a loaded 2-CPU machine, one of 64 28 ms (docs/benchmarks.md).
MERGE_PAGES = 16
# Most of the time merging may take while a merge runs: after a step of t seconds the
# thread rests t * (1 - share) / share.
MERGE_SHARE = 0.2
# Seconds between looks at the counter while the writer commits.
CHECK_INTERVAL = 1.0
# Seconds between looks when nothing wakes the thread.
POLL_INTERVAL = 60.0


class SearchPurger:
    """A thread that merges deleted words out of the FTS5 index when deletions left them."""

    def __init__(self, store: Store, commits: threading.Event, *,
                 pages: int = MERGE_PAGES, share: float = MERGE_SHARE,
                 check_interval: float = CHECK_INTERVAL,
                 poll_interval: float = POLL_INTERVAL) -> None:
        self._store = store
        self._commits = commits  # set by the writer after each commit
        self._pages = pages
        self._share = share
        self._check_interval = check_interval
        self._poll_interval = poll_interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.merges = 0  # full merges finished, for tests

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="store-search-purge",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop and join; a merge under way is left for the next start (still counted)."""
        self._stopping.set()
        self._commits.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    pending = self._store.deleted_words_pending()
                    if pending:
                        self._merge(pending)
                except Exception as exc:  # a busy or failing database: tried again later
                    log.warning("merging deleted words out of the search index failed: %s",
                                exc)
                self._commits.wait(self._poll_interval)
                self._commits.clear()
                self._stopping.wait(self._check_interval)
        finally:
            self._store.close_thread_connection()

    def _merge(self, pending: int) -> None:
        """One full merge in paced steps; the counter is zeroed if nothing came meanwhile
        (else the next look starts another)."""
        start = True
        while not self._stopping.is_set():
            began = time.monotonic()
            worked = self._store.merge_search_index(self._pages, start=start)
            start = False
            if not worked:
                break
            took = time.monotonic() - began
            self._stopping.wait(took * (1 - self._share) / self._share)
        else:
            return
        self.merges += 1
        self._store.deleted_words_purged(pending)
