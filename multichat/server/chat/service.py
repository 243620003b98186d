"""The chat rules of one server process, behind one entry: ``ChatService.execute``.

``execute(session, command)`` carries out one decoded command for one session,
answering through the session's peer, or raises ``ChatError`` for the edge to
turn into an error frame (a store error included: ``errors.chat_error_for``).
Nothing here knows about sockets. The rules live by concept:

    accounts.py    login (password, token), logout, revocation, Argon2 turns
    rooms.py       the room list, join with catch-up, leave, presence notices
    messages.py    send and announce (the hot path), edit, delete, react, the writer's
                   outcomes, history
    typing_notices.py  typing, relayed to the other members, one a second counted
    read_markers.py    read, stored per user, pushed to the user's other connections
    activity.py    activity frames: new events of rooms a connection may see, not joined
    admin.py       the admin commands, with rights read from the store
    reconcile.py   sessions kept in line with the store: reconcile, poll, VersionGate
    direct.py      dm.open: the direct conversation of a set of people, found or made
    search.py      search: the messages one may see that hold the words typed
    files.py       upload and its binary frames; who may fetch a file
    tickets.py     session.ticket: one-time tickets for the browser's session cookie
    cluster.py     what differs with several processes: members, event order

``ChatService`` builds them once, with what they share (the store and its
threads, the broker, the live sessions and their presence, the limits); they
reach that state and each other through it.
"""

from __future__ import annotations

import logging
import time

from multichat.protocol import commands as cmd
from multichat.protocol import events
from multichat.protocol.codes import ErrorCode
from multichat.server.broker import Broker
from multichat.server.chat.accounts import Accounts
from multichat.server.chat.activity import Activity
from multichat.server.chat.admin import Administration
from multichat.server.chat.cluster import cluster_for
from multichat.server.chat.direct import DirectConversations
from multichat.server.chat.errors import ChatError, chat_error_for
from multichat.server.chat.files import Files
from multichat.server.chat.hash_slots import HashSlots
from multichat.server.chat.limits import Clock, TokenBucket, UserBuckets
from multichat.server.chat.login_guard import LoginGuard
from multichat.server.chat.messages import Messages, SendContext
from multichat.server.chat.passwords import Passwords
from multichat.server.chat.presence import RoomPresence
from multichat.server.chat.read_markers import ReadMarkers
from multichat.server.chat.reconcile import Reconciler
from multichat.server.chat.rooms import Rooms
from multichat.server.chat.search import Search
from multichat.server.chat.session import Peer, Session
from multichat.server.chat.tickets import TicketBook
from multichat.server.chat.typing_notices import TypingNotices
from multichat.server.config import ServerConfig
from multichat.server.store.errors import StoreError
from multichat.server.store.executor import StoreExecutor
from multichat.server.store.repository import Store
from multichat.server.store.writer import Bracket, MessageWriter

log = logging.getLogger(__name__)

# Argon2 checks at once (each ~50 ms of CPU and 64 MiB, on purpose): few, so a login
# storm cannot starve delivery; each connection, address and account holds one at most.
HASH_SLOTS = 2


