"""Who may try a password now: lock-outs that stop guessing without locking out the innocent.

Three rules, each about password logins only (a valid token always logs in):

- **An address guessing one name** (the pair address + name) gets
  ``free_failures`` failures, then waits ``base_delay * 2**n`` seconds after
  each further one, up to ``max_delay``. Other names from that address, and
  that name from other addresses, are not concerned: behind a NAT or a proxy
  one person's typos never lock out another.
- **A name under attack** (``free_failures`` failures, from more than one
  address) gives no free failures any more: every address that fails
  on it is locked at once, and for longer with each failure. An address that
  has not failed on it (its owner's, usually) still logs in at once; the
  owner's own typos cost them the same growing wait as anyone's, no more.
  So an attacker gets one guess per address, and the owner a bounded delay.
- **An address spraying names** (failures on ``spray_names`` different names)
  gives no free failures either: each name it fails on is locked for it at
  once. Names it has not failed on (those of the people behind the same NAT
  who type their password right) are not concerned.

A record is forgotten ``max_delay`` seconds after its last failure, and at
most ``max_keys`` of each kind are kept (the oldest go first), so memory stays
bounded whatever an attacker sends. Pure logic with an injectable clock.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Clock = Callable[[], float]
K = TypeVar("K", bound=Hashable)


@dataclass(slots=True)
class _Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0
    # An address's failed names (spraying), a name's failing addresses (an attack);
    # only the first few, enough to tell.
    seen: set[str] = field(default_factory=set)


class _Records(Generic[K]):
    """Failure records by key, forgotten after ``forget`` seconds, at most ``max_keys``."""

    def __init__(self, forget: float, max_keys: int, clock: Clock) -> None:
        self._forget = forget
        self._max_keys = max_keys
        self._clock = clock
        self._records: OrderedDict[K, _Failures] = OrderedDict()

    def get(self, key: K) -> _Failures | None:
        record = self._records.get(key)
        if record is not None and self._clock() - max(record.last, record.locked_until) > (
                self._forget):
            del self._records[key]
            return None
        return record

    def failed(self, key: K) -> _Failures:
        record = self.get(key) or _Failures()
        self._records.pop(key, None)
        record.count += 1
        record.last = self._clock()
        self._records[key] = record  # most recent last: the oldest are forgotten first
        while len(self._records) > self._max_keys:
            self._records.popitem(last=False)
        return record

    def forget(self, key: K) -> None:
        self._records.pop(key, None)


class LoginGuard:
    """Failed password logins by address and name, and the waits they earn."""

    def __init__(
        self,
        *,
        free_failures: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        spray_names: int = 10,
        max_keys: int = 100_000,
        clock: Clock = time.monotonic,
    ) -> None:
        self.free_failures = free_failures
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.spray_names = spray_names
        self._clock = clock
        self._pairs: _Records[tuple[str, str]] = _Records(max_delay, max_keys, clock)
        self._names: _Records[str] = _Records(max_delay, max_keys, clock)
        self._addresses: _Records[str] = _Records(max_delay, max_keys, clock)

    def retry_after(self, address: str, name: str) -> float:
        """Seconds until ``address`` may try a password for ``name``; 0 when it may now."""
        pair = self._pairs.get((address, name))
        return max(0.0, pair.locked_until - self._clock()) if pair else 0.0

    def spraying(self, address: str) -> bool:
        record = self._addresses.get(address)
        return record is not None and len(record.seen) >= self.spray_names

    def under_attack(self, name: str) -> bool:
        record = self._names.get(name)
        return (record is not None and record.count >= self.free_failures
                and len(record.seen) > 1)

    def failed(self, address: str, name: str) -> None:
        """A wrong password (or an unknown name) from ``address``."""
        suspect = self.under_attack(name) or self.spraying(address)
        named = self._names.failed(name)
        if len(named.seen) < 2:
            named.seen.add(address)
        sprayer = self._addresses.failed(address)
        if len(sprayer.seen) < self.spray_names:
            sprayer.seen.add(name)
        pair = self._pairs.failed((address, name))
        self._lock(pair, pair.count - (0 if suspect else self.free_failures))

    def succeeded(self, address: str, name: str) -> None:
        """The right password: this address's failures on this name are forgiven."""
        self._pairs.forget((address, name))
        sprayer = self._addresses.get(address)
        if sprayer is not None:
            sprayer.seen.discard(name)

    def _lock(self, record: _Failures, excess: int) -> None:
        if excess > 0:
            delay = min(self.max_delay, self.base_delay * 2 ** min(excess - 1, 32))
            record.locked_until = self._clock() + delay
