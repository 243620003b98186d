"""Flood control: token buckets for sends and commands, a count of connections per
address. (Failed logins: ``login_guard``; Argon2 turns: ``hash_slots``.)

Pure logic with an injectable clock, so the rules are tested without waiting.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

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
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def full(self) -> bool:
        """Whether the bucket has refilled to its burst (forgetting it would give nothing)."""
        self._refill()
        return self._tokens >= self.burst

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now


class UserBuckets:
    """One bucket per logged-in user, shared by all that user's connections.

    A user cannot go faster by opening more connections, nor by closing them all
    and logging in again: a bucket no session holds is kept until it has
    refilled (then forgetting it gives nothing back), so memory follows the
    users online and those who left within the last ``burst / rate`` seconds.
    """

    def __init__(self, burst: int, rate: float, clock: Clock = time.monotonic) -> None:
        self.burst = burst
        self.rate = rate
        self._clock = clock
        self._held: dict[int, tuple[TokenBucket, int]] = {}
        # Buckets no session holds, oldest release first, kept until full.
        self._idle: dict[int, TokenBucket] = {}

    def acquire(self, user_id: int) -> TokenBucket:
        self._forget_refilled()
        idle = self._idle.pop(user_id, None)
        bucket, holders = self._held.get(user_id) or (
            idle or TokenBucket(self.burst, self.rate, self._clock), 0)
        self._held[user_id] = (bucket, holders + 1)
        return bucket

    def release(self, user_id: int) -> None:
        held = self._held.get(user_id)
        if held is None:
            return
        bucket, holders = held
        if holders <= 1:
            del self._held[user_id]
            self._idle[user_id] = bucket
            self._forget_refilled()
        else:
            self._held[user_id] = (bucket, holders - 1)

    def _forget_refilled(self) -> None:
        """Drop idle buckets that have refilled, oldest release first; stop at the first
        still refilling (those released after it had as long or less)."""
        for user_id, bucket in list(self._idle.items()):
            if not bucket.full():
                break
            del self._idle[user_id]

    def __len__(self) -> int:
        """Buckets kept: held by a session, or still refilling."""
        return len(self._held) + len(self._idle)


# An IPv6 client usually holds a whole /64 (SLAAC, privacy addresses): limits per
# address count the /64, or rotating addresses would escape every one of them.
IPV6_CLIENT_PREFIX = 64


def address_key(address: str) -> str:
    """What per-address limits count ``address`` as: itself, or its /64 for IPv6."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_CLIENT_PREFIX), strict=False))
    return str(parsed)


class AddressCounter:
    """Open connections per client address key (``address_key``), refused past ``limit``
    (0: no limit). An ``exempt`` connection is counted but never refused."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def may_open(self, address: str, *, exempt: bool = False) -> bool:
        return exempt or not self.limit or self._open.get(address, 0) < self.limit

    def admit(self, address: str, *, exempt: bool = False) -> bool:
        """Count one more connection from ``address``, unless it has ``limit`` open."""
        if not self.may_open(address, exempt=exempt):
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
