"""Reconnect delays: exponential, capped, with jitter so a LAN's clients don't stampede."""

from __future__ import annotations

import random

# A LAN server that comes back is found within this many seconds (plus "Reconnect now"
# at once). A failed attempt costs a SYN, so a short cap is cheap even for a full office.
MAXIMUM_DELAY = 10.0


class Backoff:
    """Delays of ``initial * factor**n`` seconds, at most ``maximum``, each randomised.

    Jitter on the top of the range: with ``jitter=0.5`` a delay d becomes uniform
    in [d/2, d], so a server restart is not met by every client at the same
    instant; ``jitter=0`` gives exact delays (tests count them down).
    """

    def __init__(
        self,
        initial: float = 0.5,
        maximum: float = MAXIMUM_DELAY,
        factor: float = 2.0,
        rng: random.Random | None = None,
        jitter: float = 0.5,
    ) -> None:
        if not 0.0 <= jitter <= 1.0:
            raise ValueError("jitter is a fraction of the delay, from 0 to 1")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
        self._rng = rng or random.Random()
        self._attempt = 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * self.factor**self._attempt)
        self._attempt = min(self._attempt + 1, 64)
        return self._rng.uniform(ceiling * (1 - self.jitter), ceiling)

    def reset(self) -> None:
        self._attempt = 0
