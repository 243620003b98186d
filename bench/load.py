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
import json
import os
import random
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

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


async def open_client(url: str, username: str, *, token: str | None = None) -> ClientConnection:
    """Connect and log in with the account's saved login (a token, as returning clients do)."""
    ws = await connect(url, max_queue=None, compression=None, open_timeout=60,
                       max_size=2**24, ping_interval=None)
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


async def gather_limited(factories: list[Callable[[], Awaitable[Any]]],
                         limit: int = CONNECT_CONCURRENCY) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def run(factory: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await factory()

    return await asyncio.gather(*(run(f) for f in factories))


async def fanout(url: str, p: dict[str, Any]) -> dict[str, Any]:
    """``senders`` spread over ``rooms`` send ``rate`` msg/s in all; everyone receives."""
    clients, rooms, senders = p["clients"], p["rooms"], p["senders"]
    rate, duration, warmup = p["rate"], p["duration"], p["warmup"]
    sockets = await gather_limited(
        [functools.partial(open_client, url, f"u{i}") for i in range(clients)]
    )
    await gather_limited([functools.partial(join, sockets[i], str(1 + i % rooms))
                          for i in range(clients)])
    latencies: list[float] = []
    received = 0
    start = time.time_ns()
    measure_from = start + int(warmup * 1e9)
    end = measure_from + int(duration * 1e9)

    async def receive(ws: ClientConnection) -> None:
        nonlocal received
        async for raw in ws:
            # No JSON parse per delivery: the generator must stay cheaper than the server.
            if '"msg_type":0' not in raw:
                continue
            text = str(raw)
            bar = text.find("|", text.find("|", text.find('"message":"')) + 1)
            intended = int(text[bar + 1 : text.find('"', bar)])
            received += 1
            if intended >= measure_from:
                latencies.append((time.time_ns() - intended) / 1e6)

    per_sender = rate / senders
    sent = 0

    async def send(index: int) -> None:
        nonlocal sent
        ws, room = sockets[index], str(1 + index % rooms)
        n = 0
        while True:
            intended = start + int(n / per_sender * 1e9) + index * 1_000
            if intended >= end:
                return
            delay = (intended - time.time_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            await ws.send(json.dumps({"command": "send", "room": room,
                                      "message": f"{index}|{n}|{intended}"}))
            n += 1
            sent += 1

    readers = [asyncio.create_task(receive(ws)) for ws in sockets]
    cpu0, wall0 = cpu_seconds(), time.monotonic()
    server0 = server_cpu(p["server_pid"])
    received_at_start = 0
    await asyncio.sleep(warmup)
    received_at_start = received
    server_measured0 = server_cpu(p["server_pid"])
    await asyncio.gather(*(send(i) for i in range(senders)))
    window = duration
    received_in_window = received - received_at_start
    server_measured = server_cpu(p["server_pid"]) - server_measured0
    # Let the last deliveries land (bounded), then count loss over the whole run.
    members = clients // rooms
    expected = sent * members
    deadline = time.monotonic() + 5
    while received < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    await gather_limited([ws.close for ws in sockets])
    return {
        "sent": sent,
        "expected": expected,
        "delivered": received,
        "loss": max(0.0, 1 - received / expected) if expected else 0.0,
        "deliveries_per_s": received_in_window / window,
        "server_cpu_s": server_measured,
        "server_cpu_total_s": server_cpu(p["server_pid"]) - server0,
        "deliveries_per_server_cpu_s": received_in_window / server_measured
        if server_measured > 0 else float("nan"),
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "loadgen_cpu_share": (cpu_seconds() - cpu0) / (time.monotonic() - wall0),
    }


async def idle(url: str, p: dict[str, Any]) -> dict[str, Any]:
    """Connect, log in and join ``clients`` clients, then wait for the harness to measure."""
    sockets = await gather_limited(
        [functools.partial(open_client, url, f"u{i}") for i in range(p["clients"])]
    )
    await gather_limited([functools.partial(join, ws, "1") for ws in sockets])
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


SCENARIOS = {"fanout": fanout, "idle": idle, "history": history, "catchup": catchup,
             "logins": logins}


def main() -> None:
    scenario, url, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    result = asyncio.run(SCENARIOS[scenario](url, params))
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
