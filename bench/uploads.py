"""What a 25 MiB upload costs everyone else: fan-out latency with and without one.

A ``multichat serve`` process on SQLite (pinned to CPU 0, as ``python -m bench``
pins it) has one room with ``RECEIVERS`` members and one sender posting
``RATE`` messages a second on a fixed schedule (open loop: each message carries
the time it was meant to be sent, so a stall is charged in full). Latency is
from then to each member's receipt. Windows alternate, ``--rounds`` times: one
quiet, one while another user, in a process of its own, uploads a 25 MiB file
over the WebSocket as fast as the server takes it (``--back-to-back``: one
after another for the whole window, a harsher test). The p99 with the upload
minus the p99 of the quiet window beside it is what an upload costs the
others; the quiet windows' spread shows the machine's own noise.

    .venv/bin/python -m bench.uploads [--seconds 10] [--rounds 2] [--back-to-back]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench.__main__ import LOAD_CPU, pinned, seed, server

RECEIVERS = 50
RATE = 50  # messages a second, each delivered to every receiver
FILE_BYTES = 25 * 2**20
SETTINGS = {"MULTICHAT_MAX_UPLOAD_BYTES_PER_DAY": str(2**40)}


async def _login(url: str, user: int) -> ClientConnection:
    ws = await connect(url, max_size=None, max_queue=None)
    await ws.send(json.dumps({"command": "login", "token": f"bench-token-{user}"}))
    while "login" not in json.loads(await ws.recv()):
        pass
    return ws


async def _join(ws: ClientConnection) -> None:
    await ws.send(json.dumps({"command": "join", "room": 1}))
    while "members" not in json.loads(await ws.recv()):
        pass


async def _receive(ws: ClientConnection, latencies: list[float], until: float) -> None:
    while time.time() < until + 2:
        try:
            raw = await asyncio.wait_for(ws.recv(), timeout=max(0.1, until + 2 - time.time()))
        except TimeoutError:
            return
        frame = json.loads(raw)
        text = frame.get("message")
        if frame.get("msg_type") == 0 and isinstance(text, str) and text.startswith("t="):
            latencies.append(time.time() - float(text[2:]))


async def _window(url: str, seconds: float) -> list[float]:
    """One measured window: the receivers' latencies, in seconds."""
    receivers = [await _login(url, n) for n in range(1, RECEIVERS + 1)]
    for ws in receivers:
        await _join(ws)
    sender = await _login(url, 0)
    await _join(sender)
    latencies: list[float] = []
    start = time.time() + 0.5
    until = start + seconds
    readers = [asyncio.create_task(_receive(ws, latencies, until)) for ws in receivers]
    drain = asyncio.create_task(_receive(sender, [], until))
    count = int(seconds * RATE)
    for n in range(count):
        due = start + n / RATE
        await asyncio.sleep(max(0.0, due - time.time()))
        await sender.send(json.dumps({"command": "send", "room": 1, "message": f"t={due}"}))
    await asyncio.gather(*readers, drain)
    for ws in (*receivers, sender):
        await ws.close()
    return latencies


def _upload_forever(url: str, user: int, stop: Any, counters: tuple[Any, Any],
                    once: bool) -> None:
    """In a process of its own: 25 MiB uploads, one after another, until ``stop`` (or
    just one, ``once``)."""
    setup = pinned(LOAD_CPU)
    if setup:
        setup()
    done, took = counters

    async def run() -> None:
        ws = await _login(url, user)
        data = os.urandom(FILE_BYTES)
        while not stop.is_set():
            began = time.monotonic()
            await ws.send(json.dumps({"command": "upload", "name": "big.bin",
                                      "size": FILE_BYTES}))
            reply = json.loads(await ws.recv())
            chunk = reply["upload"]["chunk"]
            for first in range(0, FILE_BYTES, chunk):
                await ws.send(data[first : first + chunk])
            while "file" not in (frame := json.loads(await ws.recv())):
                if "error" in frame:
                    raise RuntimeError(frame)
            with done.get_lock():
                done.value += 1
                took.value += time.monotonic() - began
            if once:
                break
        await ws.close()

    asyncio.run(run())


def _summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"deliveries": len(ordered),
            "p50_ms": round(1000 * statistics.median(ordered), 2),
            "p99_ms": round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 2),
            "max_ms": round(1000 * ordered[-1], 2)}


def _uploading_window(url: str, seconds: float,
                      back_to_back: bool) -> tuple[list[float], int, float]:
    """A window while 25 MiB go up; its latencies, the uploads done, seconds each."""
    stop, done = multiprocessing.Event(), multiprocessing.Value("i", 0)
    took = multiprocessing.Value("d", 0.0)
    uploader = multiprocessing.Process(
        target=_upload_forever, args=(url, RECEIVERS + 1, stop, (done, took), not back_to_back))
    uploader.start()
    time.sleep(0.3)  # logged in, its first chunks going, as the window opens
    busy = asyncio.run(_window(url, seconds))
    stop.set()
    uploader.join(120)
    return busy, int(done.value), float(took.value) / max(1, int(done.value))


def run(seconds: float, rounds: int, back_to_back: bool) -> dict[str, Any]:
    setup = pinned(LOAD_CPU)
    if setup:
        setup()
    rows = []
    with tempfile.TemporaryDirectory(prefix="mc-bench-uploads-") as work:
        data = Path(work) / "data"
        seed(data, RECEIVERS + 2, rooms=1)
        with server("multichat", data, settings=SETTINGS) as process:
            url = f"ws://127.0.0.1:{process.port}/"  # type: ignore[attr-defined]
            asyncio.run(_window(url, min(seconds, 3.0)))  # warm-up, not counted
            for _ in range(rounds):
                quiet = _summary(asyncio.run(_window(url, seconds)))
                busy, uploads, each = _uploading_window(url, seconds, back_to_back)
                uploading = _summary(busy)
                rows.append({"quiet": quiet, "uploading": uploading, "uploads": uploads,
                             "seconds_per_upload": round(each, 2),
                             "p99_added_ms": round(uploading["p99_ms"] - quiet["p99_ms"], 2)})
    return {"seconds": seconds, "receivers": RECEIVERS, "rate": RATE,
            "upload_bytes": FILE_BYTES, "back_to_back": back_to_back, "rounds": rows,
            "load_average": os.getloadavg()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="each window's length")
    parser.add_argument("--rounds", type=int, default=2, help="quiet/uploading pairs")
    parser.add_argument("--back-to-back", action="store_true",
                        help="upload 25 MiB files one after another all window long")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    result = run(args.seconds, args.rounds, args.back_to_back)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
