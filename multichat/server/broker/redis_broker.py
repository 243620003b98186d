"""Redis between server processes: pub/sub for room events, hashes for room presence.

One channel carries every event, and the frames for one user's connections
(``publish_user``, read markers: each process hands them to that user's
connections it holds): each process publishes an event once (not
per recipient), hands it to its own members at once without waiting for
Redis, and delivers what other processes publish. Redis pub/sub reaches only
the subscribers connected at that moment, so it is a notification layer: the
database stays the source of truth, and after any reconnect the chat layer
fills each room from the store by seq (``BrokerListener.resync``).

Presence lives in hashes (``PREFIX`` below):

    PREFIX:room:ROOM     username -> number of processes that have the user in the room
    PREFIX:proc:PROC     "ROOM<TAB>username" -> 1, for each pair this process counts
    PREFIX:alive:PROC    a key with a time to live, refreshed by a heartbeat
    PREFIX:procs         the processes that registered

A process that stops refreshing its key (killed, cut off) is reaped by the
next heartbeat of any other: its pairs are counted out and the users it was
the last to hold are announced as leaving. A process whose own key vanished
(Redis restarted, or it was reaped while cut off) registers its pairs again.

Failures never reach the clients: publishes wait in an outbox and go out
after a reconnect, presence falls back to this process's own view, and the
connections to Redis come back by themselves with a growing delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Awaitable
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from multichat.server.broker import redis_publisher, redis_subscriber
from multichat.server.broker.base import BrokerListener, DeliverFn
from multichat.server.redact import redact

log = logging.getLogger(__name__)

PREFIX = "multichat"
CHANNEL = f"{PREFIX}:events"
# Publishes waiting for Redis, at most; past it the oldest go and, once Redis is
# back, every process is told to refill from the store instead.
OUTBOX_LIMIT = 100_000
# Publishes per round trip: a pipeline of them costs one write to Redis.
PUBLISH_BATCH = 512
# Seconds Redis has to answer a batch of publishes (as the redis-py client's socket_timeout).
PUBLISH_TIMEOUT = 5.0
_CHANNEL_BYTES = CHANNEL.encode()
# Reconnect delays: quick for a blip, no faster than this for a long outage.
RETRY_MIN, RETRY_MAX = 0.1, 5.0
# Seconds between pings on an idle subscription, so a silent dead link is noticed.
HEALTH_CHECK = 5

_EVENT, _CHANGES, _RESYNC, _USER = b"E", b"C", b"R", b"U"
_SEP = b"\x1f"  # JSON text never holds a raw control character, so this is unambiguous

# Every script starts with these. A field is "ROOM<TAB>username"; ``count`` moves how
# many processes hold it (removing it at 0) and returns the new number.
_PAIRS = """
local function count(prefix, f, by)
  local tab = string.find(f, '\\t', 1, true)
  local room = prefix .. ':room:' .. string.sub(f, 1, tab - 1)
  local user = string.sub(f, tab + 1)
  local n = redis.call('HINCRBY', room, user, by)
  if n <= 0 then redis.call('HDEL', room, user) end
  return n
end
"""

# KEYS: none (the keys depend on the rooms). ARGV: prefix, proc, field.
_ENTER = _PAIRS + """
if redis.call('HSETNX', ARGV[1] .. ':proc:' .. ARGV[2], ARGV[3], 1) == 0 then return -1 end
return count(ARGV[1], ARGV[3], 1)
"""

_LEAVE = _PAIRS + """
if redis.call('HDEL', ARGV[1] .. ':proc:' .. ARGV[2], ARGV[3]) == 0 then return -1 end
return math.max(count(ARGV[1], ARGV[3], -1), 0)
"""

# ARGV: prefix, proc, ttl_ms, field...: make this process count exactly these pairs.
_REGISTER = _PAIRS + """
local prefix, procid = ARGV[1], ARGV[2]
local proc = prefix .. ':proc:' .. procid
local want, have = {}, {}
for i = 4, #ARGV do want[ARGV[i]] = true end
for _, f in ipairs(redis.call('HKEYS', proc)) do have[f] = true end
for f in pairs(have) do
  if not want[f] then count(prefix, f, -1) redis.call('HDEL', proc, f) end
