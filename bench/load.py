"""The load generator: a separate process of many WebSocket clients, open loop.

    python -m bench.load SCENARIO JSON_PARAMS   ->  one JSON object on stdout

Latency is measured from the *intended* send time (each message carries it),
so a server that falls behind is charged for the wait (no coordinated
omission). The generator reports its own CPU time: a run in which it was the
bottleneck is flagged by the harness, not believed.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import os
import random
import resource
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench.wire import LeanClient, TextHandler

CONNECT_CONCURRENCY = 200


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def server_cpu(pid: int) -> float:
    """User + system CPU seconds of another process, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def open_client(url: str, username: str, *, token: str | None = None,
                      compression: bool = False) -> ClientConnection:
    """Connect and log in with the account's saved login (a token, as returning clients do).

    ``compression`` offers permessage-deflate, which a server started with
    ``--compression`` accepts.
    """
    ws = await connect(url, max_queue=None, compression="deflate" if compression else None,
                       open_timeout=60, max_size=2**24, ping_interval=None)
    number = username.removeprefix("u")
    login = {"command": "login", "token": token or f"bench-token-{number}"}
    await ws.send(json.dumps(login))
    while "login" not in (reply := json.loads(await ws.recv())):
        if "error" in reply:
            raise RuntimeError(f"login failed: {reply}")
    return ws


async def join(ws: ClientConnection, room: str, **extra: Any) -> None:
    await ws.send(json.dumps({"command": "join", "room": room, **extra}))
    while "join" not in (reply := json.loads(await ws.recv())):
        if "error" in reply:
            raise RuntimeError(f"join failed: {reply}")


