"""The Python ceiling: a bare websockets broadcast server speaking the same frames.

    python -m bench.ceiling PORT [--loop asyncio|uvloop]

The loop is the standard asyncio one unless ``--loop uvloop`` (or
``BENCH_CEILING_LOOP=uvloop`` in the environment, which ``python -m bench``
passes on) says otherwise: Multichat's ``serve`` runs on uvloop where it can,
so a fair comparison shows the ceiling on both.

No accounts, no storage, no limits: ``login`` is answered at once, ``join``
adds the connection to a room, ``send`` encodes the seed's room event once and
hands it to every member with ``websockets.broadcast``. Whatever Multichat
does on top of this is what its figures are compared against.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal

from websockets.asyncio.server import ServerConnection, broadcast, serve

rooms: dict[str, set[ServerConnection]] = {}


async def handle(connection: ServerConnection) -> None:
    joined: set[str] = set()
    name = "anonymous"
    try:
        async for frame in connection:
            command = json.loads(frame)
            kind = command.get("command")
            if kind == "login":
                name = command.get("username", "token-user")
                await connection.send(json.dumps({"login": {
                    "username": name, "is_staff": False, "is_superuser": False,
                    "token": "ceiling"}}))
            elif kind == "join":
                room = str(command["room"])
                rooms.setdefault(room, set()).add(connection)
                joined.add(room)
                await connection.send(json.dumps({"join": room, "title": room}))
            elif kind == "send":
                room = str(command["room"])
                event = json.dumps({"room": room, "message": command["message"],
                                    "username": name, "msg_type": 0},
                                   separators=(",", ":"))
                broadcast(rooms.get(room, ()), event)
    finally:
        for room in joined:
            rooms[room].discard(connection)


async def main(port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with serve(handle, "127.0.0.1", port, compression=None, max_queue=None):
        print(f"listening on 127.0.0.1:{port} (loop: {type(loop).__module__})", flush=True)
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling")
    parser.add_argument("port", type=int)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"),
                        default=os.environ.get("BENCH_CEILING_LOOP", "asyncio"))
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main(args.port))
    else:
        asyncio.run(main(args.port))
