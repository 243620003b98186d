"""Keeping the garbage collector's full passes short while a burst of clients connects.

CPython collects its oldest generation whenever it has grown by a quarter,
and each pass walks all of it. When every client comes back at once, each
connection leaves a few hundred long-lived objects (its websockets and
asyncio state): the heap grows from tens of thousands of objects to over a
million within seconds, so the passes come one after another, each longer
than the last (up to 0.4 s at 10,000 connections, every client's frames
waiting meanwhile).

What start-up leaves (the modules, their classes and functions, the
server's own objects: some 60,000 objects that live as long as the process)
is frozen once before the server takes its first client
(``freeze_start_up``), so no full pass walks it again.

During a burst of connections the ``HeapSettler`` holds the collector's
full passes back from its first moments: ``START`` connections accepted
within ``START_WINDOW`` seconds raise the oldest generation's threshold,
and only the young passes run. They are counted as they are accepted, for
the event loop accepts a whole storm at once and each one's websockets and
asyncio objects exist from then on, waiting for their opening or not (on a
busy machine the first full passes came before 20 had reached the chat).
It also freezes what is on the heap (``gc.freeze``: moved out of the
collector's sight, in constant time) every ``BURST`` connections that
reach the chat, after a pass over the young generations. Garbage in a
reference cycle that has reached the oldest generation is not collected
while held, nor a frozen one while frozen, so once connections have stopped
coming for ``QUIET`` seconds, and in any case ``MOST_FROZEN`` seconds after
the burst began, the threshold is put back and the heap thawed
(``gc.unfreeze``) and collected once, as a whole: clients that connect and
leave without end (an attacker's churn) cannot keep their garbage for
longer.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable

HELD_OLDEST_THRESHOLD = 1_000_000_000  # young passes before a full one: never, while held


class _Hold:
    """The collector's thresholds are the process's: with several servers in one
    process (tests, a host of two) whose bursts overlap, the first hold saves them
    and the last release puts them back, whatever the order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # servers may run on loops of their own threads
        self._holders = 0
        self._saved: tuple[int, int, int] | None = None

    def take(self) -> None:
        with self._lock:
            if self._holders == 0:
                self._saved = gc.get_threshold()
                young, middle, _oldest = self._saved
                gc.set_threshold(young, middle, HELD_OLDEST_THRESHOLD)
            self._holders += 1

    def release(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0 and self._saved is not None:
                gc.set_threshold(*self._saved)
                self._saved = None


_HOLD = _Hold()


def freeze_start_up() -> None:
    """Collect start-up's garbage, then freeze what is left: it lives as long as the
    process, and no full pass should walk it again (a burst's first thaw gives it back)."""
    gc.collect()
    gc.freeze()


class HeapSettler:
    """Hold full collections back and freeze the heap during bursts of connections;
    thaw and collect once they are over."""

    START = 20  # accepted within START_WINDOW seconds: a burst begins, full passes wait
    START_WINDOW = 0.1
    BURST = 200  # reaching the chat within WINDOW seconds: a freeze
    WINDOW = 1.0
    QUIET = 5.0
    MOST_FROZEN = 60.0  # from the burst's beginning

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._start_window = self._window_start = -self.WINDOW
        self._starting = self._arrived = 0  # in the current windows
        self._last_arrival = 0.0
        self._since: float | None = None  # the burst's beginning
        self._holding = False  # full collections held back (_HOLD taken)
        self._frozen = False
        self._timer: asyncio.TimerHandle | None = None
        self.freezes = 0  # how many times it froze (for tests and logs)

    @property
    def frozen(self) -> bool:
        return self._frozen

    @property
    def settling(self) -> bool:
        """Whether a burst is on: full collections held back, the heap perhaps frozen."""
        return self._since is not None

    def accepted(self) -> None:
        """A connection was accepted (its opening may wait)."""
        now = self._last_arrival = self._clock()
        if now - self._start_window > self.START_WINDOW:
            self._start_window, self._starting = now, 0
        self._starting += 1
        if self._starting >= self.START:
            self._begin(now)

    def connected(self) -> None:
        """A connection was opened: it reached the chat."""
        now = self._last_arrival = self._clock()
        if now - self._window_start > self.WINDOW:
            self._window_start, self._arrived = now, 0
        self._arrived += 1
        if self._arrived >= self.BURST:
            self._window_start, self._arrived = now, 0
            self._freeze(now)

    def _begin(self, now: float) -> None:
        if self._since is not None:
            return
        self._since = now
        _HOLD.take()
        self._holding = True
        self._timer = asyncio.get_running_loop().call_later(self.QUIET, self._check)

    def _freeze(self, now: float) -> None:
        self._begin(now)
        gc.collect(1)  # the young generations' garbage goes first, not into the freeze
        gc.freeze()
        self._frozen = True
        self.freezes += 1

    def _check(self) -> None:
        now = self._clock()
        assert self._since is not None
        quiet_for = now - self._last_arrival
        if quiet_for >= self.QUIET or now - self._since >= self.MOST_FROZEN:
            self.thaw()
            return
        wait = min(self.QUIET - quiet_for, self._since + self.MOST_FROZEN - now)
        self._timer = asyncio.get_running_loop().call_later(max(wait, 0.05), self._check)

    def thaw(self) -> None:
        """Give the collector back its threshold and everything frozen, and collect once now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._since is None:
            return
        self._since = None
        if self._holding:
            self._holding = False
            _HOLD.release()
        if self._frozen:
            self._frozen = False
            gc.unfreeze()
        gc.collect()
