"""Reconnect delays: exponential, capped, with jitter so a LAN's clients don't stampede."""

from __future__ import annotations

import random


class Backoff:
    """Delays of ``initial * factor**n`` seconds, at most ``maximum``, each randomised.

    Full jitter on the upper half: a delay d becomes uniform in [d/2, d], so a
    server restart is not met by every client at the same instant.
    """

    def __init__(
        self,
        initial: float = 0.5,
        maximum: float = 30.0,
        factor: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self._rng = rng or random.Random()
        self._attempt = 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * self.factor**self._attempt)
        self._attempt = min(self._attempt + 1, 64)
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self._attempt = 0
