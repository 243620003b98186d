"""Flood control: token buckets for sends, growing lock-outs for failed logins,
a count of connections per address.

Pure logic with an injectable clock, so the rules are tested without waiting.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]


class TokenBucket:
    """Allows a burst of ``burst`` actions, then ``rate`` per second."""

    __slots__ = ("_clock", "_last", "_tokens", "burst", "rate")

    def __init__(self, burst: int, rate: float, clock: Clock = time.monotonic) -> None:
        self.burst = burst
        self.rate = rate
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def take(self) -> bool:
        """Spend one token if there is one."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class UserBuckets:
    """One send bucket per logged-in user, shared by all that user's connections.

    A user cannot send faster by opening more connections. A bucket lives as
    long as one of the user's sessions holds it, so memory follows the users
    online, not every user ever seen.
    """

    def __init__(self, burst: int, rate: float, clock: Clock = time.monotonic) -> None:
        self.burst = burst
        self.rate = rate
        self._clock = clock
        self._held: dict[int, tuple[TokenBucket, int]] = {}

    def acquire(self, user_id: int) -> TokenBucket:
        bucket, holders = self._held.get(user_id) or (
            TokenBucket(self.burst, self.rate, self._clock), 0)
        self._held[user_id] = (bucket, holders + 1)
        return bucket

    def release(self, user_id: int) -> None:
        held = self._held.get(user_id)
        if held is None:
            return
        bucket, holders = held
        if holders <= 1:
            del self._held[user_id]
        else:
            self._held[user_id] = (bucket, holders - 1)

    def __len__(self) -> int:
        return len(self._held)


class AddressCounter:
    """Open connections per client address, refused past ``limit`` (0: no limit)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def may_open(self, address: str) -> bool:
        return not self.limit or self._open.get(address, 0) < self.limit

    def admit(self, address: str) -> bool:
        """Count one more connection from ``address``, unless it has ``limit`` open."""
        if not self.may_open(address):
            return False
        self._open[address] = self._open.get(address, 0) + 1
        return True

    def release(self, address: str) -> None:
        count = self._open.get(address, 0) - 1
        if count > 0:
            self._open[address] = count
        else:
            self._open.pop(address, None)

    def open(self, address: str) -> int:
        return self._open.get(address, 0)


@dataclass(slots=True)
class _Failures:
    count: int
    locked_until: float


class LoginThrottle:
    """Counts failed logins per key (a username, an address) and locks a key out.

    After ``free_failures`` failures each further one locks the key for
    ``base_delay * 2**n`` seconds, up to ``max_delay``. A key's record is
    forgotten after ``max_delay`` without failures, and at most ``max_keys``
    keys are kept (the oldest go first), so memory stays bounded.
    """

    def __init__(
        self,
        *,
        free_failures: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        max_keys: int = 100_000,
        clock: Clock = time.monotonic,
    ) -> None:
        self.free_failures = free_failures
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[str, _Failures] = OrderedDict()

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again; 0 when it may now."""
        record = self._failures.get(key)
        if record is None:
            return 0.0
        now = self._clock()
        if now - record.locked_until > self.max_delay:
            del self._failures[key]
            return 0.0
        return max(0.0, record.locked_until - now)

    def failed(self, key: str) -> None:
        now = self._clock()
        record = self._failures.pop(key, None) or _Failures(0, now)
        record.count += 1
        excess = record.count - self.free_failures
        if excess > 0:
            delay = min(self.max_delay, self.base_delay * 2 ** min(excess - 1, 32))
            record.locked_until = now + delay
        else:
            record.locked_until = now
        self._failures[key] = record
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
