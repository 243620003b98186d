"""ChatClient: the app's one connection to a Multichat server, as Qt signals.

It owns the WebSocket on the qasync loop, logs in (password once, then the
token), keeps the wanted rooms joined across reconnects, and turns frames
into signals. Widgets never see a frame; this class never sees a widget.

Room ids are ints in frames and commands and str in these signals and in
``rooms``: converted once, where a command is built and where a frame is read.

Exactly once, in order: each room remembers the last ``seq`` it delivered.
A room is first opened with its newest page of history, then joined with
``since`` = the newest seq of that page; every reconnect rejoins with
``since`` = the last seq delivered. Events at or below it are dropped, so
nothing is shown twice and nothing stored is skipped.

Signals:
    stateChanged(str state, str detail): "offline", "connecting", "online" or
        "reconnecting"; ``detail`` says why, in words. While waiting to reconnect
        it is emitted every second with the seconds left ("Retrying in 3 s.").
    loggedIn(UserInfo account, str token): after every login (also after a
        reconnect).
    loginFailed(str words): the server refused the login; the client stops.
    connectFailed(str words): the first connection of an ``open()`` failed (no
        answer, refused, TLS, DNS); the client stops. Only a session that once
        worked is worth reconnecting to in the background: a wrong address is
        not, the person fixes it on the form.
    sessionEnded(str words): logged out, or the login was revoked by an admin.
    accountChanged(UserInfo account): an admin changed our flags.
    roomsChanged(list[RoomInfo] rooms): the rooms we may see.
    roomJoined(str room, str title) / roomLeft(str room)
    roomRemoved(str room, str words): the server took the room away unasked
        (deleted, or made staff-only); roomLeft follows.
    membersChanged(str room, list usernames)
    messageReceived(str room, RoomEvent event): a room event, each stored one once:
        messages, announcements, ENTER/LEAVE, and the EDIT, DELETE and REACTION
        events (msg_type 6 to 8, with ``target``) that change an earlier message.
    historyLoaded(str room, list[RoomEvent] events): a page of events, oldest first.
    aroundLoaded(str room, list[RoomEvent] events): a ``history around`` page (a jump
        to a message not loaded), oldest first.
    outboxChanged(str room, list pending): [{"client_id", "message", "files"?}], the
        messages still unconfirmed (pending edits, deletions and reactions are not
        listed); "files": the message's uploads, as ``Upload.as_dict`` gives them.
    uploadProgress(str room, str key, int sent, int size): bytes of an upload handed to
        the socket so far (``uploads.py``); ``sent == size`` once all are.
    typingReceived(str room, str username): another member is typing there now.
    readMarked(str room, int seq, object unread): this user read the room up to ``seq``
        on another connection (another device); ``unread`` (int, or None from an older
        server): the messages left after it.
    activityReceived(str room, int seq, str username, bool mention, int count): new
        stored events (``count`` messages) in a room this connection may see but has
        not joined.
    dmOpened(RoomInfo room): the direct conversation ``open_dm`` asked for.
    errorOccurred(str room, str code, str words): a server error, where it
        happened ("" when it concerns no room). A refused ``typing`` or ``read`` is
        logged, not signalled: nothing a person could do about it.
    sendRefused(str room, str text): the server refused a message for good (too
        long, say) and it left the outbox: its text, for the window to give back to
        the person rather than lose it. Comes after its ``errorOccurred``.
    editRefused(str room, int seq, str text): the same for an edit of message
        ``seq``: the new text, for the window to open the edit again with it.
    adminReply(ServerFrame reply): the answer to an admin command, a
        ``RoomChanged``, ``UserChanged``, ``Users`` or ``Announced``.
    adminFailed(Command command, str code, str words): an admin command was refused.
    searchResults(SearchPage page): the answer to ``search``, with the ref it returned.
    searchFailed(str ref, str code, str words): a ``search`` was refused (too slow:
        LIMIT_REACHED; too many: RATE_LIMITED), in words for the search box.
    certificateUntrusted(str url, str presented, str pinned): a wss:// server
        showed a certificate that is not the pinned one (``pinned`` is "" on
        first use). The client stops before logging in: no password or token
        crosses; ``trust(presented)`` pins it and connects again.

Files (``send`` with attachments): each is uploaded in turn, then the message
goes with their ids; see ``upload_runner.py``, ``uploads.py`` and ``Outbox``. A refused upload
(too large, over the quota) comes as ``errorOccurred`` and leaves the message
without that file (without any, and no text: no message).

TLS is trust on first use, as SSH does it: a wss:// server's certificate is
not checked against CAs (a LAN server has none) but against the fingerprint
pinned for it, and nothing is sent before it matches.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import logging
import math
from dataclasses import dataclass, field, replace

from PySide6.QtCore import QObject, Signal
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from multichat.desktop.client import pinning
from multichat.desktop.client.backoff import Backoff
from multichat.desktop.client.outbox import Outbox, Pending
from multichat.desktop.client.pinning import Untrusted
from multichat.desktop.client.search import SearchPage, describe_search_error
from multichat.desktop.client.upload_runner import UploadHooks, UploadRunner
from multichat.desktop.client.uploads import Attachment, Upload
from multichat.desktop.client.words import describe, describe_connection_error
from multichat.protocol import CloseCode, ErrorCode, MsgType, frames
from multichat.protocol import commands as cmd

log = logging.getLogger(__name__)

# A history reply is at most 512 KiB; leave room for a page of long events.
MAX_FRAME_BYTES = 4 * 2**20
# Seconds for everything before a session works: DNS, TCP connect, TLS, the WebSocket
# handshake and the login reply, one deadline for all. A LAN server answers in
# milliseconds; a person should not stare at "Connecting…" much longer than this.
OPEN_TIMEOUT = 10.0
INITIAL_HISTORY = 50
# Seconds before a rate-limited message is offered to the server again.
RATE_LIMIT_RETRY = 1.0
# Commands answered by nothing (typing, read) keep their ref only this long (in
# commands), for an error that may name it: they must not pile up for ever.
QUIET_REFS = 256


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

    id: int
    title: str = ""
    last_seq: int | None = None  # None until the first history page set it
    joined: bool = False
    members: list[str] = field(default_factory=list)
    # The history request that opens the room (its newest page); the join follows it.
    opening: cmd.History | None = None


class ChatClient(QObject):
    stateChanged = Signal(str, str)
    loggedIn = Signal(object, str)
    loginFailed = Signal(str)
    connectFailed = Signal(str)
    sessionEnded = Signal(str)
    accountChanged = Signal(object)
    roomsChanged = Signal(object)
    roomJoined = Signal(str, str)
    roomLeft = Signal(str)
    roomRemoved = Signal(str, str)
    membersChanged = Signal(str, object)
    messageReceived = Signal(str, object)
    historyLoaded = Signal(str, object)
    aroundLoaded = Signal(str, object)
    outboxChanged = Signal(str, object)
    uploadProgress = Signal(str, str, int, int)
    typingReceived = Signal(str, str)
    readMarked = Signal(str, int, object)
    activityReceived = Signal(str, int, str, bool, int)
    dmOpened = Signal(object)
    errorOccurred = Signal(str, str, str)
    sendRefused = Signal(str, str)
    editRefused = Signal(str, int, str)
    adminReply = Signal(object)
    adminFailed = Signal(object, str, str)
    searchResults = Signal(object)
    searchFailed = Signal(str, str, str)
    certificateUntrusted = Signal(str, str, str)

    def __init__(self, parent: QObject | None = None, *, backoff: Backoff | None = None,
                 open_timeout: float = OPEN_TIMEOUT) -> None:
        super().__init__(parent)
        self._backoff = backoff or Backoff()
        self.open_timeout = open_timeout
        self._established = False  # a login worked since open(): reconnect, don't give up
        self.url = ""
        self.username = ""
        self._password: str | None = None
        self.token: str | None = None
        self.pin: str | None = None  # the certificate fingerprint a wss:// server must show
        self.account: frames.UserInfo | None = None
        self.state = State.OFFLINE
        self.rooms: dict[str, _Room] = {}
        self.outbox = Outbox()
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._refs = itertools.count(1)
        self._requests: dict[str, cmd.Command] = {}  # ref -> the command sent with it
        self._quiet: dict[str, cmd.Command] = {}  # the same for typing and read, bounded
        self._sending: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._uploads = UploadRunner(self.outbox, UploadHooks(
            new_ref=lambda: f"u{next(self._refs)}", progress=self._upload_progress,
            changed=self._emit_outbox, ready=self._send_if_open,
            refused=self.errorOccurred.emit))
    # -- connecting -----------------------------------------------------------------

    def open(
        self, url: str, username: str, *, password: str | None = None, token: str | None = None,
        pin: str | None = None,
    ) -> None:
        """Connect and log in, then stay connected until ``close()`` or a refusal.

        ``pin``: for wss://, the certificate fingerprint confirmed earlier, if any.
        """
        if self._task is not None and not self._task.done():
            raise RuntimeError("already open; cancel() or close() first")
        self.url, self.username = url, username
        self._password, self.token, self.pin = password, token, pin
        self._established = False
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

    @property
    def running(self) -> bool:
        """Connecting, connected or waiting to reconnect: ``open`` would refuse now."""
        return self._task is not None and not self._task.done()

    def cancel(self) -> None:
        """Stop now, before this returns: the attempt or session is cancelled and the
        state is offline at once, so no login or other signal of it can follow (a reply
        already on its way is never read). The socket closes behind, on its own.

        The outbox and the wanted rooms are kept, as by ``close()``.
        """
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for sending in list(self._sending):
            sending.cancel()
        self._uploads.stop()
        self._ws = None
        self._requests.clear()
        self._quiet.clear()
        self._mark_rooms_left()
        self._set_state(State.OFFLINE, "Disconnected.")

    async def close(self) -> None:
        """Disconnect for good, and wait until the socket is closed; see ``cancel``.

        Frames already handed to the socket (a last ``read`` at quit) get a moment
        to leave first."""
        if self._sending:
            await asyncio.wait(set(self._sending), timeout=1.0)
        task = self._task
        self.cancel()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def logout(self) -> None:
        """Revoke the token on the server, then disconnect."""
        if self._ws is not None and self.state is State.ONLINE:
            with contextlib.suppress(ConnectionClosed, OSError):
                await self._ws.send(cmd.Logout().encode())
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
                detail = describe_connection_error(exc, self.url, self.open_timeout)
                if not self._established:
                    self._set_state(State.OFFLINE, detail)
                    self.connectFailed.emit(detail)
                    return
            finally:
                # A cancelled run unwinds after cancel() (and maybe a new open()): the
                # state is no longer this run's to clear.
                if self._task is asyncio.current_task():
                    self._uploads.stop()
                    self._ws = None
                    self._requests.clear()  # no reply to them will come on the next one
                    self._quiet.clear()
                    self._mark_rooms_left()
            first = False
            await self._wait_to_retry(detail, self._backoff.next_delay())

    async def _wait_to_retry(self, detail: str, delay: float) -> None:
        """Count the delay down, a state change a second, until it ends or ``reconnect_now``."""
        assert self._wake is not None
        self._wake.clear()
        loop = asyncio.get_running_loop()
        until = loop.time() + delay
        while (left := until - loop.time()) > 0:
            seconds = max(1, math.ceil(left - 0.01))  # 2.0001 s left still reads "2 s"
            self._set_state(State.RECONNECTING, f"{detail} Retrying in {seconds} s.")
            try:
                await asyncio.wait_for(self._wake.wait(), left - (seconds - 1))
            except TimeoutError:
                continue
            return

    async def _session(self) -> None:
        secure = self.url.lower().startswith("wss://")
        # One deadline from the first DNS lookup to the login reply: a server that
        # accepts TCP and then says nothing must not hold "Connecting…" for ever.
        deadline = asyncio.get_running_loop().time() + self.open_timeout
        async with asyncio.timeout_at(deadline):
            ws = await connect(
                self.url,
                open_timeout=None,  # the deadline above covers it
                max_size=MAX_FRAME_BYTES,
                compression=None,
                max_queue=None,
                ssl=pinning.client_context() if secure else None,
            )
        async with ws:
            self._ws = ws
            if secure:  # before a single byte of ours: no login to an unconfirmed server
                pinning.check(self.pin, pinning.presented(ws))
            async with asyncio.timeout_at(deadline):
                await self._login(ws)
            self._established = True
            self._backoff.reset()
            self._set_state(State.ONLINE, f"Connected to {self.url}.")
            self._request(cmd.ListRooms())
            for room in list(self.rooms):
                self._open_room(room)
            self._uploads.start(ws)
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
        attempts: list[cmd.Command] = []
        if self.token:
            attempts.append(cmd.TokenLogin(token=self.token))
        if self._password is not None:
            attempts.append(cmd.PasswordLogin(username=self.username, password=self._password))
        if not attempts:
            raise _LoginRefused("Enter your password to log in.")
        words = ""
        for attempt in attempts:
            await ws.send(attempt.encode())
            reply = frames.decode_frame(await ws.recv())  # within _session's deadline
            match reply:
                case frames.LoggedIn(user=user, token=token):
                    self.account = user
                    self.token = token
                    self.username = user.username
                    self._password = None  # from now on the token alone
                    self.loggedIn.emit(self.account, self.token)
                    return
                case frames.Error(code=code, detail=detail):
                    words = describe(code, detail)
                    if code == ErrorCode.RATE_LIMITED:
                        break
                case _:
                    words = describe("", None)
        if isinstance(attempts[0], cmd.TokenLogin) and len(attempts) == 1:
            words = "Your saved login has expired; enter your password."
        raise _LoginRefused(words)

    # -- what the person does ----------------------------------------------------------

    def join(self, room: str) -> None:
        """Open a room, now and after every reconnect, until ``leave``."""
        room = str(room)
        if room not in self.rooms:
            self.rooms[room] = _Room(id=int(room))
        if self.state is State.ONLINE:
            self._open_room(room)

    def leave(self, room: str) -> None:
        room = str(room)
        self.rooms.pop(room, None)
        if self.outbox.drop_room(room):
            self.outboxChanged.emit(room, [])
        if self.state is State.ONLINE:
            self._request(cmd.Leave(room=int(room)))
        self.roomLeft.emit(room)

    def send(self, room: str, text: str, reply_to: int | None = None,
             attachments: tuple[Attachment, ...] | list[Attachment] = ()) -> str:
        """Queue a message (a reply to ``reply_to``, a seq, if given); it goes out now
        if online, else after the reconnect. With ``attachments``, they are uploaded
        first (now if online, else once connected) and the message goes once every one
        is stored; ``text`` may then be empty. Its client_id."""
        room = str(room)
        message = self.outbox.add(room, text, reply_to, tuple(attachments))
        self._emit_outbox(room)
        if message.uploads:
            self._uploads.kick()
        else:
            self._send_if_open(message)
        return message.client_id

    def cancel_upload(self, key: str) -> None:
        """Drop one file from its pending message (sent or not); the message goes without
        it, or not at all if nothing is left. A file being sent stops at once."""
        self._uploads.cancel(key)

    def _upload_progress(self, upload: Upload) -> None:
        self.uploadProgress.emit(upload.room, upload.key, upload.sent, upload.attachment.size)

    def edit(self, room: str, seq: int, text: str) -> str:
        """Queue an edit of one's own stored message ``seq``; through the outbox as a send."""
        return self._change(room, cmd.Edit(room=int(room), seq=seq, message=text))

    def delete(self, room: str, seq: int) -> str:
        """Queue the deletion of message ``seq`` (one's own; a superuser's any, in rooms)."""
        return self._change(room, cmd.Delete(room=int(room), seq=seq))

    def react(self, room: str, seq: int, emoji: str, on: bool = True) -> str:
        """Queue adding (``on``) or taking back one's ``emoji`` reaction to message ``seq``."""
        return self._change(room, cmd.React(room=int(room), seq=seq, emoji=emoji, on=on))

    def _change(self, room: str, command: cmd.Edit | cmd.Delete | cmd.React) -> str:
        room = str(room)
        item = self.outbox.add_change(room, command)
        self._send_if_open(item)
        return item.client_id

    def edit_pending(self, room: str, client_id: str, text: str) -> None:
        """Edit a message still in the outbox: its text is rewritten if it never left,
        else the edit waits for its stored copy (see ``Outbox``)."""
        room = str(room)
        if self.outbox.amend(client_id, text):
            self._emit_outbox(room)
        elif self.outbox.get(client_id) is not None:
            self.outbox.add_change(room, cmd.Edit(room=int(room), seq=0, message=text),
                                   after=client_id)

    def delete_pending(self, room: str, client_id: str) -> None:
        """Delete a message still in the outbox: dropped if it never left, else deleted
        once its stored copy is confirmed."""
        room = str(room)
        item = self.outbox.get(client_id)
        if item is None:
            return
        if not item.sent:
            self.outbox.remove(client_id)
            self._emit_outbox(room)
        else:
            self.outbox.add_change(room, cmd.Delete(room=int(room), seq=0), after=client_id)

    def typing(self, room: str) -> None:
        """Tell the room's other members this person is typing (if online and in it).
        Not queued: a typing notice is worth nothing later."""
        info = self.rooms.get(str(room))
        if self.state is State.ONLINE and info is not None and info.joined:
            self._request(cmd.Typing(room=info.id), quiet=True)

    def read(self, room: str, seq: int) -> None:
        """Mark ``room`` read up to ``seq`` on the server (joined or not); not queued: the
        next read after a reconnect says as much."""
        if self.state is State.ONLINE and seq > 0:
            self._request(cmd.Read(room=int(room), seq=seq), quiet=True)

    def open_dm(self, usernames: list[str]) -> bool:
        """Ask for the direct conversation with these people (this user is in it anyway;
        only this user: a note to self). Answered by ``dmOpened`` or an error
        (USER_INVALID). False when offline: nothing was asked."""
        users = tuple(dict.fromkeys(name for name in usernames if name))
        if not users:
            return False
        return self._request(cmd.DmOpen(users=users)) is not None

    def request_history(self, room: str, before: int | None, limit: int = INITIAL_HISTORY) -> None:
        """An older page of a room, answered by ``historyLoaded``."""
        self._request(cmd.History(room=int(room), before=before, limit=limit))

    def request_history_around(self, room: str, seq: int, limit: int = INITIAL_HISTORY) -> None:
        """Up to ``limit`` messages centred on ``seq``, answered by ``aroundLoaded``."""
        self._request(cmd.History(room=int(room), around=seq, limit=limit))

    def search(self, query: str, room: str | None = None, before: int | None = None,
               limit: int = cmd.SEARCH_DEFAULT_LIMIT) -> str | None:
        """Messages holding each word of ``query`` (as word beginnings), newest first, in
        ``room`` or everywhere; older than the cursor ``before``. Answered by
        ``searchResults`` or ``searchFailed`` with the ref returned; None when offline."""
        sent = self._request(cmd.Search(query=query, room=int(room) if room else None,
                                        before=before, limit=limit))
        return sent.ref if sent is not None else None

    def refresh_rooms(self) -> None:
        self._request(cmd.ListRooms())

    def admin(self, command: cmd.Command) -> None:
        """An admin command; its answer comes as ``adminReply`` or ``adminFailed``."""
        self._request(command)

    # -- frames out ---------------------------------------------------------------------

    def _request(self, command: cmd.Command, *, quiet: bool = False) -> cmd.Command | None:
        """Send a command with a fresh ``ref``; its reply or error finds it by that ref.

        ``quiet``: a command nothing answers unless it fails (typing, read): its ref is
        kept among the last QUIET_REFS only."""
        ws = self._ws
        if ws is None:
            return None
        command = replace(command, ref=str(next(self._refs)))
        assert command.ref is not None
        if quiet:
            self._quiet[command.ref] = command
            if len(self._quiet) > QUIET_REFS:
                del self._quiet[next(iter(self._quiet))]
        else:
            self._requests[command.ref] = command
        sending = asyncio.get_running_loop().create_task(ws.send(command.encode()))
        self._sending.add(sending)
        sending.add_done_callback(self._sent)
        return command

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            if not isinstance(exc, ConnectionClosed | OSError):
                log.error("sending a frame failed", exc_info=exc)

    def _open_room(self, room: str) -> None:
        info = self.rooms[room]
        if info.last_seq is None:
            # The newest page first; the join then continues right after it.
            opening = self._request(cmd.History(room=info.id, limit=INITIAL_HISTORY))
            info.opening = opening if isinstance(opening, cmd.History) else None
        else:
            self._request(cmd.Join(room=info.id, since=info.last_seq))

    def _send_if_open(self, item: Pending) -> None:
        info = self.rooms.get(item.room)
        if self.state is State.ONLINE and info is not None and info.joined:
            self._send_pending(item.client_id)

    def _send_pending(self, client_id: str) -> None:
        """Send one outbox item (not one waiting for its message's seq, nor a message
        waiting for its files); a change gets a ping behind it, whose answer confirms it
        (see ``Outbox``)."""
        item = self.outbox.get(client_id)
        if item is None or item.after is not None or item.waiting_for_files:
            return
        if self._request(item.command) is None:
            return
        item.sent = True
        if not item.is_message:
            ping = self._request(cmd.Ping())
            item.barrier = ping.ref if ping is not None else None

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

    def _emit_outbox(self, room: str) -> None:
        self.outboxChanged.emit(room, [m.as_dict() for m in self.outbox.messages(room)])

    # -- frames in ------------------------------------------------------------------------

    def _dispatch(self, raw: str | bytes) -> None:
        frame = frames.decode_frame(raw)
        ref = getattr(frame, "ref", None)
        if ref is not None and self._uploads.answer(ref, frame):
            return
        request = None
        if ref is not None:
            request = self._requests.pop(ref, None) or self._quiet.pop(ref, None)
        match frame:
            case frames.Error():
                self._on_error(frame, request)
            case frames.RoomEvent(room=room):
                self._on_event(str(room), frame)
            case frames.History(room=room, messages=messages):
                self._on_history(str(room), messages, request)
            case frames.Typing(room=room, username=username):
                if str(room) in self.rooms and username != self.username:
                    self.typingReceived.emit(str(room), username)
            case frames.ReadMarker(room=room, seq=seq, unread=unread):
                self.readMarked.emit(str(room), seq, unread)
            case frames.Activity(room=room, seq=seq, username=username, mention=mention,
                                 count=count):
                self.activityReceived.emit(str(room), seq, username, mention, count)
            case frames.DmOpened(room=info):
                self.dmOpened.emit(info)
            case frames.SearchResults() if isinstance(request, cmd.Search):
                self._on_search(frame, request)
            case frames.Pong(ref=str(barrier)):
                self.outbox.confirmed_by(barrier)
            case frames.Joined(room=room, title=title):
                self._on_joined(str(room), title)
            case frames.Members(room=room, users=users):
                self._on_members(str(room), users)
            case frames.Left(room=room):
                self._on_left(str(room), requested=isinstance(request, cmd.Leave))
            case frames.Rooms(rooms=rooms):
                self.roomsChanged.emit(list(rooms))
            case frames.Account(user=user):
                self.account = user
                self.accountChanged.emit(user)
            case frames.RoomChanged() | frames.UserChanged() | frames.Users() | frames.Announced():
                self.adminReply.emit(frame)
            case frames.Unknown(text=text):
                log.warning("ignoring a frame this client does not know: %.200s", text)
            case _:
                pass  # Pong, LoggedOut, a late LoggedIn: nothing to show

    def _on_search(self, frame: frames.SearchResults, request: cmd.Search) -> None:
        assert request.ref is not None
        self.searchResults.emit(SearchPage(
            ref=request.ref, query=request.query,
            room=str(request.room) if request.room is not None else "",
            before=request.before, results=frame.results, more=frame.more,
            next=frame.next if frame.more else None))

    def _on_event(self, room: str, event: frames.RoomEvent) -> None:
        info = self.rooms.get(room)
        if info is None:
            return
        if event.seq is not None:
            if event.client_id:
                self._confirmed(room, event.client_id, event.seq)
            if info.last_seq is not None and event.seq <= info.last_seq:
                return  # delivered already (a catch-up overlapping a live event)
            info.last_seq = event.seq
        else:
            self._track_presence(room, info, event)
        self.messageReceived.emit(room, event)

    def _confirmed(self, room: str, client_id: str, seq: int) -> None:
        """The server stored ``client_id`` as ``seq`` (also when this answers a resend)."""
        item = self.outbox.remove(client_id)
        if item is None:
            return
        if item.is_message:
            self._emit_outbox(room)
            for waiting in self.outbox.resolve(client_id, seq):
                self._send_if_open(waiting)

    def _track_presence(self, room: str, info: _Room, event: frames.RoomEvent) -> None:
        name = event.username
        if event.msg_type is MsgType.ENTER and name not in info.members:
            info.members = sorted([*info.members, name])
        elif event.msg_type is MsgType.LEAVE and name in info.members:
            info.members = [m for m in info.members if m != name]
        else:
            return
        self.membersChanged.emit(room, list(info.members))

    def _on_members(self, room: str, users: tuple[str, ...]) -> None:
        info = self.rooms.get(room)
        if info is not None:
            info.members = sorted(users)
            self.membersChanged.emit(room, list(info.members))

    def _on_history(
        self, room: str, events: tuple[frames.RoomEvent, ...], request: cmd.Command | None
    ) -> None:
        info = self.rooms.get(room)
        if info is None:
            return  # left meanwhile: nobody shows it
        page = list(events)
        if request is not None and request is info.opening:
            info.opening = None
            info.last_seq = max((e.seq for e in events if e.seq is not None), default=0)
            self.historyLoaded.emit(room, page)
            self._request(cmd.Join(room=info.id, since=info.last_seq))
        elif isinstance(request, cmd.History) and request.around is not None:
            self.aroundLoaded.emit(room, page)
        else:
            self.historyLoaded.emit(room, page)

    def _on_joined(self, room: str, title: str) -> None:
        info = self.rooms.get(room)
        if info is None:
            return
        info.title, info.joined = title, True
        self.roomJoined.emit(room, title)
        for item in self.outbox.for_room(room):  # in the order they were done
            self._send_pending(item.client_id)

    def _on_left(self, room: str, *, requested: bool) -> None:
        if requested:
            return  # our own leave: roomLeft was emitted when it was asked for
        # Not asked for: the server took the room away (deleted, or made staff-only).
        if self.rooms.pop(room, None) is not None:
            # The words first: the window keeps a tab that shows why it closed.
            self.roomRemoved.emit(room, "You were removed from this room: it was deleted or "
                                        "made staff-only.")
            if self.outbox.drop_room(room):
                self.outboxChanged.emit(room, [])
            self.roomLeft.emit(room)

    def _on_error(self, error: frames.Error, request: cmd.Command | None) -> None:
        command = request.name if request is not None else ""
        words = describe(error.code, error.detail, command=command)
        room = _room_of(request)
        if isinstance(request, cmd.ADMIN_COMMANDS):
            self.adminFailed.emit(request, error.code, words)
            return
        if isinstance(request, cmd.Search):
            assert request.ref is not None
            self.searchFailed.emit(request.ref, error.code,
                                   describe_search_error(error.code, error.detail))
            return
        if isinstance(request, cmd.Typing | cmd.Read):
            log.info("%s in room %s refused: %s", request.name, room, error.code)
            return
        match request:
            case cmd.Send(client_id=str(client_id)) | cmd.Edit(client_id=str(client_id)) | \
                    cmd.Delete(client_id=str(client_id)) | cmd.React(client_id=str(client_id)):
                item = self.outbox.get(client_id)
                if item is not None:
                    item.barrier = None  # the ping behind it confirms nothing now
                if error.known is ErrorCode.RATE_LIMITED:
                    self._retry_later(client_id)
                    return
                if item is not None:
                    self.outbox.remove(client_id)
                    if item.is_message:
                        self._emit_outbox(room)
                refused_text = item.text if item is not None and item.is_message else ""
                self.errorOccurred.emit(room, error.code, words)
                if refused_text:
                    self.sendRefused.emit(room, refused_text)
                elif isinstance(request, cmd.Edit) and error.known is ErrorCode.MESSAGE_TOO_LONG:
                    self.editRefused.emit(room, request.seq, request.message)
                return
        self.errorOccurred.emit(room, error.code, words)
        info = self.rooms.get(room)
        opening = isinstance(request, cmd.Join) or (
            info is not None and request is not None and request is info.opening)
        if opening and info is not None:
            # The room cannot be opened: stop trying at every reconnect.
            del self.rooms[room]
            self.roomLeft.emit(room)

    def _mark_rooms_left(self) -> None:
        for info in self.rooms.values():
            info.joined = False


class _SessionRevoked(Exception):
    pass


def _room_of(command: cmd.Command | None) -> str:
    """The room a command concerns, as the signals name it ("" for none, as dm.open)."""
    match command:
        case cmd.Join(room=room) | cmd.Leave(room=room) | cmd.Send(room=room) | cmd.History(
                room=room) | cmd.Edit(room=room) | cmd.Delete(room=room) | cmd.React(
                room=room) | cmd.Typing(room=room) | cmd.Read(room=room):
            return str(room)
    return ""
