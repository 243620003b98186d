"""broker/redis_publisher.py against a real redis-server: batches in order, AUTH, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError, ResponseError

from multichat.server.broker import redis_publisher, redis_subscriber
from tests.helpers.services import RedisService
from tests.helpers.timing import TIMEOUT

CHANNEL = b"multichat:events"


@pytest.fixture
async def listening(redis_service: RedisService) -> AsyncIterator[PubSub]:
    client = Redis.from_url(redis_service.url)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    try:
        yield pubsub
    finally:
        await pubsub.aclose()
        await client.aclose()


async def received(pubsub: PubSub, count: int) -> list[bytes]:
    payloads: list[bytes] = []
    while len(payloads) < count:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=TIMEOUT)
        if message is not None:
            payloads.append(message["data"])
    return payloads


@pytest.mark.parametrize("over", ["tcp", "unix socket"])
async def test_a_batch_is_published_in_order_and_answered(
    redis_service: RedisService, listening: PubSub, over: str
) -> None:
    url = redis_service.url if over == "tcp" else redis_service.socket_url
    publisher = await redis_publisher.connect(url, answer_within=TIMEOUT)
    try:
        batch = [b"first", b"second \r\n with CRLF", b"", b"x" * 100_000]
        await publisher.publish(CHANNEL, batch)  # returns once each publish is answered
        await publisher.publish(CHANNEL, [b"next batch"])
        assert await received(listening, 5) == [*batch, b"next batch"]
        assert publisher.usable
    finally:
        publisher.close()
    assert not publisher.usable


async def test_the_url_password_is_sent_and_a_refusal_raises(
    redis_service: RedisService,
) -> None:
    admin = Redis.from_url(redis_service.url)
    await admin.config_set("requirepass", "s3cret")
    await admin.aclose()
    host = f"127.0.0.1:{redis_service.port}"
    with pytest.raises(ResponseError):  # AUTH with the wrong password
        await redis_publisher.connect(f"redis://:wrong@{host}/0", answer_within=TIMEOUT)
    unauthenticated = await redis_publisher.connect(f"redis://{host}/0",
                                                    answer_within=TIMEOUT)
    with pytest.raises(ResponseError, match="NOAUTH"):
        await unauthenticated.publish(CHANNEL, [b"refused"])
    assert not unauthenticated.usable  # never used again: the broker connects anew
    with pytest.raises(RedisError):
        await unauthenticated.publish(CHANNEL, [b"after the refusal"])
    publisher = await redis_publisher.connect(f"redis://:s3cret@{host}/0",
                                              answer_within=TIMEOUT)
    try:
        await publisher.publish(CHANNEL, [b"allowed"])
        assert publisher.usable
    finally:
        publisher.close()


async def test_a_lost_redis_fails_the_publish_instead_of_hanging(
    redis_service: RedisService,
) -> None:
    publisher = await redis_publisher.connect(redis_service.url, answer_within=TIMEOUT)
    await publisher.publish(CHANNEL, [b"before"])
    redis_service.stop()  # SIGKILL: the connection goes with it
    with pytest.raises((RedisError, OSError)):
        await asyncio.wait_for(publisher.publish(CHANNEL, [b"during"]), TIMEOUT * 2)
    assert not publisher.usable


async def test_the_subscription_authenticates_as_the_url_says_user_and_password_too(
    redis_service: RedisService,
) -> None:
    """Both links open through resp.connect: its AUTH, with a password alone and with an
    ACL user, reaches the subscription as it does the publisher."""
    admin = Redis.from_url(redis_service.url)
    await admin.execute_command("ACL", "SETUSER", "relay", "on", ">relay-pw", "&*", "+@all")
    await admin.config_set("requirepass", "s3cret")
    await admin.aclose()
    host = f"127.0.0.1:{redis_service.port}"
    got: list[bytes] = []
    arrived = asyncio.Event()

    def on_message(payload: bytes) -> None:
        got.append(payload)
        if len(got) == 2:
            arrived.set()

    with pytest.raises(RedisError, match="AUTH"):
        await redis_subscriber.subscribe(f"redis://relay:wrong@{host}/0", "ch", on_message,
                                         health_check=TIMEOUT)
    with pytest.raises(RedisError, match="SUBSCRIBE"):  # no AUTH: Redis refuses the rest
        await redis_subscriber.subscribe(f"redis://{host}/0", "ch", on_message,
                                         health_check=TIMEOUT)
    by_password = await redis_subscriber.subscribe(
        f"redis://:s3cret@{host}/0", "ch", on_message, health_check=TIMEOUT)
    by_user = await redis_subscriber.subscribe(
        f"redis://relay:relay-pw@{host}/0", "ch", on_message, health_check=TIMEOUT)
    publisher = await redis_publisher.connect(f"redis://relay:relay-pw@{host}/0",
                                              answer_within=TIMEOUT)
    try:
        await publisher.publish(b"ch", [b"to both"])
        await asyncio.wait_for(arrived.wait(), TIMEOUT)
        assert got == [b"to both", b"to both"]
    finally:
        publisher.close()
        by_password.close()
        by_user.close()