async def gather_limited(factories: Sequence[Callable[[], Awaitable[Any]]],
                         limit: int = CONNECT_CONCURRENCY) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def run(factory: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await factory()

    return await asyncio.gather(*(run(f) for f in factories))


class Tally:
    """Counts the room messages a generator's clients receive; times some of them.

    Each message text is ``sender|n|intended_ns``: latency runs from when the
    message was *meant* to be sent, so a late sender is charged too.
    """

    def __init__(self, frames: str = "compact") -> None:
        self.received = 0
        self.activity = 0  # activity frames (rooms not joined), counted apart
        self.latencies: list[float] = []
        self.measure_from = 2**63
        # Multichat and the ceiling encode without spaces; the seed's Django Channels
        # consumer with json.dumps' default separators (``frames="seed"``).
        space = b" " if frames == "seed" else b""
        self.is_message = b'"msg_type":' + space + b"0"
        self.text_key = b'"message":' + space + b'"'

    def count(self, buffer: bytearray, start: int, end: int) -> None:
        if buffer.find(self.is_message, start, end) >= 0:
            self.received += 1
        elif buffer.startswith(b'{"activity":', start):
            self.activity += 1

    def time(self, buffer: bytearray, start: int, end: int) -> None:
        if buffer.find(self.is_message, start, end) < 0:
            if buffer.startswith(b'{"activity":', start):
                self.activity += 1
            return
        self.received += 1
        text = buffer.find(self.text_key, start, end) + len(self.text_key)
        bar = buffer.find(b"|", buffer.find(b"|", text, end) + 1, end)
        intended = int(buffer[bar + 1 : buffer.find(b'"', bar, end)])
        if intended >= self.measure_from:
            self.latencies.append((time.time_ns() - intended) / 1e6)


async def lean_member(url: str, number: int, room: str, on_text: TextHandler) -> LeanClient:
    """A lean client logged in (with its account's token) and joined to ``room``."""
    replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client = await LeanClient.connect(
        url, lambda buffer, start, end: replies.put_nowait(json.loads(buffer[start:end])))

    async def expect(key: str) -> None:
        while key not in (reply := await replies.get()):
            if "error" in reply:
                raise RuntimeError(f"{key} failed: {reply}")

    client.send_text(json.dumps({"command": "login", "token": f"bench-token-{number}"}))
    await expect("login")
    client.send_text(json.dumps({"command": "join", "room": room}))
    await expect("join")
    client.on_text = on_text
    return client


# One client in this many times its deliveries; the others only count them.
TIMED_EVERY = 4
# Seconds between setting up the schedule and its first send.
LEAD = 0.2


async def fanout(url: str, p: dict[str, Any]) -> dict[str, Any]:
    """``senders`` spread over ``rooms`` send ``rate`` msg/s in all; everyone receives.

    Open loop: each sender sends on a fixed schedule from the start of the
    warm-up to the end of the window, whatever the server does. The window
    (after ``warmup``) is what throughput, CPU and latency are measured over;
    loss is counted over the whole run once the last deliveries have landed.

    ``frames="seed"`` reads the Channels peer's frames; ``announce`` prints
    ``WINDOW start``/``WINDOW end`` as the window opens and closes, for a
    harness that measures the server side itself (bench/cluster.py); without
    ``server_pid`` no server CPU is read here.
    """
    clients, rooms, senders = p["clients"], p["rooms"], p["senders"]
    rate, duration, warmup = p["rate"], p["duration"], p["warmup"]
    tally = Tally(p.get("frames", "compact"))
    server_pid, announce = p.get("server_pid"), bool(p.get("announce"))

    def server_cpu_now() -> float:
        return server_cpu(server_pid) if server_pid else 0.0
    members = [
        functools.partial(lean_member, url, i, str(1 + i % rooms),
                          tally.time if i % TIMED_EVERY == 0 else tally.count)
        for i in range(clients)
    ]
    sockets: list[LeanClient] = await gather_limited(members)
    # The generator's own garbage collector stays out of the window: a full
    # collection over thousands of clients pauses every receive at once, and
    # that pause would be charged to the server's latency. Reference counting
    # frees the per-frame garbage; nothing here makes cycles at that rate.
    gc.collect()
    gc.freeze()
    gc.disable()

    start = time.time_ns() + int(LEAD * 1e9)
    tally.measure_from = start + int(warmup * 1e9)
    end = tally.measure_from + int(duration * 1e9)
    per_sender = rate / senders
    sent = 0

    async def send(index: int) -> None:
        nonlocal sent
        client, room = sockets[index], str(1 + index % rooms)
        if per_sender <= 0:
            return  # rate 0: connected, logged in and joined, silent (what idling costs)
        n = 0
        # Senders are spread evenly over one period, as independent people would be:
        # in step, each round would land as one burst and charge its queueing to latency.
        phase = index / senders
        while (intended := start + int((n + phase) / per_sender * 1e9)) < end:
            delay = (intended - time.time_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            client.send_text(json.dumps({"command": "send", "room": room,
                                         "message": f"{index}|{n}|{intended}"}))
            n += 1
            sent += 1

    async def until(moment_ns: int) -> None:
        await asyncio.sleep(max(0.0, (moment_ns - time.time_ns()) / 1e9))

    async def measure() -> tuple[int, float, float]:
        """Deliveries, server CPU and generator CPU over the window."""
        await until(tally.measure_from)
        if announce:
            print("WINDOW start", flush=True)
        received0, server0, own0 = tally.received, server_cpu_now(), cpu_seconds()
        await until(end)
        if announce:
            print("WINDOW end", flush=True)
        return (tally.received - received0, server_cpu_now() - server0,
                cpu_seconds() - own0)

    measuring = asyncio.create_task(measure())
    await asyncio.gather(*(send(i) for i in range(senders)))
    delivered_in_window, server_cpu_s, own_cpu_s = await measuring
    # Let the last deliveries land (bounded), then count loss over the whole run.
    expected = sent * (clients // rooms)
    deadline = time.monotonic() + 10
    while tally.received < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.gather(*(client.close() for client in sockets))
    offered = rate * (clients // rooms)
    return {
        "sent": sent,
        "expected": expected,
        "delivered": tally.received,
        "loss": max(0.0, 1 - tally.received / expected) if expected else 0.0,
        "offered_deliveries_per_s": offered,
        "deliveries_per_s": delivered_in_window / duration,
        "server_cpu_share": server_cpu_s / duration,
        "deliveries_per_server_cpu_s": delivered_in_window / server_cpu_s
        if server_cpu_s > 0 else float("nan"),
        "p50_ms": percentile(tally.latencies, 0.50),
        "p99_ms": percentile(tally.latencies, 0.99),
        "loadgen_cpu_share": own_cpu_s / duration,
        "activity_frames": tally.activity,
    }


async def idle(url: str, p: dict[str, Any]) -> dict[str, Any]:
    """Connect, log in and join ``clients`` clients, then wait for the harness to measure."""
    compression = bool(p.get("compression"))
    sockets = await gather_limited(
        [functools.partial(open_client, url, f"u{i}", compression=compression)
         for i in range(p["clients"])]
    )
    if compression and sockets[0].protocol.extensions == []:
        raise RuntimeError("the server did not accept permessage-deflate")
    rooms = int(p.get("rooms", 1))  # each client in room 1 + i % rooms
    await gather_limited([functools.partial(join, ws, str(1 + i % rooms))
                          for i, ws in enumerate(sockets)])
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await gather_limited([ws.close for ws in sockets])
    return {"clients": len(sockets)}


async def history(url: str, p: dict[str, Any]) -> dict[str, Any]:
    ws = await open_client(url, "u0")
    total, times = p["total"], []
    rng = random.Random(7)
    for _ in range(p["requests"]):
        before = rng.randint(51, total)
        t0 = time.perf_counter()
        await ws.send(json.dumps({"command": "history", "room": "1", "before": before,
                                  "limit": 50}))
        reply = json.loads(await ws.recv())
        times.append((time.perf_counter() - t0) * 1000)
        assert len(reply["messages"]) == 50, reply.keys()
    await ws.close()
    return {"requests": len(times), "p50_ms": percentile(times, 0.5),
            "p99_ms": percentile(times, 0.99)}


async def catchup(url: str, p: dict[str, Any]) -> dict[str, Any]:
    ws = await open_client(url, "u0")
    total, missed = p["total"], p["missed"]
    t0 = time.perf_counter()
    await ws.send(json.dumps({"command": "join", "room": "1", "since": total - missed}))
    count = 0
    while True:
        frame = json.loads(await ws.recv())
        if "seq" in frame:
            count += 1
            if frame["seq"] == total:
                break
    elapsed = time.perf_counter() - t0
    await ws.close()
    return {"missed": missed, "received": count, "seconds_to_last": elapsed}


async def logins(url: str, p: dict[str, Any]) -> dict[str, Any]:
    """Token logins per second (each on a new connection), then a reconnect storm."""
    first = await open_client(url, "u0")
    tokens = [f"bench-token-{i}" for i in range(p["storm"])]
    count = p["logins"]

    async def one(index: int) -> None:
        ws = await open_client(url, f"u{index}", token=tokens[index % len(tokens)])
        await ws.close()

    t0 = time.perf_counter()
    await gather_limited([functools.partial(one, i) for i in range(count)], limit=50)
    per_second = count / (time.perf_counter() - t0)

    async def reconnect(index: int) -> ClientConnection:
        ws = await open_client(url, f"u{index}", token=tokens[index])
        await join(ws, "1", since=0)
        return ws

    t0 = time.perf_counter()
    storm: list[Callable[[], Awaitable[Any]]] = [
        functools.partial(reconnect, i) for i in range(p["storm"])
    ]
    sockets = await gather_limited(storm, limit=p["storm"])
    storm_seconds = time.perf_counter() - t0
    await gather_limited([ws.close for ws in sockets])
    await first.close()
    return {"token_logins_per_s": per_second, "storm_clients": len(sockets),
            "storm_seconds": storm_seconds}


async def login_timing(url: str, p: dict[str, Any]) -> dict[str, Any]:
    """Failed password logins: an unknown user against a known user's wrong password.

    The two kinds alternate on one connection (so drift in machine load hits both
    alike); each is timed from sending the login to reading its error.
    """
    ws = await connect(url, max_queue=None, open_timeout=60, ping_interval=None)
    times: dict[str, list[float]] = {"unknown_user": [], "wrong_password": []}
    for i in range(p["attempts"]):
        for kind, username in (("unknown_user", f"nobody{i}"), ("wrong_password", "u0")):
            t0 = time.perf_counter()
            await ws.send(json.dumps({"command": "login", "username": username,
                                      "password": f"wrong{i}"}))
            reply = json.loads(await ws.recv())
            times[kind].append((time.perf_counter() - t0) * 1000)
            if reply.get("error") != "LOGIN_FAILED":
                raise RuntimeError(f"expected LOGIN_FAILED, got {reply}")
    await ws.close()
    unknown, wrong = times["unknown_user"], times["wrong_password"]
    return {"attempts_each": p["attempts"],
            "unknown_p50_ms": percentile(unknown, 0.5), "wrong_p50_ms": percentile(wrong, 0.5),
            "unknown_p90_ms": percentile(unknown, 0.9), "wrong_p90_ms": percentile(wrong, 0.9),
            "gap_p50_ms": percentile(unknown, 0.5) - percentile(wrong, 0.5)}


SCENARIOS = {"fanout": fanout, "idle": idle, "history": history, "catchup": catchup,
             "logins": logins, "login_timing": login_timing}


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop where installed (the bench extra): the generator's own loop costs less
    per frame received, so it saturates later than the server it measures. The
    servers keep the standard asyncio loop they ship with."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def main() -> None:
    scenario, url, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        result = runner.run(SCENARIOS[scenario](url, params))
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
