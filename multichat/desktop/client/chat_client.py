"""ChatClient: the app's one connection to a Multichat server, as Qt signals.

It owns the WebSocket on the qasync loop, logs in (password once, then the
token), keeps the wanted rooms joined across reconnects, and turns frames
into signals. Widgets never see a frame; this class never sees a widget.

Exactly once, in order: each room remembers the last ``seq`` it delivered.
A room is first opened with its newest page of history, then joined with
``since`` = the newest seq of that page; every reconnect rejoins with
``since`` = the last seq delivered. Events at or below it are dropped, so
nothing is shown twice and nothing stored is skipped.

Signals:
    stateChanged(str state, str detail): "offline", "connecting", "online" or
        "reconnecting"; ``detail`` says why, in words.
    loggedIn(dict account, str token): after every login (also after a
        reconnect); ``account`` is {"username", "is_staff", "is_superuser"}.
    loginFailed(str words): the server refused the login; the client stops.
    sessionEnded(str words): logged out, or the login was revoked by an admin.
    accountChanged(dict account): an admin changed our flags.
    roomsChanged(list rooms): the rooms we may see, [{"id", "title", "staff_only"}].
    roomJoined(str room, str title) / roomLeft(str room)
    membersChanged(str room, list usernames)
    messageReceived(str room, dict event): a room event, each stored one once.
    historyLoaded(str room, list events): older events, oldest first.
    outboxChanged(str room, list pending): [{"client_id", "message"}] still unconfirmed.
    errorOccurred(str room, str code, str words): a server error, where it
        happened ("" when it concerns no room).
    adminReply(str key, object value): the answer to an admin command.
    adminFailed(str command, str code, str words): an admin command was refused.
    certificateUntrusted(str url, str presented, str pinned): a wss:// server
        showed a certificate that is not the pinned one (``pinned`` is "" on
        first use). The client stops before logging in: no password or token
        crosses; ``trust(presented)`` pins it and connects again.

TLS is trust on first use, as SSH does it: a wss:// server's certificate is
not checked against CAs (a LAN server has none) but against the fingerprint
pinned for it, and nothing is sent before it matches.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from multichat.desktop.client import pinning
from multichat.desktop.client.backoff import Backoff
from multichat.desktop.client.outbox import Outbox
from multichat.desktop.client.pinning import Untrusted
from multichat.desktop.client.words import describe, describe_connection_error
from multichat.protocol import CloseCode, ErrorCode

log = logging.getLogger(__name__)

# A history reply is at most 512 KiB; leave room for a page of long events.
MAX_FRAME_BYTES = 4 * 2**20
OPEN_TIMEOUT = 10.0
INITIAL_HISTORY = 50
# Seconds before a rate-limited message is offered to the server again.
RATE_LIMIT_RETRY = 1.0


class State(enum.StrEnum):
    OFFLINE = "offline"
    CONNECTING = "connecting"
    ONLINE = "online"
    RECONNECTING = "reconnecting"


class _LoginRefused(Exception):
    def __init__(self, words: str, *, retry: bool = False) -> None:
        super().__init__(words)
        self.words = words
        self.retry = retry


@dataclass(slots=True)
class _Room:
    """A room the person wants open, and how far its events have been delivered."""

    title: str = ""
    last_seq: int | None = None  # None until the first history page set it
    joined: bool = False
    members: list[str] = field(default_factory=list)


class ChatClient(QObject):
    stateChanged = Signal(str, str)
    loggedIn = Signal(object, str)
    loginFailed = Signal(str)
    sessionEnded = Signal(str)
    accountChanged = Signal(object)
    roomsChanged = Signal(object)
    roomJoined = Signal(str, str)
    roomLeft = Signal(str)
    membersChanged = Signal(str, object)
    messageReceived = Signal(str, object)
    historyLoaded = Signal(str, object)
    outboxChanged = Signal(str, object)
    errorOccurred = Signal(str, str, str)
    adminReply = Signal(str, object)
    adminFailed = Signal(str, str, str)
    certificateUntrusted = Signal(str, str, str)

    def __init__(self, parent: QObject | None = None, *, backoff: Backoff | None = None) -> None:
        super().__init__(parent)
        self._backoff = backoff or Backoff()
        self.url = ""
        self.username = ""
        self._password: str | None = None
        self.token: str | None = None
        self.pin: str | None = None  # the certificate fingerprint a wss:// server must show
        self.account: dict[str, Any] | None = None
        self.state = State.OFFLINE
        self.rooms: dict[str, _Room] = {}
        self.outbox = Outbox()
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._refs = itertools.count(1)
        self._requests: dict[str, tuple[str, str, str]] = {}  # ref -> (kind, room, extra)
        self._timers: set[asyncio.TimerHandle] = set()

    # -- connecting -----------------------------------------------------------------

    def open(
        self, url: str, username: str, *, password: str | None = None, token: str | None = None,
        pin: str | None = None,
    ) -> None:
        """Connect and log in, then stay connected until ``close()`` or a refusal.

        ``pin``: for wss://, the certificate fingerprint confirmed earlier, if any.
        """
        if self._task is not None and not self._task.done():
            raise RuntimeError("already open; close() first")
        self.url, self.username = url, username
        self._password, self.token, self.pin = password, token, pin
        self._start()

    def trust(self, fingerprint: str) -> None:
        """The person confirmed this certificate: pin it and connect again."""
        if self._task is not None and not self._task.done():
            raise RuntimeError("still connecting; trust() answers certificateUntrusted")
        self.pin = fingerprint
        self._start()

    def _start(self) -> None:
        self._backoff.reset()
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="chat-client")

    def reconnect_now(self) -> None:
        """Skip the remaining back-off wait (the person clicked "retry")."""
        if self._wake is not None:
            self._wake.set()

    async def close(self) -> None:
        """Disconnect for good; the outbox and the wanted rooms are kept."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._set_state(State.OFFLINE, "Disconnected.")

    async def logout(self) -> None:
        """Revoke the token on the server, then disconnect."""
        if self._ws is not None and self.state is State.ONLINE:
            with contextlib.suppress(ConnectionClosed, OSError):
                await self._ws.send(json.dumps({"command": "logout"}))
        self.token = None
        await self.close()
        self.sessionEnded.emit("You logged out.")

    def _set_state(self, state: State, detail: str) -> None:
        self.state = state
        self.stateChanged.emit(state.value, detail)

    async def _run(self) -> None:
        first = True
        while True:
            self._set_state(State.CONNECTING if first else State.RECONNECTING,
                            f"Connecting to {self.url} …")
            try:
                await self._session()
                detail = "The server closed the connection."
            except _LoginRefused as refused:
                if not refused.retry:
                    self._set_state(State.OFFLINE, refused.words)
                    self.loginFailed.emit(refused.words)
                    return
                detail = refused.words
            except Untrusted as untrusted:
                self._set_state(State.OFFLINE, untrusted.words(self.url))
                self.certificateUntrusted.emit(self.url, untrusted.presented,
                                               untrusted.pinned or "")
                return
            except _SessionRevoked:
                self.token = None
                self._set_state(State.OFFLINE, "Your login was revoked by an administrator.")
                self.sessionEnded.emit("Your login was revoked by an administrator.")
                return
            except InvalidURI:
                words = f"{self.url!r} is not a server address (ws://host:port)."
                self._set_state(State.OFFLINE, words)
                self.loginFailed.emit(words)
                return
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as exc:
                detail = describe_connection_error(exc)
            finally:
                self._ws = None
                self._mark_rooms_left()
            first = False
            delay = self._backoff.next_delay()
            self._set_state(State.RECONNECTING, f"{detail} Retrying in {delay:.0f} s.")
            assert self._wake is not None
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _session(self) -> None:
        secure = self.url.lower().startswith("wss://")
        async with connect(
            self.url,
            open_timeout=OPEN_TIMEOUT,
            max_size=MAX_FRAME_BYTES,
            compression=None,
            max_queue=None,
            ssl=pinning.client_context() if secure else None,
        ) as ws:
            self._ws = ws
            if secure:  # before a single byte of ours: no login to an unconfirmed server
                pinning.check(self.pin, pinning.presented(ws))
            await self._login(ws)
            self._backoff.reset()
            self._set_state(State.ONLINE, f"Connected to {self.url}.")
            self._request("rooms", "", "")
            for room in list(self.rooms):
                self._open_room(room)
            try:
                async for frame in ws:
                    self._dispatch(frame)
            except ConnectionClosed:
                pass
            received = ws.protocol.close_rcvd
            if received is not None and received.code == CloseCode.SESSION_REVOKED:
                raise _SessionRevoked
            if received is not None and received.code != CloseCode.GOING_AWAY:
                log.info("server closed the connection: %s %s", received.code, received.reason)

    async def _login(self, ws: ClientConnection) -> None:
        attempts: list[dict[str, Any]] = []
        if self.token:
            attempts.append({"command": "login", "token": self.token})
        if self._password is not None:
            attempts.append(
                {"command": "login", "username": self.username, "password": self._password}
            )
        if not attempts:
            raise _LoginRefused("Enter your password to log in.")
        words = ""
        for attempt in attempts:
            await ws.send(json.dumps(attempt))
            reply = json.loads(await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT))
            if "login" in reply:
                self.account = {k: v for k, v in reply["login"].items() if k != "token"}
                self.token = reply["login"]["token"]
                self.username = self.account["username"]
                self._password = None  # from now on the token alone
                self.loggedIn.emit(self.account, self.token)
                return
            code = reply.get("error", "")
            words = describe(code, reply.get("detail"))
            if code == ErrorCode.RATE_LIMITED:
                break
        if "token" in attempts[0] and len(attempts) == 1:
            words = "Your saved login has expired; enter your password."
        raise _LoginRefused(words)

    # -- what the person does ----------------------------------------------------------

    def join(self, room: str) -> None:
        """Open a room, now and after every reconnect, until ``leave``."""
        room = str(room)
        if room not in self.rooms:
            self.rooms[room] = _Room()
        if self.state is State.ONLINE:
            self._open_room(room)

    def leave(self, room: str) -> None:
        room = str(room)
        self.rooms.pop(room, None)
        if self.outbox.drop_room(room):
            self.outboxChanged.emit(room, [])
        if self.state is State.ONLINE:
            self._request("leave", room, "", room=_room_id(room))
        self.roomLeft.emit(room)

    def send(self, room: str, text: str) -> str:
        """Queue a message; it goes out now if online, else after the reconnect."""
        room = str(room)
        message = self.outbox.add(room, text)
        self.outboxChanged.emit(room, [m.as_dict() for m in self.outbox.for_room(room)])
        info = self.rooms.get(room)
        if self.state is State.ONLINE and info is not None and info.joined:
            self._send_pending(message.client_id)
        return message.client_id

    def request_history(self, room: str, before: int | None, limit: int = INITIAL_HISTORY) -> None:
        fields: dict[str, Any] = {"room": _room_id(room), "limit": limit}
        if before is not None:
            fields["before"] = before
        self._request("history", str(room), "older", **fields)

    def refresh_rooms(self) -> None:
        self._request("rooms", "", "")

    def admin(self, command: str, **fields: Any) -> None:
        """An admin command; its answer comes as ``adminReply`` or ``errorOccurred``."""
        room = str(fields.get("room", ""))
        if "room" in fields:
            fields["room"] = _room_id(fields["room"])
        self._request(command, room, "admin", **fields)

    # -- frames out ---------------------------------------------------------------------

    def _request(self, command: str, where: str, extra: str, **fields: Any) -> str | None:
        """Send a command with a fresh ``ref``, remembering which room and purpose it serves."""
        ws = self._ws
        if ws is None:
            return None
        ref = f"{command}:{next(self._refs)}"
        self._requests[ref] = (command, where, extra)
        self._write(ws, {"command": command, **fields, "ref": ref})
        return ref

    def _write(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        task = loop.create_task(ws.send(json.dumps(frame)))
        task.add_done_callback(_ignore_closed)

    def _open_room(self, room: str) -> None:
        info = self.rooms[room]
        if info.last_seq is None:
            # The newest page first; the join then continues right after it.
            self._request("history", room, "initial", room=_room_id(room), limit=INITIAL_HISTORY)
        else:
            self._request("join", room, "", room=_room_id(room), since=info.last_seq)

    def _send_pending(self, client_id: str) -> None:
        message = self.outbox.get(client_id)
        if message is None:
            return
        self._request("send", message.room, client_id, room=_room_id(message.room),
                      message=message.text, client_id=client_id)

    def _retry_later(self, client_id: str) -> None:
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle

        def fire() -> None:
            self._timers.discard(timer)
            message = self.outbox.get(client_id)
            info = self.rooms.get(message.room) if message else None
            if self.state is State.ONLINE and info is not None and info.joined:
                self._send_pending(client_id)

        timer = loop.call_later(RATE_LIMIT_RETRY, fire)
        self._timers.add(timer)

    # -- frames in ------------------------------------------------------------------------

    def _dispatch(self, raw: str | bytes) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            log.warning("ignoring a frame that is not JSON")
            return
        if not isinstance(frame, dict):
            return
        request = self._requests.pop(frame["ref"], None) if "ref" in frame else None
        if "error" in frame:
            self._on_error(frame, request)
        elif "room" in frame and "msg_type" in frame:
            self._on_event(str(frame["room"]), frame)
        elif "history" in frame:
            self._on_history(str(frame["history"]), frame.get("messages", []), request)
        elif "join" in frame:
            self._on_joined(str(frame["join"]), str(frame.get("title", "")))
        elif "members" in frame:
            room = self.rooms.get(str(frame["members"]))
            if room is not None:
                room.members = sorted(frame.get("users", []))
                self.membersChanged.emit(str(frame["members"]), list(room.members))
        elif "leave" in frame:
            self._on_left(str(frame["leave"]), requested=request is not None)
        elif "rooms" in frame:
            self.roomsChanged.emit(frame["rooms"])
        elif "account" in frame:
            self.account = frame["account"]
            self.accountChanged.emit(frame["account"])
        elif request is not None and request[2] == "admin":
            key = next(k for k in frame if k != "ref")
            self.adminReply.emit(key, frame[key])

    def _on_event(self, room: str, event: dict[str, Any]) -> None:
        info = self.rooms.get(room)
        if info is None:
            return
        seq = event.get("seq")
        if seq is not None:
            client_id = event.get("client_id")
            if client_id and self.outbox.remove(client_id) is not None:
                # Confirmed stored, also when this is the answer to a resend.
                self.outboxChanged.emit(
                    room, [m.as_dict() for m in self.outbox.for_room(room)]
                )
            if info.last_seq is not None and seq <= info.last_seq:
                return  # delivered already (a catch-up overlapping a live event)
            info.last_seq = seq
        else:
            self._track_presence(room, info, event)
        self.messageReceived.emit(room, event)

    def _track_presence(self, room: str, info: _Room, event: dict[str, Any]) -> None:
        name = event.get("username", "")
        if event.get("msg_type") == 4 and name not in info.members:
            info.members = sorted([*info.members, name])
        elif event.get("msg_type") == 5 and name in info.members:
            info.members = [m for m in info.members if m != name]
        else:
            return
        self.membersChanged.emit(room, list(info.members))

    def _on_history(
        self, room: str, events: list[dict[str, Any]], request: tuple[str, str, str] | None
    ) -> None:
        info = self.rooms.get(room)
        initial = request is not None and request[2] == "initial"
        if initial and info is not None:
            info.last_seq = max((e["seq"] for e in events if "seq" in e), default=0)
            self.historyLoaded.emit(room, events)
            self._request("join", room, "", room=_room_id(room), since=info.last_seq)
        elif not initial:
            self.historyLoaded.emit(room, events)

    def _on_joined(self, room: str, title: str) -> None:
        info = self.rooms.get(room)
        if info is None:
            return
        info.title, info.joined = title, True
        self.roomJoined.emit(room, title)
        for message in self.outbox.for_room(room):
            self._send_pending(message.client_id)

    def _on_left(self, room: str, *, requested: bool) -> None:
        if requested:
            return  # our own leave: roomLeft was emitted when it was asked for
        if self.rooms.pop(room, None) is not None:
            self.errorOccurred.emit(room, "ROOM_REMOVED",
                                    "You were removed from this room: it was deleted or "
                                    "made staff-only.")
            if self.outbox.drop_room(room):
                self.outboxChanged.emit(room, [])
            self.roomLeft.emit(room)

    def _on_error(self, frame: dict[str, Any], request: tuple[str, str, str] | None) -> None:
        code = str(frame.get("error", ""))
        detail = frame.get("detail")
        command, room, extra = request or ("", "", "")
        if extra == "admin":
            self.adminFailed.emit(command, code, describe(code, detail, command=command))
            return
        if command == "send":
            if code == ErrorCode.RATE_LIMITED:
                self._retry_later(extra)
                return
            if self.outbox.remove(extra) is not None:
                self.outboxChanged.emit(room, [m.as_dict() for m in self.outbox.for_room(room)])
        self.errorOccurred.emit(room, code, describe(code, detail, command=command))
        if command in ("join", "history") and extra != "older" and room in self.rooms:
            # The room cannot be opened: stop trying at every reconnect.
            del self.rooms[room]
            self.roomLeft.emit(room)

    def _mark_rooms_left(self) -> None:
        for info in self.rooms.values():
            info.joined = False


class _SessionRevoked(Exception):
    pass


def _room_id(room: str | int) -> int | str:
    text = str(room)
    return int(text) if text.isdigit() else text


def _ignore_closed(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        exc = task.exception()
        if not isinstance(exc, ConnectionClosed | OSError):
            log.error("sending a frame failed", exc_info=exc)
