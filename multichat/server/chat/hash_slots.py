"""Fair turns at the Argon2 work: a few slots, one per connection, address and account.

Argon2id costs tens of milliseconds of CPU and 64 MiB on purpose, so a server
checks few passwords at once. Without turns, anyone who logs in and out in a
loop (with the right password: that is never throttled as a failure) keeps
every slot busy and another person's login waits behind them. Here a caller
names the keys it acts for (its connection, its address, the account); a
key holds at most one slot at a time, and waiters are served first come,
first served among those whose keys are free. So one connection, address
or account can claim one slot at most, and a newcomer waits at most for the
checks already running, not for anyone's queue.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager


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
        """Give free slots to the oldest waiters whose keys are all free."""
        if not self._free:
            return
        for waiter in list(self._waiting):
            if waiter.granted.done():  # cancelled; its task removes it
                continue
            if waiter.keys.isdisjoint(self._busy):
                self._waiting.remove(waiter)
                self._free -= 1
                self._busy.update(waiter.keys)
                waiter.granted.set_result(None)
                if not self._free:
                    return
