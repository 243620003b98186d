"""The chat rules: login, rooms, join and leave, send, history, admin.

``ChatService.execute(session, command)`` carries out one decoded command for
one session, answering through the session's peer, or raises ``ChatError``
for the edge to turn into an error frame. Nothing here knows about sockets.

Hot path of a ``send``: check membership, length and rate (no query), hand
the message to the ``MessageWriter``; once its batch commits, encode the event
once and publish it once; the broker hands the same bytes to every member.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable

from multichat.protocol import commands as cmd
from multichat.protocol import events, names
from multichat.protocol.codes import CloseCode, ErrorCode, MsgType
from multichat.protocol.events import Frame
from multichat.server.broker import Broker
from multichat.server.chat.errors import ChatError
from multichat.server.chat.hash_slots import HashSlots
from multichat.server.chat.limits import TokenBucket, UserBuckets, address_key
from multichat.server.chat.login_guard import LoginGuard
from multichat.server.chat.passwords import Passwords
from multichat.server.chat.presence import RoomPresence
from multichat.server.chat.sequencer import RoomSequencer
from multichat.server.chat.session import Peer, Session
from multichat.server.chat.tokens import new_token, token_hash
from multichat.server.chat.version_gate import VersionGate
from multichat.server.config import ServerConfig
from multichat.server.store.errors import (
    LastSuperuser,
    StoreError,
    TitleTaken,
    UnknownRoom,
    UnknownUser,
    UsernameTaken,
)
from multichat.server.store.executor import StoreExecutor
from multichat.server.store.records import Appended, NewMessage, Room, StoredMessage, User
from multichat.server.store.repository import Store, now_ms
from multichat.server.store.writer import MessageWriter, Outcome

log = logging.getLogger(__name__)

# Events per query and per write burst when a join catches up with `since`.
CATCH_UP_PAGE = 200
# A history reply stays under this many bytes (clients' default frame limit is
# 1 MiB); a page of long messages comes back shorter, and the client pages on.
HISTORY_MAX_BYTES = 512 * 1024
# Argon2 checks at once (each ~50 ms of CPU and 64 MiB, on purpose): few, so a login
# storm cannot starve delivery; each connection, address and account holds one at most.
HASH_SLOTS = 2


def valid_username(name: str) -> bool:
    """Whether a new account may have exactly this name (``names.normalize_username``)."""
    try:
        return names.normalize_username(name) == name
    except ValueError:
        return False


def event_frame(message: StoredMessage) -> Frame:
    return events.room_event(
        room_id=message.room_id,
        message=message.text,
        username=message.username,
        msg_type=message.msg_type,
        seq=message.seq,
        ts_ms=message.ts_ms,
        client_id=message.client_id,
    )


def room_frame(room: Room) -> Frame:
    return events.room_object(room.id, room.title, room.staff_only)


def user_frame(user: User) -> Frame:
    return events.user_object(user.username, user.is_staff, user.is_superuser)


class _SendContext:
    """What the writer hands back with an outcome: who sent it, and how to answer."""

    __slots__ = ("announce", "ref", "session")

    def __init__(self, session: Session, ref: str | None, announce: bool) -> None:
        self.session = session
        self.ref = ref
        self.announce = announce


class ChatService:
    """The rules of one server process."""

    def __init__(
        self,
        store: Store,
        broker: Broker,
        config: ServerConfig,
        *,
        passwords: Passwords | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.db = StoreExecutor(store)
        self.broker = broker
        self.passwords = passwords or Passwords()
        self.presence = RoomPresence()
        # Between processes (Redis): members counted over all of them, and each room's
        # events put in seq order here. In one process neither is needed.
        self.shared = broker.presence
        self.sequencer = (
            None if broker.ordered else RoomSequencer(self._deliver, self._stored_events)
        )
        # Events wait here for the changes stored before them to reach the sessions.
        self.gate = VersionGate(
            self._deliver if self.sequencer is None else self.sequencer.offer,
            self._request_reconcile, overflowed=self.resync,
        )
        self.sessions: dict[Session, None] = {}
        self.writer: MessageWriter[_SendContext] = MessageWriter(store, self._on_stored)
        self.login_guard = LoginGuard(
            free_failures=config.login_free_failures, max_delay=config.login_max_delay,
            spray_names=config.login_spray_names,
        )
        self.user_buckets = UserBuckets(config.user_send_burst, config.user_send_rate)
        self.join_buckets = UserBuckets(config.user_join_burst, config.user_join_rate)
        self.hash_slots = HashSlots(HASH_SLOTS)
        self._seen: tuple[int, int] = (-1, -1)  # (changes, revocations) last reconciled
        self._room_snapshot: list[Room] = []
        self._rooms_by_id: dict[int, Room] = {}
        self._poller: asyncio.Task[None] | None = None
        self._reconcile_lock = asyncio.Lock()
        self._reconciler: asyncio.Task[None] | None = None
        self._reconcile_wanted = False
        self._stopping = False
        # Moves when a reconcile takes its list of sessions and when it applies its
        # findings: a login or join that read the store across such a moment may have
        # been missed by that reconcile, and checks again.
        self._epoch = 0

    # -- lifecycle --------------------------------------------------------------

    async def start(self) -> None:
        self._seen = await self.db.run(self.store.counters)
        self.gate.advance(self._seen[0])
        self._set_rooms(await self.db.run(self.store.rooms))
        await self.broker.start(self.gate.offer, self)
        self.writer.start()
        self._poller = asyncio.create_task(self._poll_changes(), name="change-poller")

    async def stop(self) -> None:
        """Commit what was accepted, then release the database threads."""
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        await self.writer.close()
        self._stopping = True  # no reconcile after this: the store is about to close
        if self._reconciler is not None:
            self._reconciler.cancel()
            await asyncio.gather(self._reconciler, return_exceptions=True)
        if self.sequencer is not None:
            await self.sequencer.close()
        await self.broker.close()
        self.db.close()

    def connect(self, peer: Peer) -> Session:
        config = self.config
        session = Session(peer, TokenBucket(config.send_burst, config.send_rate),
                          TokenBucket(config.command_burst, config.command_rate))
        self.sessions[session] = None
        return session

    async def disconnect(self, session: Session) -> None:
        """A connection ended: its rooms see the user leave if it was their last."""
        self.sessions.pop(session, None)
        self._leave_all(session)
        self._set_user(session, None)

    # -- dispatch ---------------------------------------------------------------------

    async def execute(self, session: Session, command: cmd.Command) -> None:
        if session.user is None and not isinstance(command, cmd.PRE_LOGIN_COMMANDS):
            raise ChatError(ErrorCode.USER_HAS_TO_LOGIN, "log in first")
        if isinstance(command, cmd.ADMIN_COMMANDS):
            assert session.user is not None
            if not session.user.is_superuser:
                raise ChatError(ErrorCode.PERMISSION_DENIED, "only superusers may do that")
        match command:
            case cmd.Send():
                self._send(session, command)
                return
            case cmd.Ping():
                session.send(events.pong(command.ref))
                return
            case cmd.Announce():
                await self._announce(session, command)
                return
        if isinstance(command, cmd.ADMIN_COMMANDS):
            await self._admin(session, command)
            return
        if not session.command_bucket.take():
            raise ChatError(ErrorCode.RATE_LIMITED, "too many commands; slow down")
        match command:
            case cmd.PasswordLogin():
                await self._password_login(session, command)
            case cmd.TokenLogin():
                await self._token_login(session, command)
            case cmd.Logout():
                await self._logout(session, command)
            case cmd.ListRooms():
                rooms = await self.db.run(self.store.rooms)
                await self._settle(await self.db.run(self.store.changes))
                session.send(events.rooms(self._visible_rooms(session, rooms), command.ref))
            case cmd.Join():
                self._spend_join(session)
                await self._join(session, command)
            case cmd.Leave():
                self._spend_join(session)
                await self._leave(session, command)
            case cmd.History():
                await self._history(session, command)
            case _:  # pragma: no cover
                raise AssertionError(f"unhandled command {command!r}")

    def _spend_join(self, session: Session) -> None:
        """Joins and leaves tell every member of the room: a user's are rate-limited."""
        if session.join_bucket is not None and not session.join_bucket.take():
            raise ChatError(ErrorCode.RATE_LIMITED,
                            "you are joining and leaving rooms too fast; slow down")

    # -- login ------------------------------------------------------------------------

    def _check_login_guard(self, session: Session, name: str) -> None:
        wait = self.login_guard.retry_after(address_key(session.address), name)
        if wait > 0:
            raise ChatError(
                ErrorCode.RATE_LIMITED,
                f"too many failed logins; try again in {math.ceil(wait)} s",
            )

    async def _password_login(self, session: Session, command: cmd.PasswordLogin) -> None:
        self._require_logged_out(session)
        # The store finds ALICE, fullwidth or look-alike spellings of alice by one key:
        # they count as one name here too.
        name = names.username_key(command.username)
        self._check_login_guard(session, name)
        epoch = self._epoch
        credentials = await self.db.run(self.store.credentials, command.username)
        password_hash = credentials.password_hash if credentials else None
        async with self.hash_slots.turn(self._hash_keys(session, name)):
            self._check_login_guard(session, name)  # others' failures while we waited
            ok = await asyncio.to_thread(self.passwords.verify, password_hash, command.password)
            if ok and credentials and self.passwords.needs_rehash(credentials.password_hash):
                new_hash = await asyncio.to_thread(self.passwords.hash, command.password)
                await self.db.run(self.store.rehash_password, credentials.user.username,
                                  new_hash)
        if not ok or credentials is None:
            self.login_guard.failed(address_key(session.address), name)
            raise ChatError(ErrorCode.LOGIN_FAILED, "wrong username or password")
        self.login_guard.succeeded(address_key(session.address), name)
        token = new_token()
        digest = token_hash(token)
        expires = now_ms() + int(self.config.token_ttl_days * 86_400_000)
        await self.db.run(self.store.add_token, credentials.user.id, digest, expires)
        self._logged_in(session, credentials.user, token, digest=digest, ref=command.ref,
                        epoch=epoch)

    @staticmethod
    def _hash_keys(session: Session, name: str | None = None) -> list[str]:
        """Whom an Argon2 check is done for: each may hold one of the HASH_SLOTS at a time."""
        keys = [f"connection:{id(session)}", f"address:{address_key(session.address)}"]
        if name is not None:
            keys.append(f"account:{name}")
        return keys

    async def _token_login(self, session: Session, command: cmd.TokenLogin) -> None:
        """A valid token always logs in: no lock-out of anyone's making stands in its way.

        Guessing one is hopeless (256 random bits) and costs the server one
        indexed query, bounded per connection by the command rate.
        """
        self._require_logged_out(session)
        epoch = self._epoch
        digest = token_hash(command.token)
        owner = await self.db.run(self.store.token_owner, digest, now_ms())
        if owner is None:
            raise ChatError(ErrorCode.LOGIN_FAILED, "the saved login has expired; log in again")
        self._logged_in(session, owner.user, command.token, digest=digest, ref=command.ref,
                        epoch=epoch)

    def _require_logged_out(self, session: Session) -> None:
        if session.user is not None:
            raise ChatError(ErrorCode.BAD_REQUEST, "already logged in; log out first")

    def _logged_in(
        self, session: Session, user: User, token: str, *, digest: str, ref: str | None,
        epoch: int,
    ) -> None:
        """Log the session in as the token ``digest`` names, read from the store at ``epoch``."""
        self._set_user(session, user)
        session.token_hash = digest
        session.send(events.login_ok(user_frame(user), token, ref))
        log.info("%s logged in from %s", user.username, session.address)
        if epoch != self._epoch:
            # A reconcile took its list of sessions while we read the store: it may
            # have judged by a revocation we did not see, without seeing us.
            self._request_reconcile()

    async def _logout(self, session: Session, command: cmd.Logout) -> None:
        """Revoke the token in use; every other connection on it is closed (4001) too."""
        digest = session.token_hash
        if digest is not None and not await self.db.run(self.store.revoke_token, digest):
            self._revoke(session)  # revoked already (elsewhere): a stale session is closed
            return
        self._leave_all(session)
        self._set_user(session, None)
        session.token_hash = None
        if digest is not None:
            for other in [s for s in self.sessions if s.token_hash == digest]:
                self._revoke(other)  # the same token on other connections of this process
            self.broker.notify_changes()  # ... and of the others
        session.send(events.logout_ok(command.ref))

    def _set_user(self, session: Session, user: User | None) -> None:
        """Log a session in or out, with the buckets its user's sessions share."""
        if session.user is not None:
            self.user_buckets.release(session.user.id)
            self.join_buckets.release(session.user.id)
            session.user_bucket = session.join_bucket = None
        session.user = user
        if user is not None:
            session.user_bucket = self.user_buckets.acquire(user.id)
            session.join_bucket = self.join_buckets.acquire(user.id)

    # -- rooms --------------------------------------------------------------------------

    @staticmethod
    def _visible_rooms(session: Session, rooms: Iterable[Room]) -> list[Frame]:
        assert session.user is not None
        staff = session.user.sees_staff_rooms
        return [room_frame(room) for room in rooms if staff or not room.staff_only]

    async def _accessible_room(self, session: Session, room_id: int) -> Room:
        """The room, if the session may see it as of the store now (changes applied)."""
        room = await self.db.run(self.store.room, room_id) if room_id else None
        await self._settle(await self.db.run(self.store.changes))
        self._check_access(session, room)
        assert room is not None
        return room

    @staticmethod
    def _check_access(session: Session, room: Room | None) -> None:
        if session.user is None:
            raise ChatError(ErrorCode.USER_HAS_TO_LOGIN, "log in first")
        if room is None:
            raise ChatError(ErrorCode.ROOM_INVALID, "no such room")
        if room.staff_only and not session.user.sees_staff_rooms:
            raise ChatError(ErrorCode.ROOM_ACCESS_DENIED, "this room is for staff only")

    async def _join(self, session: Session, command: cmd.Join) -> None:
        limit = self.config.max_rooms_per_connection
        if command.room not in session.rooms and len(session.rooms) >= limit:
            raise ChatError(ErrorCode.LIMIT_REACHED,
                            f"at most {limit} open room(s) per connection; leave one first")
        while True:
            epoch = self._epoch
            room = await self._accessible_room(session, command.room)
            if epoch == self._epoch:
                break
            # A reconcile applied a change while we read: it could not move us out of a
            # room we were not in yet, so judge again by the store as it is now.
        if session.user is None:
            return  # revoked while the room was looked up
        try:
            if self.shared is not None or self.sequencer is not None:
                await self._join_shared(session, room, command)
            else:
                await self._join_here(session, room, command)
        except BaseException:
            # Half a join (held events, a failed catch-up) would leave the member deaf
            # to the room: undo it, say so, and let the error reach the client.
            if room.id in session.rooms:
                self._leave_room(session, room.id)
                session.send(events.left(room.id))
            raise

    async def _join_here(self, session: Session, room: Room, command: cmd.Join) -> None:
        """``join`` when this process alone serves the room."""
        if command.since is not None:
            session.hold(room.id)
        entered = False
        if room.id not in session.rooms:
            session.rooms.add(room.id)
            entered = self.presence.add(room.id, session)
        session.send(events.joined(room.id, room.title, command.ref))
        session.send(events.members(room.id, self.presence.usernames(room.id)))
        if entered:
            self._publish_presence(room.id, session, MsgType.ENTER)
        if command.since is not None:
            last = await self._catch_up(session, room.id, command.since)
            session.release(room.id, last)

    async def _join_shared(self, session: Session, room: Room, command: cmd.Join) -> None:
        """``join`` when other processes serve the room too.

        The session holds the room's events while the room's order and its
        members are learnt (from the store and Redis), so the join reply and
        the members frame still come first and nothing is missed meanwhile.
        """
        assert session.user is not None
        username = session.user.username
        session.hold(room.id)
        entered = False
        if room.id not in session.rooms:
            session.rooms.add(room.id)
            entered = self.presence.add(room.id, session)
        sequencer = self.sequencer
        if sequencer is not None and not sequencer.watching(room.id):
            sequencer.open(room.id)  # events from now on are held until the baseline
            last_seq = await self.db.run(self.store.last_seq, room.id)
            sequencer.baseline(room.id, last_seq)
        announce = entered
        names: list[str] | None = None
        if self.shared is not None:
            if entered:
                announce = await self.shared.enter(room.id, username)
            names = await self.shared.members(room.id)
        if room.id not in session.rooms:
            return  # left (or was removed) meanwhile
        if names is None or username not in names:
            names = sorted({*(names or ()), *self.presence.usernames(room.id)})
        session.send(events.joined(room.id, room.title, command.ref))
        session.send(events.members(room.id, names))
        if announce:
            self._publish_presence(room.id, session, MsgType.ENTER)
        last = 0
        if command.since is not None:
            last = await self._catch_up(session, room.id, command.since)
        session.release(room.id, last)

    async def _catch_up(self, session: Session, room_id: int, since: int) -> int:
        """Send every stored event after ``since``, a page at a time; return the last seq."""
        last = since
        while room_id in session.rooms:
            page = await self.db.run(self.store.messages_after, room_id, last, CATCH_UP_PAGE)
            await self._settle(await self.db.run(self.store.changes))
            if room_id not in session.rooms:
                break  # a change read with the page took the room away
            for message in page:
                session.peer.send(events.encode(event_frame(message)))
            if page:
                last = page[-1].seq
            if len(page) < CATCH_UP_PAGE:
                break
            await session.peer.drain()
        return last

    async def _leave(self, session: Session, command: cmd.Leave) -> None:
        if command.room not in session.rooms:
            # Leaving a room one is not in is harmless, but the room must exist.
            await self._accessible_room(session, command.room)
        self._leave_room(session, command.room)
        session.send(events.left(command.room, command.ref))

    def _leave_room(self, session: Session, room_id: int) -> None:
        if room_id not in session.rooms:
            return
        session.rooms.discard(room_id)
        session.release(room_id, 0)
        if self.presence.remove(room_id, session):
            assert session.user is not None
            if self.shared is None:
                self._publish_presence(room_id, session, MsgType.LEAVE)
            else:  # announced by ``departed`` when no other process has the user there
                self.shared.leave(room_id, session.user.username)
            if self.sequencer is not None and not self.presence.sessions(room_id):
                self.sequencer.close_room(room_id)

    def _leave_all(self, session: Session) -> None:
        for room_id in list(session.rooms):
            self._leave_room(session, room_id)

    def _publish_presence(self, room_id: int, session: Session, kind: MsgType) -> None:
        assert session.user is not None
        self._publish_notice(room_id, session.user.username, kind)

    def _publish_notice(self, room_id: int, username: str, kind: MsgType) -> None:
        frame = events.room_event(
            room_id=room_id,
            message=None,
            username=username,
            msg_type=kind,
            ts_ms=now_ms(),
        )
        self.broker.publish(room_id, None, events.encode(frame), self.gate.applied)

    # -- what a broker between processes tells us (BrokerListener) --------------------

    def resync(self) -> None:
        """Events may have been missed: every watched room is refilled from the store."""
        if self.sequencer is not None:
            self.sequencer.resync()

    def changed(self) -> None:
        """Another process changed users, rooms or tokens: reconcile without waiting to poll."""
        self._request_reconcile()

    def departed(self, room_id: int, username: str) -> None:
        """No process has the user in the room any more: announce it."""
        self._publish_notice(room_id, username, MsgType.LEAVE)


    async def _stored_events(self, room_id: int, after: int, limit: int) -> list[tuple[int, bytes]]:
        """Stored events of a room after a seq, encoded: the sequencer fills gaps with them."""
        page = await self.db.run(self.store.messages_after, room_id, after, limit)
        # These bypass the gate: the changes they may follow reach the sessions first.
        await self._settle(await self.db.run(self.store.changes))
        return [(message.seq, events.encode(event_frame(message))) for message in page]

    def _deliver(self, room_id: int, seq: int | None, data: bytes) -> None:
        """The broker's hand-off: the same bytes to every local member of the room."""
        delivery = (room_id, seq, data)
        for member in self.presence.sessions(room_id):
            member.deliver(delivery)

    # -- messages ---------------------------------------------------------------------

    def _send(self, session: Session, command: cmd.Send) -> None:
        assert session.user is not None
        if command.room not in session.rooms:
            raise ChatError(ErrorCode.ROOM_ACCESS_DENIED, "join the room before sending to it")
        if len(command.message) > self.config.max_message_chars:
            raise ChatError(
                ErrorCode.MESSAGE_TOO_LONG,
                f"messages are limited to {self.config.max_message_chars} characters",
            )
        if not session.send_bucket.take():
            raise ChatError(ErrorCode.RATE_LIMITED, "you are sending too fast; slow down")
        if session.user_bucket is not None and not session.user_bucket.take():
            raise ChatError(ErrorCode.RATE_LIMITED,
                            "your connections together are sending too fast; slow down")
        self._submit(session, command.room, command.message, MsgType.MESSAGE,
                     client_id=command.client_id, ref=command.ref, announce=False)

    async def _announce(self, session: Session, command: cmd.Announce) -> None:
        await self._still_superuser(session)
        room = await self.db.run(self.store.room, command.room) if command.room else None
        if room is None:
            raise ChatError(ErrorCode.ROOM_INVALID, "no such room")
        if len(command.message) > self.config.max_message_chars:
            raise ChatError(ErrorCode.MESSAGE_TOO_LONG)
        self._submit(session, room.id, command.message, command.msg_type,
                     client_id=None, ref=command.ref, announce=True)

    def _submit(
        self,
        session: Session,
        room_id: int,
        text: str,
        msg_type: MsgType,
        *,
        client_id: str | None,
        ref: str | None,
        announce: bool,
    ) -> None:
        assert session.user is not None
        message = NewMessage(
            room_id=room_id,
            user_id=session.user.id,
            username=session.user.username,
            msg_type=msg_type,
            text=text,
            client_id=client_id,
            ts_ms=now_ms(),
        )
        self.writer.submit(message, _SendContext(session, ref, announce))

    def _on_stored(self, context: _SendContext, outcome: Outcome) -> None:
        """A message's batch committed (or failed): broadcast it, or tell its sender."""
        session = context.session
        if not isinstance(outcome, Appended):
            code = ErrorCode.ROOM_INVALID if isinstance(outcome, UnknownRoom) else (
                ErrorCode.SERVER_ERROR
            )
            session.send(events.error(code, str(outcome), context.ref))
            return
        data = events.encode(event_frame(outcome.message))
        room_id = outcome.message.room_id
        if outcome.duplicate:
            session.peer.send(data)  # a resend: the sender alone learns it is stored
        else:
            self.broker.publish(room_id, outcome.message.seq, data, outcome.version)
            if not context.announce and room_id not in session.rooms and session in self.sessions:
                session.peer.send(data)  # the sender left meanwhile: still confirm it
        if context.announce:
            session.send(events.admin_reply("announced", event_frame(outcome.message),
                                            context.ref))

    async def _history(self, session: Session, command: cmd.History) -> None:
        room = await self._accessible_room(session, command.room)
        messages = await self.db.run(
            self.store.messages_before, room.id, command.before, command.limit
        )
        # The page may hold events stored after a change that excludes this session:
        # let the change reach the sessions, then judge by what they know now.
        await self._settle(await self.db.run(self.store.changes))
        self._check_access(session, self._rooms_by_id.get(room.id))
        frames = [event_frame(message) for message in messages]
        budget = HISTORY_MAX_BYTES
        keep = len(frames)
        while keep > 0:
            budget -= len(events.encode(frames[keep - 1])) + 1
            if budget < 0:
                break
            keep -= 1
        session.send(events.history(room.id, frames[keep:], command.ref))

    # -- admin --------------------------------------------------------------------------

    async def _still_superuser(self, session: Session) -> None:
        """Admin rights as the store has them now, not as this process last heard.

        A demotion, deletion or sign-out made elsewhere (the CLI, another
        process) counts at once, not at the next poll: one indexed query.
        """
        digest = session.token_hash
        owner = await self.db.run(self.store.token_owner, digest, now_ms()) if digest else None
        if owner is None:
            self._revoke(session)
            raise ChatError(ErrorCode.USER_HAS_TO_LOGIN, "your login was revoked")
        if not owner.user.is_superuser:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "only superusers may do that")

    async def _admin(self, session: Session, command: cmd.Command) -> None:
        await self._still_superuser(session)
        try:
            reply = await self._admin_change(session, command)
        except UsernameTaken as exc:
            raise ChatError(ErrorCode.USER_EXISTS, str(exc)) from exc
        except UnknownUser as exc:
            raise ChatError(ErrorCode.USER_UNKNOWN, str(exc)) from exc
        except TitleTaken as exc:
            raise ChatError(ErrorCode.ROOM_TITLE_TAKEN, str(exc)) from exc
        except UnknownRoom as exc:
            raise ChatError(ErrorCode.ROOM_INVALID, str(exc)) from exc
        except LastSuperuser as exc:
            raise ChatError(ErrorCode.PERMISSION_DENIED,
                            "the last superuser cannot be removed") from exc
        if not isinstance(command, cmd.ListUsers):
            # The change reaches this process's sessions before its reply goes out;
            # events stored after it wait for it everywhere (VersionGate).
            self.broker.notify_changes()
            await self._reconcile_or_retry()
        session.send(reply)

    async def _admin_change(self, session: Session, command: cmd.Command) -> Frame:
        run, store, ref = self.db.run, self.store, command.ref
        match command:
            case cmd.CreateRoom():
                room = await run(store.create_room, command.title, staff_only=command.staff_only)
                return events.admin_reply("room.created", room_frame(room), ref)
            case cmd.UpdateRoom():
                if not command.room:
                    raise UnknownRoom(command.room)
                room = await run(store.update_room, command.room, title=command.title,
                                 staff_only=command.staff_only)
                return events.admin_reply("room.updated", room_frame(room), ref)
            case cmd.DeleteRoom():
                if not command.room:
                    raise UnknownRoom(command.room)
                room = await run(store.delete_room, command.room)
                return events.admin_reply("room.deleted", room_frame(room), ref)
            case cmd.ListUsers():
                users = await run(store.users)
                return events.admin_reply("users", [user_frame(u) for u in users], ref)
            case cmd.CreateUser():
                if not valid_username(command.username):
                    raise ChatError(ErrorCode.BAD_REQUEST,
                                    names.username_refusal(command.username))
                password_hash = await self._hash(session, command.password)
                user = await run(store.create_user, command.username, password_hash,
                                 is_staff=command.is_staff, is_superuser=command.is_superuser)
                return events.admin_reply("user.created", user_frame(user), ref)
            case cmd.UpdateUser():
                new_hash = (
                    await self._hash(session, command.password)
                    if command.password is not None else None
                )
                user = await run(store.update_user, command.username,
                                 password_hash=new_hash, is_staff=command.is_staff,
                                 is_superuser=command.is_superuser,
                                 keep_token_hash=session.token_hash)
                return events.admin_reply("user.updated", user_frame(user), ref)
            case cmd.DeleteUser():
                user = await run(store.delete_user, command.username)
                return events.admin_reply("user.deleted", user_frame(user), ref)
        raise AssertionError(f"unhandled command {command!r}")  # pragma: no cover

    async def _hash(self, session: Session, password: str) -> str:
        if not password:
            raise ChatError(ErrorCode.BAD_REQUEST, "the password must not be empty")
        async with self.hash_slots.turn(self._hash_keys(session)):
            return await asyncio.to_thread(self.passwords.hash, password)

    # -- keeping sessions in line with the database --------------------------------------

    async def _poll_changes(self) -> None:
        """Notice changes made elsewhere (the admin CLI, other servers) and apply them."""
        while True:
            await asyncio.sleep(self.config.poll_interval)
            try:
                if await self.db.run(self.store.counters) != self._seen or self.gate.holding:
                    self._request_reconcile()
            except StoreError as exc:
                log.warning("checking for changes failed: %s", exc)
            except Exception:
                log.exception("checking for changes failed")

    def _request_reconcile(self) -> None:
        """Reconcile soon, once more after any reconcile already under way."""
        self._reconcile_wanted = True
        if self._stopping:
            return
        if self._reconciler is None or self._reconciler.done():
            self._reconciler = asyncio.create_task(self._reconcile_while_wanted(),
                                                   name="reconcile")

    async def _reconcile_while_wanted(self) -> None:
        while self._reconcile_wanted:
            self._reconcile_wanted = False
            try:
                await self.reconcile()
            except StoreError as exc:  # the poller asks again while events wait
                log.warning("bringing sessions in line with the database failed: %s", exc)
            except Exception:
                log.exception("bringing sessions in line with the database failed")

    async def _reconcile_or_retry(self) -> None:
        """Reconcile now; if the store fails, leave it to the background (events wait)."""
        try:
            await self.reconcile()
        except StoreError as exc:
            log.warning("bringing sessions in line with the database failed: %s", exc)
            self._request_reconcile()

    async def _settle(self, version: int) -> None:
        """Return once this process's sessions reflect the store at ``version``.

        A store error propagates: a caller that cannot know the session's rights
        answers SERVER_ERROR rather than judge by stale ones.
        """
        if version > self.gate.applied:
            await self.reconcile()

    async def reconcile(self) -> None:
        """Bring every session in line with the database's users, tokens and rooms.

        Sessions whose token is no longer live (logged out, revoked, expired,
        its user deleted) are closed; members lose rooms that were deleted or
        became staff-only for them; everyone gets the room list again if it
        changed, and users their account if it changed. Then the events that
        waited for this version go on (``VersionGate``).
        """
        async with self._reconcile_lock:
            counters = await self.db.run(self.store.counters)
            rooms = await self.db.run(self.store.rooms)
            self._epoch += 1
            # Each session is judged by the token it had when we asked; sessions that
            # log in (or out and in) meanwhile are not judged by these answers.
            checked = {s: s.token_hash for s in self.sessions if s.token_hash is not None}
            hashes = sorted(set(checked.values()))
            owners = await self.db.run(self.store.token_owners, hashes, now_ms())
            self._apply(rooms, owners, checked)
            self._epoch += 1
            self._seen = counters
            self.gate.advance(counters[0])

    def _set_rooms(self, rooms: list[Room]) -> None:
        self._room_snapshot = rooms
        self._rooms_by_id = {room.id: room for room in rooms}

    def _apply(self, rooms: list[Room], owners: dict[str, User],
               checked: dict[Session, str]) -> None:
        rooms_changed = rooms != self._room_snapshot
        self._set_rooms(rooms)
        by_id = self._rooms_by_id
        room_lists = {  # encoded once per audience, not per session
            staff: events.encode(events.rooms(
                room_frame(room) for room in rooms if staff or not room.staff_only
            ))
            for staff in (False, True)
        }
        for session in list(self.sessions):
            if session.token_hash is None or checked.get(session) != session.token_hash:
                continue
            user = owners.get(session.token_hash)
            if user is None:
                self._revoke(session)
                continue
            account_changed = user != session.user
            if account_changed:
                session.user = user
                session.send(events.account(user_frame(user)))
            for room_id in list(session.rooms):
                room = by_id.get(room_id)
                if room is None or (room.staff_only and not user.sees_staff_rooms):
                    self._leave_room(session, room_id)
                    session.send(events.left(room_id))
            if rooms_changed or account_changed:
                session.peer.send(room_lists[user.sees_staff_rooms])

    def _revoke(self, session: Session) -> None:
        log.info("closing %r: its login was revoked", session)
        self._leave_all(session)
        self._set_user(session, None)
        session.token_hash = None
        self.sessions.pop(session, None)
        session.peer.close(CloseCode.SESSION_REVOKED, "login revoked")

