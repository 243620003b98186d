"""The Python ceiling: a bare websockets broadcast server speaking the same frames.

    python -m bench.ceiling PORT

No accounts, no storage, no limits: ``login`` is answered at once, ``join``
adds the connection to a room, ``send`` encodes the seed's room event once and
hands it to every member with ``websockets.broadcast``. Whatever Multichat
does on top of this is what its figures are compared against.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys

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
        print(f"listening on 127.0.0.1:{port}", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
