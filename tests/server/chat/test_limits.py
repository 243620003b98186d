"""Token buckets and the connection count, on a clock the test moves by hand."""

from __future__ import annotations

from multichat.server.chat.limits import AddressCounter, TokenBucket, UserBuckets
from multichat.server.chat.typing_notices import TypingLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(burst=3, rate=2.0, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5  # one token back
    assert [bucket.take(), bucket.take()] == [True, False]
    clock.now += 100  # refills only up to the burst
    assert sum(bucket.take() for _ in range(10)) == 3


def test_a_users_bucket_is_shared_by_its_sessions_and_outlives_the_last_until_refilled(
) -> None:
    clock = FakeClock()
    buckets = UserBuckets(burst=2, rate=1.0, clock=clock)
    first, second = buckets.acquire(7), buckets.acquire(7)
    assert first is second and len(buckets) == 1
    assert [first.take(), second.take(), first.take()] == [True, True, False]
    buckets.release(7)
    assert len(buckets) == 1  # one session still holds it
    buckets.release(7)
    # The attack: spend the bucket, close every connection, log in again at once. The
    # new session gets the same empty bucket (it used to get a full burst).
    again = buckets.acquire(7)
    assert again is first and not again.take()
    buckets.release(7)
    assert len(buckets) == 1  # kept while it refills
    clock.now += 2  # refilled: forgetting it now gives nothing back
    buckets.release(99)  # releasing an unknown user is harmless
    assert buckets.acquire(8).take() and len(buckets) == 1  # 7's was forgotten
    assert buckets.acquire(7).take()  # a new login starts with a full burst


def test_connections_per_address_are_counted_and_released() -> None:
    counter = AddressCounter(limit=2)
    assert [counter.admit("a"), counter.admit("a"), counter.admit("a")] == [True, True, False]
    assert counter.admit("b") and counter.open("a") == 2
    counter.release("a")
    assert counter.may_open("a") and counter.admit("a")
    for _ in range(3):
        counter.release("b")
    assert counter.open("b") == 0
    unlimited = AddressCounter(limit=0)
    assert all(unlimited.admit("a") for _ in range(1000))


def test_typing_counts_once_a_second_per_user_and_room() -> None:
    clock = FakeClock()
    limiter = TypingLimiter(clock=clock)
    assert limiter.allow(1, 10)
    assert not limiter.allow(1, 10)  # the same second: dropped
    assert limiter.allow(1, 11) and limiter.allow(2, 10)  # another room, another user
    clock.now += 0.999
    assert not limiter.allow(1, 10)
    clock.now += 0.001
    assert limiter.allow(1, 10)


def test_the_typing_limiter_forgets_who_stopped_typing() -> None:
    clock = FakeClock()
    limiter = TypingLimiter(clock=clock)
    for user in range(1000):
        assert limiter.allow(user, 1)
    assert len(limiter) == 1000
    clock.now += 1.0
    assert limiter.allow(5000, 1)
    assert len(limiter) == 1  # the stale ones went as a new one came
