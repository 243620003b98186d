"""The pace of uploads: a second's worth at once, then the rate, whoever sends."""

from __future__ import annotations

from multichat.server.chat.files import BytePacer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_a_second_then_the_rate() -> None:
    clock = Clock()
    pacer = BytePacer(1000, clock)
    assert pacer.delay(600) == 0 and pacer.delay(400) == 0  # a second's worth
    assert pacer.delay(500) == 0.5  # half a second of bytes too many
    clock.now = 0.5
    assert pacer.delay(250) == 0.25  # the half second paid the debt, this is new
    clock.now = 10.0
    assert pacer.delay(1000) == 0  # refilled, but never past a second's worth
    assert pacer.delay(1) > 0


def test_no_rate_is_no_limit() -> None:
    assert BytePacer(0, Clock()).delay(10**9) == 0