end
for f in pairs(want) do
  if not have[f] then count(prefix, f, 1) redis.call('HSET', proc, f, 1) end
end
redis.call('SET', prefix .. ':alive:' .. procid, 1, 'PX', ARGV[3])
redis.call('SADD', prefix .. ':procs', procid)
return 1
"""

# ARGV: prefix, proc, ttl_ms. Returns 1 if the key was still there, 0 if it had gone.
_HEARTBEAT = """
local alive = ARGV[1] .. ':alive:' .. ARGV[2]
local existed = redis.call('EXISTS', alive)
redis.call('SET', alive, 1, 'PX', ARGV[3])
redis.call('SADD', ARGV[1] .. ':procs', ARGV[2])
return existed
"""

# ARGV: prefix, proc, force. Counts a dead (or, with force, departing) process out;
# returns the "ROOM<TAB>username" pairs nobody holds any more.
_REAP = _PAIRS + """
local prefix, procid = ARGV[1], ARGV[2]
if ARGV[3] ~= '1' and redis.call('EXISTS', prefix .. ':alive:' .. procid) == 1 then
  return {}
end
local proc = prefix .. ':proc:' .. procid
local gone = {}
for _, f in ipairs(redis.call('HKEYS', proc)) do
  if count(prefix, f, -1) <= 0 then table.insert(gone, f) end
