"""Redis's replies on a subscribed connection (RESP2), cut out of the bytes as they come.

A subscription's connection carries little else than ``message`` pushes of
one channel: ``*3 $7 message $N channel $N payload``. Each is recognised by
its fixed beginning and its payload sliced out of the buffer, with no
object made for the frame; anything else (the subscribe confirmation, a
``PING``'s answer, an error) goes through a small general reader. What a
read ends in the middle of waits for the next read.

The reading is pure logic, no I/O: broker/redis_subscriber.py and
broker/redis_publisher.py feed it what their sockets give. Both open those
sockets with ``connect`` below, the one place that reads the URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from redis.connection import parse_url

# Seconds to open a connection to Redis (and, for its callers, to authenticate on it).
CONNECT_TIMEOUT = 2.0

_Link = TypeVar("_Link", bound=asyncio.Protocol)

_CRLF = b"\r\n"
# What ``_value`` returns for a value not yet wholly in the buffer.
_PARTIAL = object()

# Longest bulk string (or array) taken from the subscription. The events published are
# frames of at most --max-frame-bytes and a short header; 64 MiB is far past any, and
# bounds what a forged or corrupt length could make this process buffer.
MAX_LENGTH = 64 * 2**20


class RespError(Exception):
    """An error reply from Redis (``-ERR ...``), or bytes that are not RESP2."""


Value = bytes | int | list["Value"] | RespError | None


class PushReader:
    """Feed it the bytes of a subscribed connection; it calls ``on_message`` with each
    payload published on ``channel`` and ``on_other`` with every other reply."""

    def __init__(self, channel: bytes, on_message: Callable[[bytes], None],
                 on_other: Callable[[Value], None]) -> None:
        self._message_head = (b"*3\r\n$7\r\nmessage\r\n$%d\r\n" % len(channel) + channel
                              + b"\r\n$")
        self._on_message = on_message
        self._on_other = on_other
        self._rest = b""

    def feed(self, data: bytes) -> None:
        buf = self._rest + data if self._rest else data
        head, size_at, end = self._message_head, len(self._message_head), len(buf)
        pos = 0
        while pos < end:
            if buf.startswith(head, pos):
                line = buf.find(_CRLF, pos + size_at)
                if line < 0:
                    break
                body = line + 2
                after = body + _length(buf[pos + size_at:line])
                if after + 2 > end:
                    break
                pos = after + 2
                self._on_message(buf[body:after])
                continue
            value, next_pos = _value(buf, pos)
            if value is _PARTIAL:
                break
            pos = next_pos
            self._on_other(value)  # type: ignore[arg-type]
        self._rest = buf[pos:]


def _value(buf: bytes, pos: int) -> tuple[object, int]:
    """The value at ``pos`` and where the next begins, or (_PARTIAL, pos)."""
    line = buf.find(_CRLF, pos)
    if line < 0:
        return _PARTIAL, pos
    kind, text, after = buf[pos:pos + 1], buf[pos + 1:line], line + 2
    if kind == b"$":
        size = _length(text)
        if size < 0:
            return None, after
        if after + size + 2 > len(buf):
            return _PARTIAL, pos
        return buf[after:after + size], after + size + 2
    if kind == b"*":
        count = _length(text)
        if count < 0:
            return None, after
        items: list[object] = []
        for _ in range(count):
            item, after = _value(buf, after)
            if item is _PARTIAL:
                return _PARTIAL, pos
            items.append(item)
        return items, after
    if kind == b":":
        return int(text), after
    if kind == b"+":
        return text, after
    if kind == b"-":
        return RespError(text.decode(errors="replace")), after
    raise RespError(f"not a RESP2 reply: {buf[pos:pos + 20]!r}")


def _length(text: bytes) -> int:
    """A bulk string's length or an array's count, refused past ``MAX_LENGTH``: the
    link is dropped (and refilled from the store) rather than buffering without end."""
    length = int(text)
    if length > MAX_LENGTH:
        raise RespError(f"a RESP length of {length} is past {MAX_LENGTH}")
    return length


def command(*parts: bytes | str) -> bytes:
    """One command as Redis reads it: an array of bulk strings."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


async def connect(url: str, make: Callable[[], _Link]) -> tuple[_Link, bytes | None]:
    """Open the connection a ``redis://`` or ``unix://`` URL names, within
    ``CONNECT_TIMEOUT``, with ``make``'s protocol; returns it and the ``AUTH`` command
    the URL asks for (None without a password), for the caller to send its own way."""
    options: dict[str, Any] = parse_url(url)  # type: ignore[no-untyped-call]
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(CONNECT_TIMEOUT):
        if "path" in options:
            _, link = await loop.create_unix_connection(make, options["path"])
        else:
            _, link = await loop.create_connection(
                make, options.get("host", "localhost"), options.get("port", 6379))
    password, user = options.get("password"), options.get("username")
    if password is None:
        return link, None
    return link, command("AUTH", user, password) if user else command("AUTH", password)
