"""Publishing to Redis on a connection of our own: one write per batch, its replies counted.

Every message is published once, by the process its sender is on. redis-py's
pipeline spent 110-140 µs of that process's CPU on a one-``PUBLISH`` batch
(command packing, its connection pool, a parser in Python); written on a
plain asyncio connection the same round trip costs about a third of that
(docs/benchmarks.md). Here a batch's ``PUBLISH`` commands go out in one
write, and Redis's answers are counted in the loop's read callback: the
batch is done when each is answered. An error reply, a loss or a timeout
raises, and the link is not used again: the broker (redis_broker.py) keeps
the batch in its outbox, connects anew and sends it again.

For ``redis://`` and ``unix://`` (as broker/redis_subscriber.py); ``rediss://``
publishes through redis-py, which knows the TLS options.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from multichat.server.broker import resp


class _Link(asyncio.Protocol):
    """The connection: counts Redis's answers to what was written, in order."""

    def __init__(self) -> None:
        # Nothing is subscribed here: every reply goes to _answered.
        self.reader = resp.PushReader(b"", self._unexpected, self._answered)
        self.transport: asyncio.Transport | None = None
        self.failure: BaseException | None = None
        self._waiting = 0
        self._done: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.reader.feed(data)
        except (resp.RespError, ValueError) as exc:
            self.fail(RedisConnectionError(f"Redis's answer could not be read: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(RedisConnectionError(
            f"the publishing connection was lost ({exc or 'closed by Redis'})"))

    def send(self, data: bytes, answers: int) -> asyncio.Future[None]:
        """Write ``data``; the future is done when ``answers`` more replies have come."""
        assert self.transport is not None and self._done is None
        done = asyncio.get_running_loop().create_future()
        if self.failure is not None:
            done.set_exception(self.failure)
            return done
        self._done, self._waiting = done, answers
        self.transport.write(data)
        return done

    def _answered(self, value: resp.Value) -> None:
        if isinstance(value, resp.RespError):
            self.fail(ResponseError(f"Redis refused a command: {value}"))
            return
        self._waiting -= 1
        if self._waiting <= 0 and self._done is not None:
            done, self._done = self._done, None
            if not done.done():
                done.set_result(None)

    def _unexpected(self, payload: bytes) -> None:
        self.fail(RedisConnectionError("a subscription message on the publishing link"))

    def fail(self, exc: BaseException) -> None:
        """Drop the link: the batch waiting, if any, and every later one raise ``exc``."""
        if self.failure is None:
            self.failure = exc
        if self.transport is not None:
            self.transport.abort()
        done, self._done = self._done, None
        if done is not None and not done.done():
            done.set_exception(exc)


class Publisher:
    """One connection that publishes batches; unusable after its first failure."""

    def __init__(self, link: _Link, answer_within: float) -> None:
        self._link = link
        self._answer_within = answer_within

    @property
    def usable(self) -> bool:
        return self._link.failure is None

    async def publish(self, channel: bytes, payloads: Sequence[bytes]) -> None:
        """``PUBLISH channel payload`` for each, in order, in one write; returns once
        Redis has answered each (within ``answer_within`` seconds). Raises a RedisError
        or OSError (TimeoutError included) else."""
        data = b"".join(resp.command(b"PUBLISH", channel, payload) for payload in payloads)
        answered = self._link.send(data, len(payloads))
        try:
            async with asyncio.timeout(self._answer_within):
                await answered
        except TimeoutError:
            self._link.fail(RedisConnectionError("Redis did not answer the publish"))
            raise

    def close(self) -> None:
        self._link.fail(RedisConnectionError("closed"))


async def connect(url: str, *, answer_within: float) -> Publisher:
    """Connect and authenticate as the URL says; each batch is then to be answered within
    ``answer_within`` seconds. Raises OSError or a RedisError."""
    link, auth = await resp.connect(url, _Link)
    publisher = Publisher(link, answer_within)
    try:
        if auth is not None:
            async with asyncio.timeout(resp.CONNECT_TIMEOUT):
                await link.send(auth, 1)
    except BaseException:
        publisher.close()
        raise
    return publisher
