"""The seed's chat consumer (the Django Channels "multichat" example), for the benchmark.

Join, leave and send as the seed has them: each join and each send looks the
room up in the database (``get_room_or_error``, in Channels' database
thread), a join adds the connection's channel to the room's group, a send is
one ``group_send`` over channels_redis, and every member's consumer turns the
group event into the seed's frame ``{"msg_type": 0, "room", "username",
"message"}``. Enter/leave notices are off, as in the seed's default settings.

One change for the benchmark: the seed logs in with a Django session (a page
login before the socket opens). Here the socket's first frame is Multichat's
``{"command": "login", "token": "bench-token-N"}``, answered with the user
``uN`` without a database lookup. Logins happen before the measured window,
so this changes none of the figures, and it lets the same load generator
drive both servers.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from bench.channels_peer.models import Room

TOKEN_PREFIX = "bench-token-"


class ClientError(Exception):
    """An error the client is told about: ``{"error": code}``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@database_sync_to_async
def get_room_or_error(room_id: Any, username: str | None) -> Room:
    """The room, or the seed's error codes."""
    if username is None:
        raise ClientError("USER_HAS_TO_LOGIN")
    try:
        room = Room.objects.get(pk=room_id)
    except (Room.DoesNotExist, ValueError):
        raise ClientError("ROOM_INVALID") from None
    if room.staff_only:
        raise ClientError("ROOM_ACCESS_DENIED")
    return room


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.username: str | None = None
        self.rooms: set[str] = set()
        await self.accept()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        command = content.get("command") if isinstance(content, dict) else None
        try:
            if command == "login":
                await self.login(str(content.get("token", "")))
            elif command == "join":
                await self.join_room(str(content["room"]))
            elif command == "leave":
                await self.leave_room(str(content["room"]))
            elif command == "send":
                await self.send_room(str(content["room"]), content["message"])
        except ClientError as error:
            await self.send_json({"error": error.code})

    async def disconnect(self, code: int) -> None:
        """Out of every room's group (the seed leaves each room; the socket is gone, so
        without the ``leave`` frame)."""
        for room_id in self.rooms:
            await self.channel_layer.group_discard(f"room-{room_id}", self.channel_name)

    async def login(self, token: str) -> None:
        if not token.startswith(TOKEN_PREFIX):
            raise ClientError("LOGIN_FAILED")
        self.username = "u" + token.removeprefix(TOKEN_PREFIX)
        await self.send_json({"login": {"username": self.username, "is_staff": False,
                                        "is_superuser": False}})

    async def join_room(self, room_id: str) -> None:
        room = await get_room_or_error(room_id, self.username)
        self.rooms.add(room_id)
        await self.channel_layer.group_add(room.group_name, self.channel_name)
        await self.send_json({"join": str(room.id), "title": room.title})

    async def leave_room(self, room_id: str) -> None:
        room = await get_room_or_error(room_id, self.username)
        self.rooms.discard(room_id)
        await self.channel_layer.group_discard(room.group_name, self.channel_name)
        await self.send_json({"leave": str(room.id)})

    async def send_room(self, room_id: str, message: Any) -> None:
        if room_id not in self.rooms:
            raise ClientError("ROOM_ACCESS_DENIED")
        room = await get_room_or_error(room_id, self.username)
        await self.channel_layer.group_send(room.group_name, {
            "type": "chat.message", "room_id": room_id, "username": self.username,
            "message": message})

    async def chat_message(self, event: dict[str, Any]) -> None:
        """A group event: one frame to this member."""
        await self.send_json({"msg_type": settings.MSG_TYPE_MESSAGE, "room": event["room_id"],
                              "username": event["username"], "message": event["message"]})
