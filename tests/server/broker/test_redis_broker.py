"""RedisBroker against a real redis-server: fan-out, shared presence, outages."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from multichat.server.broker.redis_broker import CHANNEL, RedisBroker
from tests.helpers.services import RedisService
from tests.helpers.timing import TIMEOUT
from tests.helpers.waiting import eventually


class Process:
    """What the chat layer of one process would see of its broker."""

    def __init__(self, url: str) -> None:
        self.broker = RedisBroker(url, presence_ttl=1.0)
        self.delivered: list[tuple[int, int | None, bytes]] = []
        self.versions: list[int] = []
        self.departures: list[tuple[int, str]] = []
        self.user_frames: list[tuple[int, bytes]] = []
        self.resyncs = 0
        self.changes = 0

    def deliver(self, room_id: int, seq: int | None, data: bytes, version: int) -> None:
        self.delivered.append((room_id, seq, data))
        self.versions.append(version)

    def resync(self) -> None:
        self.resyncs += 1

    def changed(self) -> None:
        self.changes += 1

    def departed(self, room_id: int, username: str) -> None:
        self.departures.append((room_id, username))

    def to_user(self, user_id: int, data: bytes) -> None:
        self.user_frames.append((user_id, data))

    def data(self) -> list[bytes]:
        return [data for _, _, data in self.delivered]



@pytest.fixture
async def pair(redis_service: RedisService) -> AsyncIterator[tuple[Process, Process]]:
    a, b = Process(redis_service.url), Process(redis_service.url)
    for process in (a, b):
        await process.broker.start(process.deliver, process)
    try:
        yield a, b
    finally:
        for process in (a, b):
            await process.broker.close()


async def test_each_event_is_published_once_and_delivered_once_per_process(
    pair: tuple[Process, Process],
) -> None:
    a, b = pair
    assert a.broker.connected and b.broker.connected
    a.broker.publish(1, 1, b'{"n":1}', 5)
    assert a.delivered == [(1, 1, b'{"n":1}')]  # local members first, without Redis
    await eventually(lambda: b.delivered == [(1, 1, b'{"n":1}')])
    b.broker.publish(1, 2, b'{"n":2}', 6)
    await eventually(lambda: len(a.delivered) == 2)
    assert a.data() == b.data() == [b'{"n":1}', b'{"n":2}']  # nobody got its own twice
    assert a.versions == b.versions == [5, 6]  # the version each was stored at travels
    a.broker.notify_changes()
    await eventually(lambda: b.changes == 1)
    assert a.changes == 0


async def test_a_users_frame_reaches_the_other_processes_only(
    pair: tuple[Process, Process],
) -> None:
    a, b = pair
    a.broker.publish_user(42, b'{"read":"1","seq":3}')
    a.broker.publish(1, 1, b'{"n":1}', 1)  # after it, in the same order on the channel
    await eventually(lambda: b.delivered == [(1, 1, b'{"n":1}')])
    assert b.user_frames == [(42, b'{"read":"1","seq":3}')]
    assert a.user_frames == []  # the publisher hands its own connections the frame itself


async def test_presence_counts_a_user_once_over_processes(pair: tuple[Process, Process]) -> None:
    a, b = pair
    assert await a.broker.presence.enter(7, "alice") is True
    assert await b.broker.presence.enter(7, "alice") is False  # already in, through a
    assert await b.broker.presence.enter(7, "bob") is True
    assert await a.broker.presence.members(7) == ["alice", "bob"]
    a.broker.presence.leave(7, "alice")
    await a.broker.presence.drain()
    assert a.departures == []  # still in through b
    b.broker.presence.leave(7, "alice")
    await b.broker.presence.drain()
    assert b.departures == [(7, "alice")]
    assert await a.broker.presence.members(7) == ["bob"]


async def test_a_closed_process_counts_its_members_out(pair: tuple[Process, Process],
                                                       redis_service: RedisService) -> None:
    a, b = pair
    await a.broker.presence.enter(3, "carol")
    await b.broker.presence.enter(3, "dave")
    await a.broker.close()
    assert a.departures == [(3, "carol")]  # announced by the leaving process itself
    assert await b.broker.presence.members(3) == ["dave"]


async def test_an_outage_keeps_local_delivery_and_catches_up_after(
    pair: tuple[Process, Process], redis_service: RedisService,
) -> None:
    a, b = pair
    resyncs = b.resyncs
    redis_service.stop()
    a.broker.publish(2, 9, b'{"late":true}', 1)
    assert a.delivered == [(2, 9, b'{"late":true}')]  # served locally while Redis is down
    assert await a.broker.presence.members(2) is None  # unknown, not wrong
    assert a.broker.waiting == 1
    redis_service.start()
    # The outbox goes out once Redis is back, and b, which may have missed it (pub/sub
    # reaches only who is subscribed at that moment), is told to refill from the store.
    await eventually(lambda: a.broker.waiting == 0, TIMEOUT * 2)
    await eventually(lambda: b.resyncs > resyncs, TIMEOUT * 2)
    assert b.delivered in ([], [(2, 9, b'{"late":true}')])
    # Presence is registered again from each process's own view.
    assert await a.broker.presence.enter(2, "erin") is True
    assert await a.broker.presence.members(2) == ["erin"]


async def test_a_mute_redis_is_noticed_and_the_subscription_comes_back(
    redis_service: RedisService,
) -> None:
    """Redis frozen (SIGSTOP): no byte, no close; the link's pings go unanswered, it is
    dropped and made again once Redis answers, and the process is told to refill."""
    a = Process(redis_service.url)
    a.broker = RedisBroker(redis_service.url, presence_ttl=1.0, health_check=0.2)
    await a.broker.start(a.deliver, a)
    assert redis_service.process is not None
    try:
        resyncs = a.resyncs
        redis_service.process.send_signal(signal.SIGSTOP)
        try:
            await eventually(lambda: not a.broker.connected, TIMEOUT * 2)
        finally:
            redis_service.process.send_signal(signal.SIGCONT)
        await eventually(lambda: a.broker.connected and a.resyncs > resyncs, TIMEOUT * 2)
        b = Process(redis_service.url)
        await b.broker.start(b.deliver, b)
        try:
            b.broker.publish(4, 1, b'{"after":1}', 2)
            await eventually(lambda: a.data() == [b'{"after":1}'])
        finally:
            await b.broker.close()
    finally:
        await a.broker.close()


async def test_a_malformed_payload_is_skipped_and_the_link_stays(
    pair: tuple[Process, Process], redis_service: RedisService,
) -> None:
    """Something else publishing on the channel (another version mid-upgrade, a stray
    client): its payload is skipped alone; the subscription is not dropped, so no
    process has to refill every room from the store."""
    a, b = pair
    a.broker.publish(1, 1, b'{"n":1}', 1)
    await eventually(lambda: len(b.delivered) == 1)
    resyncs = b.resyncs  # the subscription's own start may count one
    publisher = Redis.from_url(redis_service.url)
    try:
        for junk in (b"E\x1fnot enough fields", b"E\x1fx\x1fnot-a-room\x1f1\x1f1\x1f{}",
                     b"U\x1fx\x1f\xff\xfe", b"\xff\xfe", b""):
            await publisher.publish(CHANNEL, junk)
    finally:
        await publisher.aclose()
    a.broker.publish(1, 2, b'{"n":2}', 1)
    await eventually(lambda: b.data() == [b'{"n":1}', b'{"n":2}'])
    assert b.resyncs == resyncs  # the link was never lost: nothing to refill