class ChatService:
    """The rules of one server process."""

    def __init__(
        self,
        store: Store,
        broker: Broker,
        config: ServerConfig,
        *,
        passwords: Passwords | None = None,
        clock: Clock = time.monotonic,
        bracket: Bracket | None = None,
    ) -> None:
        """``clock`` (monotonic seconds) times the typing limit; tests pass their own.
        ``bracket``: the server's, told around each batch the writer hands back, to
        write each connection's frames of the batch at once (net/peer.py)."""
        self.config = config
        self.store = store
        self.db = StoreExecutor(store)
        self.broker = broker
        self.passwords = passwords or Passwords()
        self.sessions: dict[Session, None] = {}
        self.presence = RoomPresence()
        self.login_guard = LoginGuard(
            free_failures=config.login_free_failures, max_delay=config.login_max_delay,
            spray_names=config.login_spray_names,
        )
        self.user_buckets = UserBuckets(config.user_send_burst, config.user_send_rate)
        self.join_buckets = UserBuckets(config.user_join_burst, config.user_join_rate)
        self.hash_slots = HashSlots(HASH_SLOTS)
        self.tickets = TicketBook(self.db)
        # One process or several, chosen once; the gate in front of it, in the reconciler.
        self.cluster = cluster_for(self)
        self.read_markers = ReadMarkers(self)
        self.activity = Activity(self, enabled=config.activity)
        self.reconciler = Reconciler(self)
        self.accounts = Accounts(self)
        self.rooms = Rooms(self)
        self.direct = DirectConversations(self)
        self.search = Search(self)
        self.files = Files(self)
        self.messages = Messages(self)
        self.typing = TypingNotices(self, clock)
        self.admin = Administration(self)
        self.writer: MessageWriter[SendContext] = MessageWriter(
            store, self.messages.stored, bracket=bracket)

    # -- lifecycle --------------------------------------------------------------

    async def start(self) -> None:
        await self.reconciler.start()
        await self.broker.start(self.reconciler.gate.offer, self.cluster)
        self.writer.start()
        self.files.start()
        self.reconciler.start_polling()

    async def stop(self) -> None:
        """Commit what was accepted, then release the database threads."""
        await self.reconciler.stop_polling()
        await self.files.stop()
        await self.writer.close()
        await self.reconciler.stop()
        self.activity.close()
        await self.cluster.close()
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
        await self.files.disconnect(session)
        self.rooms.leave_all(session)
        self.accounts.set_user(session, None)

    async def reconcile(self) -> None:
        """Bring every session in line with the store now (``Reconciler.reconcile``)."""
        await self.reconciler.reconcile()

    # -- dispatch ---------------------------------------------------------------------

    async def execute(self, session: Session, command: cmd.Command) -> None:
        if session.user is None and not isinstance(command, cmd.PRE_LOGIN_COMMANDS):
            raise ChatError(ErrorCode.USER_HAS_TO_LOGIN, "log in first")
        if isinstance(command, cmd.Send):
            self.messages.send(session, command)  # the hot path: no await, no query
            return
        if isinstance(command, cmd.MESSAGE_CHANGES):
            self.messages.change(session, command)  # as a send: the writer checks them
            return
        try:
            await self._dispatch(session, command)
        except StoreError as exc:
            error = chat_error_for(exc)
            if error.code is ErrorCode.SERVER_ERROR:
                log.error("store error on %s: %s", command.name, exc)
            raise error from exc

    async def _dispatch(self, session: Session, command: cmd.Command) -> None:
        if isinstance(command, cmd.ADMIN_COMMANDS):
            assert session.user is not None
            if not session.user.is_superuser:
                raise ChatError(ErrorCode.PERMISSION_DENIED, "only superusers may do that")
            if isinstance(command, cmd.Announce):
                await self.messages.announce(session, command)
            else:
                await self.admin.carry_out(session, command)
            return
        if isinstance(command, cmd.Ping):
            # After the outcome of every send, edit, delete and react before it: a client
            # knows by the pong that they were carried out (stored, refused, or a
            # reaction that changed nothing and is answered by nothing).
            session.send_after_writes(events.pong(command.ref))
            return
        if not session.command_bucket.take():
            raise ChatError(ErrorCode.RATE_LIMITED, "too many commands; slow down")
        match command:
            case cmd.PasswordLogin():
                await self.accounts.password_login(session, command)
            case cmd.TokenLogin():
                await self.accounts.token_login(session, command)
            case cmd.Logout():
                await self.accounts.logout(session, command)
            case cmd.SessionTicket():
                await self.accounts.session_ticket(session, command)
            case cmd.ListRooms():
                await self.rooms.list_rooms(session, command)
            case cmd.Join():
                await self.rooms.join(session, command)
            case cmd.Leave():
                await self.rooms.leave(session, command)
            case cmd.History():
                await self.messages.history(session, command)
            case cmd.Typing():
                self.typing.typing(session, command)
            case cmd.Read():
                await self.read_markers.read(session, command)
            case cmd.DmOpen():
                await self.direct.open(session, command)
            case cmd.Search():
                await self.search.search(session, command)
            case cmd.Upload():
                await self.files.upload(session, command)
            case _:  # pragma: no cover
                raise AssertionError(f"unhandled command {command!r}")
