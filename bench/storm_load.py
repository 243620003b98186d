"""The connection storm's processes: a share of the returning clients, or the ping probe.

    python -m bench.storm_load clients URL JSON_PARAMS
    python -m bench.storm_load probe URL JSON_PARAMS

Both print ``READY`` once set up and read their cue from stdin (bench/storm.py
drives them). A ``clients`` process waits for ``GO <wall-clock ns>``, then
opens all its connections at that instant, each from its own ``source``
address of 127.0.0.0/8: each logs in by token, joins its room with ``since``
and is *in* when the last stored event of its catch-up has arrived. A
``probe`` (connected and logged in before the storm) sends a ``ping`` every
``interval`` seconds on a fixed schedule, whatever the server answers, until
``STOP``: a stalled server is charged for every ping it made wait, not only
for the first. Each prints one ``RESULT {json}`` line.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench.load import cpu_seconds, loop_factory
from bench.wire import LeanClient

# Seconds one client may take from its connect to its last catch-up event: far past
# the 15 s the storm is held to, so that a slow client is measured, not dropped.
CLIENT_TIMEOUT = 60.0


def source_address(index: int) -> str:
    """The ``index``-th client source address: 127.1.0.1, ..., 127.1.0.250, 127.1.1.1, ...

    All of 127.0.0.0/8 is this machine's (Linux answers on every address of it
    without configuration), and each address has its own ephemeral ports.
    """
    return f"127.1.{index // 250}.{index % 250 + 1}"


def raise_fd_limit() -> tuple[int, int]:
    """The soft limit of open files raised to the hard one; (soft, hard) as they are now."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


class Returning:
    """One returning client: token login, join with ``since``, catch-up to ``last``."""

    def __init__(self, number: int, room: str, since: int, last: int) -> None:
        self.number, self.room, self.since, self.last = number, room, since, last
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.client: LeanClient | None = None
        self.caught_up = 0
        self.later_frames = 0  # after its catch-up: others' ENTER notices

    def on_text(self, buffer: bytearray, start: int, end: int) -> None:
        if self.done.done():
            self.later_frames += 1
            return
        frame = json.loads(buffer[start:end])
        if "error" in frame:
            self.done.set_exception(RuntimeError(f"{frame['error']}: {frame.get('detail')}"))
        elif "login" in frame and self.client is not None:
            # Logged in: rejoin the room, from the last event seen, as the app does.
            self.client.send_text(json.dumps({"command": "join", "room": self.room,
                                              "since": self.since}))
        elif "seq" in frame and frame.get("room") == self.room:
            self.caught_up += 1
            if frame["seq"] >= self.last:
                self.done.set_result(None)

    async def run(self, url: str, source: str | None) -> LeanClient:
        self.client = await LeanClient.connect(url, self.on_text, source)
        self.client.send_text(json.dumps({"command": "login",
                                          "token": f"bench-token-{self.number}"}))
        await self.done
        return self.client


async def clients(url: str, p: dict[str, Any]) -> dict[str, Any]:
    """Clients ``first`` .. ``first + count - 1``, all at once, ``per_address`` of them
    from each source address (0: all from the system's choice, 127.0.0.1)."""
    first, count, rooms = p["first"], p["count"], p["rooms"]
    last, per_address = p["last_seq"], p["per_address"]
    people = [Returning(n, str(1 + n % rooms), last - (1 + n % p["missed"]), last)
              for n in range(first, first + count)]
    print("READY", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    go = int(line.split()[1])
    await asyncio.sleep(max(0.0, (go - time.time_ns()) / 1e9))
    cpu0 = cpu_seconds()
    in_at: list[float] = []
    failures: dict[str, int] = {}
    sockets: list[LeanClient] = []

    async def one(person: Returning) -> None:
        try:
            source = source_address(person.number // per_address) if per_address else None
            client = await asyncio.wait_for(person.run(url, source), CLIENT_TIMEOUT)
        except Exception as exc:  # every failure is counted, by kind
            if person.client is not None and person.client.transport is not None:
                person.client.transport.abort()
            reason = f"{type(exc).__name__}: {exc}"[:120]
            failures[reason] = failures.get(reason, 0) + 1
            return
        in_at.append((time.time_ns() - go) / 1e9)
        sockets.append(client)

    await asyncio.gather(*(one(person) for person in people))
    own_cpu = cpu_seconds() - cpu0
    print("IN", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    later = sum(person.later_frames for person in people)
    await asyncio.gather(*(client.close() for client in sockets))
    return {"in_s": in_at, "failures": failures, "cpu_s": own_cpu,
            "caught_up_events": sum(person.caught_up for person in people),
            "frames_after_in": later}


async def probe(url: str, p: dict[str, Any]) -> dict[str, Any]:
    """Pings on a fixed schedule from before the storm until STOP: [sent ns, RTT ms]."""
    interval = p["interval"]
    sent: dict[str, int] = {}
    rtts: list[tuple[int, float]] = []
    logged_in = asyncio.get_running_loop().create_future()

    def on_text(buffer: bytearray, start: int, end: int) -> None:
        frame = json.loads(buffer[start:end])
        if "pong" in frame:
            at = sent.pop(frame["ref"])
            rtts.append((at, (time.time_ns() - at) / 1e6))
        elif "login" in frame and not logged_in.done():
            logged_in.set_result(None)

    client = await LeanClient.connect(url, on_text)
    client.send_text(json.dumps({"command": "login", "token": f"bench-token-{p['number']}"}))
    await logged_in
    loop = asyncio.get_running_loop()
    stop = asyncio.ensure_future(loop.run_in_executor(None, sys.stdin.readline))
    print("READY", flush=True)
    start, n = time.time_ns(), 0
    while not stop.done():
        at = start + int(n * interval * 1e9)
        delay = (at - time.time_ns()) / 1e9
        if delay > 0:
            await asyncio.wait({stop}, timeout=delay)
            continue
        sent[str(n)] = at  # charged from when it was due, not when it went
        client.send_text(json.dumps({"command": "ping", "ref": str(n)}))
        n += 1
    await asyncio.sleep(1.0)  # the last pongs
    await client.close()
    return {"pings": rtts, "unanswered": sorted(sent.values())}


def main() -> None:
    role, url, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    raise_fd_limit()
    if role == "clients":
        # The clients yield the load core to the probe, whose timing matters more.
        os.nice(10)
    scenario = {"clients": clients, "probe": probe}[role]
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        result = runner.run(scenario(url, params))
    # To a file: a RESULT line of 10,000 timings would not fit through a pipe at once.
    Path(params["out"]).write_text(json.dumps(result))
    print("RESULT", flush=True)


if __name__ == "__main__":
    main()
