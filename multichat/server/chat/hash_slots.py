"""Fair turns at the Argon2 work: a few slots, one per connection, address and account.

Argon2id costs tens of milliseconds of CPU and 64 MiB on purpose, so a server
checks few passwords at once. Without turns, anyone who logs in and out in a
loop (with the right password: that is never throttled as a failure) keeps
every slot busy and another person's login waits behind them. Here a caller
names the keys it acts for (its connection, its address, the account); a
key holds at most one slot at a time. A free slot goes to the waiter whose
keys were served least recently (never served first), the oldest first among
equals. So one connection, address or account claims one slot at most, and
someone who has not had a turn lately goes before anyone coming back for
more, however many connections they queue: a newcomer waits for a slot to
free, not for the queue.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

# Keys whose last turn is remembered, at most; a forgotten key counts as never
# served, which only favours someone who has not asked for a long time.
REMEMBERED_KEYS = 10_000


class _Waiter:
    __slots__ = ("granted", "keys")

    def __init__(self, keys: frozenset[str], granted: asyncio.Future[None]) -> None:
        self.keys = keys
        self.granted = granted


class HashSlots:
    """``slots`` turns at once; at most one per key; first come, first served."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("at least one slot")
        self._free = slots
        self._busy: set[str] = set()
        self._waiting: deque[_Waiter] = deque()
        self._turns = itertools.count()
        self._last_turn: OrderedDict[str, int] = OrderedDict()  # key -> its latest turn

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @asynccontextmanager
    async def turn(self, keys: Iterable[str]) -> AsyncIterator[None]:
        """Wait for a slot with none of ``keys`` busy; hold it for the ``async with`` body."""
        waiter = _Waiter(frozenset(keys), asyncio.get_running_loop().create_future())
        self._waiting.append(waiter)
        self._grant()
        try:
            await waiter.granted
        except asyncio.CancelledError:
            if waiter.granted.done() and not waiter.granted.cancelled():
                self._release(waiter.keys)  # granted as we were cancelled: hand it on
            elif waiter in self._waiting:
                self._waiting.remove(waiter)
            raise
        try:
            yield
        finally:
            self._release(waiter.keys)

    def _release(self, keys: frozenset[str]) -> None:
        self._free += 1
        self._busy.difference_update(keys)
        self._grant()

    def _grant(self) -> None:
        """Give free slots to the waiters with free keys served least recently."""
        while self._free:
            eligible = [w for w in self._waiting
                        if not w.granted.done() and w.keys.isdisjoint(self._busy)]
            if not eligible:
                return
            waiter = min(eligible, key=self._last_served)  # min keeps the oldest of equals
            self._waiting.remove(waiter)
            self._free -= 1
            self._busy.update(waiter.keys)
            turn = next(self._turns)
            for key in waiter.keys:
                self._last_turn.pop(key, None)
                self._last_turn[key] = turn
            while len(self._last_turn) > REMEMBERED_KEYS:
                self._last_turn.popitem(last=False)
            waiter.granted.set_result(None)

    def _last_served(self, waiter: _Waiter) -> int:
        return max((self._last_turn.get(key, -1) for key in waiter.keys), default=-1)
