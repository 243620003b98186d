"""Flood control: a token bucket for sends, growing lock-outs for failed logins.

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