end
redis.call('DEL', proc, prefix .. ':alive:' .. procid)
redis.call('SREM', prefix .. ':procs', procid)
return gone
"""


def _field(room_id: int, username: str) -> str:
    return f"{room_id}\t{username}"


def _split(field: str | bytes) -> tuple[int, str]:
    text = field.decode() if isinstance(field, bytes) else field
    room, _, username = text.partition("\t")
    return int(room), username


class _Retry:
    """Growing delays between reconnect attempts, back to quick after a success.

    Not the app's ``Backoff`` (desktop/client/backoff.py), on purpose: a few
    server processes reconnecting to their own Redis need no jitter against a
    stampede of a LAN's clients, and the server may not import the desktop.
    """

    def __init__(self) -> None:
        self.delay = RETRY_MIN

    def reset(self) -> None:
        self.delay = RETRY_MIN

    async def wait(self) -> None:
        await asyncio.sleep(self.delay)
        self.delay = min(self.delay * 2, RETRY_MAX)


def _client(url: str, **extra: Any) -> Redis:
    # No retries inside redis-py: a lost connection must surface here, where the
    # broker knows what may have been missed and refills it.
    return Redis.from_url(url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=2.0, **extra)


class RedisPresence:
    """Shared presence on Redis: the ``SharedPresence`` of a ``RedisBroker``."""

    def __init__(self, broker: RedisBroker) -> None:
        self._broker = broker
        self._mine: set[str] = set()  # the pairs this process counts, kept for re-registering
        self._ops: asyncio.Queue[tuple[str, str, asyncio.Future[int] | None]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._need_register = True

    def start(self) -> None:
        self._worker = asyncio.create_task(self._work(), name="redis-presence")

    async def enter(self, room_id: int, username: str) -> bool:
        field = _field(room_id, username)
        self._mine.add(field)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._ops.put_nowait(("enter", field, future))
        result = await future
        return result != -1 and result <= 1  # -1: Redis unreachable; announce to be safe

    def leave(self, room_id: int, username: str) -> None:
        field = _field(room_id, username)
        self._mine.discard(field)
        self._ops.put_nowait(("leave", field, None))

    async def members(self, room_id: int) -> list[str] | None:
        try:
            names = await self._broker.redis.hkeys(f"{PREFIX}:room:{room_id}")
        except (RedisError, OSError):
            return None
        return sorted(name.decode() if isinstance(name, bytes) else str(name) for name in names)

    def mark_lost(self) -> None:
        """Redis may have forgotten us (restart, reaped): register every pair again."""
        self._need_register = True
        self._ops.put_nowait(("register", "", None))

    async def _work(self) -> None:
        """Run presence changes one at a time, in the order they were asked for."""
        broker = self._broker
        while True:
            op, field, future = await self._ops.get()
            try:
                result = await self._run(op, field)
            except (RedisError, OSError) as exc:
                log.warning("presence on Redis failed (%s); members may be off until it is back",
                            exc)
                self._need_register = True  # redone as a whole once Redis answers
                result = -1
            if future is not None and not future.done():
                future.set_result(result)
            if op == "leave" and result == 0 and broker.listener is not None:
                room_id, username = _split(field)
                broker.listener.departed(room_id, username)
            self._ops.task_done()

    async def _run(self, op: str, field: str) -> int:
        broker = self._broker
        if self._need_register or op == "register":
            # The register counts this op's pair in or out along with all the others;
            # what the op would have returned is read back from the room's hash.
            await self.register()
            if op == "register":
                return 0
            room_id, username = _split(field)
            holders = await _awaited(broker.redis.hget(f"{PREFIX}:room:{room_id}", username))
            count = int(holders or 0)
            return max(count, 1) if op == "enter" else count
        script = _ENTER if op == "enter" else _LEAVE
        return int(await broker.redis.eval(script, 0, PREFIX, broker.process_id, field))

    async def register(self) -> None:
        broker = self._broker
        await broker.redis.eval(_REGISTER, 0, PREFIX, broker.process_id, broker.ttl_ms,
                                *sorted(self._mine))
        self._need_register = False

    async def drain(self) -> None:
        """Wait until every presence change asked for so far has been made."""
        await self._ops.join()

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)


class RedisBroker:
    """Room events between processes over Redis pub/sub, presence in Redis hashes."""

    ordered = False

    def __init__(self, url: str, *, presence_ttl: float = 15.0,
                 health_check: float = HEALTH_CHECK) -> None:
        self.url = url
        self._health_check = health_check
        self._shown = redact(url)
        self.process_id = uuid.uuid4().hex[:12]
        self.ttl_ms = max(1000, int(presence_ttl * 1000))
        self.redis = _client(url, socket_timeout=5.0)
        self._sub_redis = _client(url, health_check_interval=health_check)
        self.presence = RedisPresence(self)
        self.listener: BrokerListener | None = None
        self._deliver: DeliverFn | None = None
        self._outbox: deque[bytes] = deque()
        self._dropped = False
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._lean_publish = redis_subscriber.supported(url)
        self._publish_link: redis_publisher.Publisher | None = None

    @property
    def waiting(self) -> int:
        """Events published here that Redis has not taken yet."""
        return len(self._outbox)

    @property
    def connected(self) -> bool:
        """Whether the subscription is up (for logs and tests)."""
        return self._subscribed.is_set()

    async def start(self, deliver: DeliverFn, listener: BrokerListener | None = None) -> None:
        """Start the subscription, publisher and heartbeat; wait briefly for Redis.

        A Redis that is down at start does not stop the server: it serves its
        own members and joins the others once Redis answers.
        """
        self._deliver = deliver
        self.listener = listener
        self.presence.start()
        self._tasks = [
            asyncio.create_task(self._subscription(), name="redis-subscription"),
            asyncio.create_task(self._publisher(), name="redis-publisher"),
            asyncio.create_task(self._heartbeat(), name="redis-heartbeat"),
        ]
        try:
            await asyncio.wait_for(self._subscribed.wait(), 5.0)
        except TimeoutError:
            log.warning("Redis at %s does not answer yet; serving local members meanwhile",
                        self._shown)

    def publish(self, room_id: int, seq: int | None, data: bytes, version: int) -> None:
        deliver = self._deliver
        if deliver is None:
            raise RuntimeError("publish before start")
        deliver(room_id, seq, data, version)  # this process's members first, whatever Redis does
        self._queue(_EVENT + _SEP + self._header(room_id, seq, version) + data)

    def notify_changes(self) -> None:
        self._queue(_CHANGES + _SEP + self.process_id.encode())

    def publish_user(self, user_id: int, data: bytes) -> None:
        self._queue(_USER + _SEP + f"{self.process_id}\x1f{user_id}\x1f".encode() + data)

    def _header(self, room_id: int, seq: int | None, version: int) -> bytes:
        seq_text = "" if seq is None else seq
        return f"{self.process_id}\x1f{room_id}\x1f{seq_text}\x1f{version}\x1f".encode()

    def _queue(self, payload: bytes) -> None:
        if len(self._outbox) >= OUTBOX_LIMIT:
            self._outbox.popleft()
            self._dropped = True
        self._outbox.append(payload)
        self._wake.set()

    # -- the three loops ----------------------------------------------------------------

    async def _publisher(self) -> None:
        """Send the outbox in order, in pipelines; keep it through an outage."""
        retry = _Retry()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox:
                batch = [self._outbox[i] for i in range(min(PUBLISH_BATCH, len(self._outbox)))]
                if self._dropped:  # events were lost here: everyone refills from the store
                    batch.append(_RESYNC + _SEP + self.process_id.encode())
                try:
                    await self._send(batch)
                except (RedisError, OSError) as exc:
                    log.warning("publishing to Redis failed (%s); %d event(s) wait",
                                exc, len(self._outbox))
                    await retry.wait()
                    continue
                retry.reset()
                if self._dropped:
                    self._dropped = False
                    batch.pop()
                for _ in batch:
                    self._outbox.popleft()
            self._drained.set()

    async def _send(self, batch: list[bytes]) -> None:
        """Publish a batch in one round trip: on a link of our own (broker/redis_publisher.py)
        where it can, else in a redis-py pipeline (``rediss://``)."""
        if not self._lean_publish:
            async with self.redis.pipeline(transaction=False) as pipe:
                for payload in batch:
                    pipe.publish(CHANNEL, payload)
                await pipe.execute()
            return
        if self._publish_link is None or not self._publish_link.usable:
            self._publish_link = await redis_publisher.connect(
                self.url, answer_within=PUBLISH_TIMEOUT)
        await self._publish_link.publish(_CHANNEL_BYTES, batch)

    async def _subscription(self) -> None:
        """Receive other processes' events; after every (re)subscribe, ask for a refill."""
        retry = _Retry()
        session = (self._lean_session if redis_subscriber.supported(self.url)
                   else self._pubsub_session)
        while True:
            try:
                await session(retry)
            except (RedisError, OSError) as exc:
                if self._subscribed.is_set():
                    log.warning("lost the Redis subscription (%s); reconnecting", exc)
                self._subscribed.clear()
            await retry.wait()

    def _now_subscribed(self, retry: _Retry) -> None:
        if not self._subscribed.is_set():
            log.info("subscribed to Redis at %s as process %s", self._shown, self.process_id)
        self._subscribed.set()
        retry.reset()
        # Subscribed first, then refilled: nothing falls between the two.
        if self.listener is not None:
            self.listener.resync()

    async def _lean_session(self, retry: _Retry) -> None:
        """One subscribed connection read by broker/redis_subscriber.py, until it is lost."""
        subscription = await redis_subscriber.subscribe(
            self.url, CHANNEL, self._received, health_check=self._health_check)
        try:
            self._now_subscribed(retry)
            await subscription.lost()
        finally:
            subscription.close()

    async def _pubsub_session(self, retry: _Retry) -> None:
        """The same through redis-py's PubSub (TLS: rediss://), until it is lost."""
        pubsub = self._sub_redis.pubsub()
        try:
            await pubsub.subscribe(CHANNEL)
            self._now_subscribed(retry)
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                   timeout=1.0)
                if message is not None and message["type"] == "message":
                    self._received(message["data"])
        finally:
            with contextlib.suppress(Exception):
                await cast(Any, pubsub).aclose()  # typed only in newer redis-py

    async def _heartbeat(self) -> None:
        """Keep our liveness key; reap processes whose key expired."""
        interval = self.ttl_ms / 3000
        while True:
            try:
                existed = await self.redis.eval(_HEARTBEAT, 0, PREFIX, self.process_id,
                                                self.ttl_ms)
                if not existed:
                    self.presence.mark_lost()
                for proc in await self.redis.smembers(f"{PREFIX}:procs"):
                    procid = proc.decode() if isinstance(proc, bytes) else str(proc)
                    if procid != self.process_id:
                        await self._reap(procid, force=False)
            except (RedisError, OSError) as exc:
                log.debug("heartbeat to Redis failed: %s", exc)
            await asyncio.sleep(interval)

    async def _reap(self, procid: str, *, force: bool) -> None:
        gone = await self.redis.eval(_REAP, 0, PREFIX, procid, "1" if force else "0")
        if gone:
            log.info("counted out %d member(s) of process %s", len(gone), procid)
        for field in gone:
            room_id, username = _split(field)
            if self.listener is not None:
                self.listener.departed(room_id, username)

    def _received(self, payload: bytes) -> None:
        try:
            self._take(payload)
        except ValueError:  # malformed (another version mid-upgrade?): skip this one only
            log.warning("skipped a malformed broker payload (%d bytes)", len(payload))

    def _take(self, payload: bytes) -> None:
        kind = payload[:1]
        if kind == _EVENT:
            _, origin, room, seq, version, data = payload.split(_SEP, 5)
            if origin.decode() == self.process_id or self._deliver is None:
                return  # our own: delivered when published
            self._deliver(int(room), int(seq) if seq else None, data, int(version))
        elif kind == _USER:
            _, origin, user, data = payload.split(_SEP, 3)
            if origin.decode() != self.process_id and self.listener is not None:
                self.listener.to_user(int(user), data)
        elif kind == _CHANGES:
            if payload[2:].decode() != self.process_id and self.listener is not None:
                self.listener.changed()
        elif kind == _RESYNC and self.listener is not None:
            self.listener.resync()

    async def close(self) -> None:
        """Count this process out (announcing who left with it), flush, close the links.

        Each step is bounded: with Redis down, a shutdown does not hang on it;
        the others then count this process out when its liveness key expires.
        """
        await _quietly(self.presence.drain(), 2.0)
        await self.presence.close()
        await _quietly(self._reap(self.process_id, force=True), 2.0)
        await _quietly(self._flush(), 2.0)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._publish_link is not None:
            self._publish_link.close()
        await _quietly(self.redis.aclose(), 2.0)
        await _quietly(self._sub_redis.aclose(), 2.0)
        self._deliver = None

    async def _flush(self) -> None:
        if self._outbox and self._subscribed.is_set():
            self._drained.clear()
            await self._drained.wait()


async def _awaited(value: Awaitable[Any] | Any) -> Any:
    """redis-py types its asyncio commands as 'awaitable or value': await the awaitable."""
    return await cast(Awaitable[Any], value)


async def _quietly(work: Awaitable[Any], seconds: float) -> None:
    try:
        await asyncio.wait_for(work, seconds)
    except (RedisError, OSError, TimeoutError) as exc:
        log.debug("Redis at shutdown: %s", exc)


__all__ = ["CHANNEL", "RedisBroker", "RedisPresence"]
