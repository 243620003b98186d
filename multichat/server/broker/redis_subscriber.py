"""The subscription to Redis, read by an asyncio protocol of our own.

Every process receives every other process's events, so receiving is the
cluster's cost per message times the processes. redis-py's ``PubSub`` spent
it on a ``get_message`` with a timeout per message, its pure-Python parser
and a dict per message (docs/benchmarks.md); here the socket's bytes go
straight to ``resp.PushReader``, which slices each payload out of the buffer
in the loop's own read callback: no task wakes up per message.

Dead links are noticed as redis-py's ``health_check_interval`` did: after
``HEALTH_CHECK`` seconds without a byte a ``PING`` goes out, and a link that
answers nothing for another ``HEALTH_CHECK`` is closed. A lost link ends
``Subscription.lost``; the broker reconnects and refills (redis_broker.py).

For ``redis://`` and ``unix://``. ``rediss://`` (TLS, with its certificate
options) stays with redis-py's ``PubSub``, which knows them all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from multichat.server.broker import resp


def supported(url: str) -> bool:
    """Whether this subscriber serves the URL (not TLS: redis-py's PubSub does)."""
    return url.lower().startswith(("redis://", "unix://"))


class _Link(asyncio.Protocol):
    """The connection: replies to our commands in order, pushes to ``on_message``."""

    def __init__(self, channel: bytes, on_message: Callable[[bytes], None],
                 health_check: float) -> None:
        self.reader = resp.PushReader(channel, on_message, self._other)
        self.replies: asyncio.Queue[resp.Value] = asyncio.Queue()
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self._health_check = health_check
        self._heard = True
        self._pinged = False
        self._timer: asyncio.TimerHandle | None = None
        self.closing = False  # closed by us: not a loss

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._timer = asyncio.get_running_loop().call_later(self._health_check, self._check)

    def data_received(self, data: bytes) -> None:
        self._heard = True
        self.reader.feed(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.lost.done():
            return
        if self.closing:
            self.lost.set_result(None)
        else:
            self.lost.set_exception(RedisConnectionError(
                f"the subscription's connection was lost ({exc or 'closed by Redis'})"))

    def _other(self, value: resp.Value) -> None:
        if isinstance(value, list) and value and value[0] == b"pong":
            self._pinged = False
            return
        self.replies.put_nowait(value)

    def _check(self) -> None:
        """Every ``health_check`` seconds: ping a quiet link; close one that stayed mute."""
        if self.transport is None or self.transport.is_closing():
            return
        if not self._heard:
            if self._pinged:
                self.transport.abort()  # connection_lost follows
                return
            self._pinged = True
            self.transport.write(resp.command("PING"))
        self._heard = False
        self._timer = asyncio.get_running_loop().call_later(self._health_check, self._check)


class Subscription:
    """One subscribed connection; ``lost`` ends (raising) when it goes."""

    def __init__(self, link: _Link) -> None:
        self._link = link

    async def lost(self) -> None:
        await self._link.lost

    def close(self) -> None:
        self._link.closing = True
        if self._link.transport is not None:
            self._link.transport.close()
        if self._link.lost.done() and not self._link.lost.cancelled():
            self._link.lost.exception()  # retrieved: nobody need be told again


async def subscribe(url: str, channel: str, on_message: Callable[[bytes], None], *,
                    health_check: float) -> Subscription:
    """Connect, authenticate as the URL says, subscribe to ``channel``: each payload then
    goes to ``on_message`` as it arrives. Raises OSError or a RedisError on failure."""
    link, auth = await resp.connect(
        url, lambda: _Link(channel.encode(), on_message, health_check))
    subscription = Subscription(link)
    try:
        async with asyncio.timeout(resp.CONNECT_TIMEOUT):
            if auth is not None:
                await _ask(link, auth)
            reply = await _ask(link, resp.command("SUBSCRIBE", channel))
        if not (isinstance(reply, list) and reply and reply[0] == b"subscribe"):
            raise RedisConnectionError(f"Redis answered SUBSCRIBE with {reply!r}")
    except BaseException:
        subscription.close()
        raise
    return subscription


async def _ask(link: _Link, request: bytes) -> resp.Value:
    """Send one command and wait for its reply (raised if it is an error)."""
    assert link.transport is not None
    link.transport.write(request)
    reply_task = asyncio.ensure_future(link.replies.get())
    waits: set[asyncio.Future[Any]] = {reply_task, link.lost}
    try:
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not reply_task.done():  # lost, or the caller's timeout: no task left behind
            reply_task.cancel()
    if reply_task not in done:
        await link.lost  # raises why
    reply = reply_task.result()
    if isinstance(reply, resp.RespError):
        name = request.split(b"\r\n", 3)[2].decode(errors="replace")  # the command's name
        raise RedisConnectionError(f"Redis refused {name}: {reply}")
    return reply
