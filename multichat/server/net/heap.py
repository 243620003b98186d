"""Keeping the garbage collector's full passes short while a burst of clients connects.

CPython collects its oldest generation whenever it has grown by a quarter,
and each pass walks all of it. When every client comes back at once, each
connection leaves a few hundred long-lived objects (its websockets and
asyncio state): the heap grows from tens of thousands of objects to over a
million within seconds, so the passes come one after another, each longer
than the last (up to 0.4 s at 10,000 connections, every client's frames
waiting meanwhile).

During such a burst the ``HeapSettler`` freezes what is on the heap
(``gc.freeze``: moved out of the collector's sight, in constant time) every
``BURST`` connections, after a pass over the young generations, so that the
collector's passes walk only what came after. A frozen object that becomes
garbage in a reference cycle is not collected while frozen, so the heap is
thawed (``gc.unfreeze``) and collected once, as a whole, when connections
have stopped coming for ``QUIET`` seconds, and in any case ``MOST_FROZEN``
seconds after the first freeze: clients that connect and leave without end
(an attacker's churn) cannot keep their garbage frozen for longer.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable


class HeapSettler:
    """Freeze the heap during bursts of connections; thaw and collect once they are over."""

    BURST = 200  # connections within WINDOW seconds: a burst, and a freeze
    WINDOW = 1.0
    QUIET = 5.0
    MOST_FROZEN = 60.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._window_start = -self.WINDOW
        self._arrived = 0  # in the current window
        self._last_arrival = 0.0
        self._frozen_since: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.freezes = 0  # how many times it froze (for tests and logs)

    @property
    def frozen(self) -> bool:
        return self._frozen_since is not None

    def connected(self) -> None:
        """A connection was opened."""
        now = self._last_arrival = self._clock()
        if now - self._window_start > self.WINDOW:
            self._window_start, self._arrived = now, 0
        self._arrived += 1
        if self._arrived >= self.BURST:
            self._window_start, self._arrived = now, 0
            self._freeze(now)

    def _freeze(self, now: float) -> None:
        gc.collect(1)  # the young generations' garbage goes first, not into the freeze
        gc.freeze()
        self.freezes += 1
        if self._frozen_since is None:
            self._frozen_since = now
            self._timer = asyncio.get_running_loop().call_later(self.QUIET, self._check)

    def _check(self) -> None:
        now = self._clock()
        assert self._frozen_since is not None
        quiet_for = now - self._last_arrival
        if quiet_for >= self.QUIET or now - self._frozen_since >= self.MOST_FROZEN:
            self.thaw()
            return
        wait = min(self.QUIET - quiet_for, self._frozen_since + self.MOST_FROZEN - now)
        self._timer = asyncio.get_running_loop().call_later(max(wait, 0.05), self._check)

    def thaw(self) -> None:
        """Give the collector back everything frozen, and collect it once now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._frozen_since is None:
            return
        self._frozen_since = None
        gc.unfreeze()
        gc.collect()
