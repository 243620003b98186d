"""The server process's edge: serve WebSockets, decode frames, call the rules, answer.

``ChatServer`` owns the store, the broker, the chat service and the listening
sockets. The CLI runs one until a signal; the desktop app hosts one on a
thread of its own; tests start one on port 0.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import sys
import time
from collections.abc import Awaitable, Iterable
from typing import Any

import ifaddr
from websockets.asyncio.server import Server, ServerConnection, serve, unix_serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from multichat import __version__, lan
from multichat.protocol import ErrorCode, ProtocolError, decode_command, events, names
from multichat.protocol.codes import CloseCode
from multichat.protocol.passwords import check_password
from multichat.server.broker import Broker, open_broker
from multichat.server.chat import ChatError, ChatService, Session
from multichat.server.chat.limits import AddressCounter, Clock, address_key
from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import admission, proxy, tls, unix_socket, web_session
from multichat.server.net.files import FileAnswers
from multichat.server.net.heap import HeapSettler
from multichat.server.net.http import WebAnswers, is_websocket_upgrade
from multichat.server.net.keepalive import Keepalive
from multichat.server.net.opening import OpeningSlots
from multichat.server.net.peer import (
    HeldWrites,
    ProxiedConnection,
    SharedFraming,
    SoonWrites,
    WebSocketPeer,
    connection_type,
    remote_host,
)
from multichat.server.redact import redact
from multichat.server.store import Store, StoreError

log = logging.getLogger(__name__)

# Connections the event loop accepts in one turn (asyncio's create_server takes its
# ``backlog`` for this too). Each brings a handshake, a login and a join to the turns
# after it: thousands accepted at once (every client back after a restart) would make
# turns of seconds, and hold every other client's frames, a ping, that long. The
# kernel holds the others meanwhile (``--listen-backlog``, ``_queue_connections``).
# The stock loop's: on uvloop (serve's default) libuv accepts all that wait in a turn.
ACCEPTS_PER_TURN = 8


class ServerError(Exception):
    """A server refused what whoever runs it asked, in words for a person.

    It cannot start here (a database it cannot open or upgrade, a certificate
    that does not load), or it will not create the first admin asked for (a
    name or password the rules refuse, a name taken). The one error the desktop
    app catches from a server it hosts, besides OSError (a port in use).
    """


class ChatServer:
    """One Multichat server: ``await start()``, then ``await stop()``."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        broker: Broker | None = None,
        passwords: Passwords | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        """``clock``: monotonic seconds for the chat's typing limit (tests pass their own)."""
        self.config = config
        self._clock = clock
        self._broker = broker or open_broker(config.broker, presence_ttl=config.presence_ttl)
        self._passwords = passwords
        self.store: Store | None = None
        self.chat: ChatService | None = None
        self._server: Server | None = None
        self._framing = SharedFraming()
        self._held_writes = HeldWrites()  # a batch's frames to a connection in one write
        self._soon_writes = SoonWrites()  # presence notices a few at a time under a burst
        self._heap = HeapSettler()  # short collector passes while a burst connects
        self.certificate: tls.Certificate | None = None  # with TLS: what clients pin
        self.advertiser: lan.Advertiser | None = None
        self._origins = admission.parse_origins(config.allowed_origins)
        self._proxies = proxy.TrustedProxies.parse(
            config.trusted_proxies, proxy_protocol=config.proxy_protocol, tls=config.uses_tls,
            unix=config.unix is not None,
        )
        # With --unix: the socket file, made at start and removed at stop.
        self._unix = unix_socket.Listener(config.unix) if config.unix is not None else None
        self.connections = AddressCounter(config.max_connections_per_address)
        # How many connections are in their opening at once, and how many may wait.
        self._openings = OpeningSlots(per_address=config.max_connections_per_address,
                                      exempt=self._waits_unlimited)
        self._keepalive = Keepalive(config.ping_interval, config.ping_timeout)
        self._local_names = admission.local_names()  # Hosts whose page is always allowed
        self._web: WebAnswers | None = None  # the browser client's HTTP answers, from start()
        self._files: FileAnswers | None = None  # /files/..., from start()

    async def start(self) -> None:
        """Open the database and start listening.

        ServerError when the database or the certificate cannot be used, in words
        for a person; OSError when the address cannot be listened on (a port in use).
        """
        try:
            await self._start()
        except (StoreError, tls.TlsError, unix_socket.UnixSocketError) as exc:
            raise ServerError(str(exc)) from exc

    async def _start(self) -> None:
        config = self.config
        if self._unix is not None and config.uses_tls:
            raise unix_socket.UnixSocketError(
                "--unix: a server on a Unix socket serves the proxy in front of it, which "
                "terminates TLS: drop --tls, --cert and --key")
        context = self._tls_context() if config.uses_tls else None
        url = config.database_url()
        config.ensure_data_dir()
        if self._passwords is None:  # here, not in __init__: making one hashes once
            self._passwords = Passwords()
        self.store = Store.open(url, synchronous=config.sqlite_synchronous)
        try:
            self.chat = ChatService(self.store, self._broker, config, passwords=self._passwords,
                                    clock=self._clock, bracket=self._held_writes)
            await self.chat.start()
            self._web = WebAnswers(self.chat.tickets, secure=config.uses_tls,
                                   cookie_max_age=int(config.token_ttl_days * 86_400))
            self._files = FileAnswers(self.chat)
            self._server = await self._listen(context)
            _queue_connections(self._server.sockets, config.listen_backlog)
        except BaseException:
            if self._unix is not None:
                self._unix.remove()
            if self.chat is not None:
                await self.chat.stop()
            self.store.close()
            raise
        log.info("Multichat %s listening on %s (%s; database %s)", __version__,
                 self._listening_words(), self._reachable_words(), redact(url))
        if self.certificate is not None:
            log.info("TLS certificate %s, SHA-256 fingerprint %s (clients confirm this "
                     "when they first connect)", self.certificate.cert,
                     self.certificate.fingerprint)
        if config.advertise and self._unix is None:  # nobody on the LAN reaches a socket file
            self.advertiser = lan.Advertiser(self._announcement(),
                                             lan.interfaces_for(config.host))
            self.advertiser.start()

    async def _listen(self, context: ssl.SSLContext | None) -> Server:
        """Serve on the configured TCP address, or the Unix socket of ``--unix``."""
        config = self.config
        settings: dict[str, Any] = {
            "backlog": accepts_per_turn(config.listen_backlog),
            "max_size": config.max_frame_bytes,
            "compression": "deflate" if config.compression else None,
            # Our own keepalive (keepalive.py): websockets' waits for the output to
            # drain before it times the pong, so a silent peer with a backlog would
            # never be dropped.
            "ping_interval": None,
            "ping_timeout": None,
            "close_timeout": config.close_timeout,
            "server_header": f"Multichat/{__version__}",
            "process_request": self._admit,
            # The handshake's timeout counts from the connection's slot (opening.py).
            "create_connection": connection_type(self._proxies, self._openings, self._heap),
            "open_timeout": None,
        }
        if self._unix is not None:
            # Our own bound socket: the loops' create_unix_server(path=...) would remove
            # whatever socket is at the path, a live server's too (unix_socket.py).
            sock = self._unix.bind()
            try:
                return await unix_serve(self._handle, sock=sock, **settings)
            except BaseException:
                sock.close()
                raise
        return await serve(self._handle, config.host or None, config.port, ssl=context,
                           **_tls_handshake_timeout(context), **settings)

    def _listening_words(self) -> str:
        if self._unix is not None:
            return proxy.unix_peer(str(self._unix.path))
        return ", ".join(f"{lan.url_host(host)}:{port}" for host, port in self.listening())

    def _reachable_words(self) -> str:
        if self._unix is not None:
            return "for a proxy on this machine: its word on each client's address is believed"
        return "on this network: " + " ".join(self.urls())

    async def stop(self) -> None:
        """Close every connection (1001), commit what was accepted, close the database."""
        try:
            if self.advertiser is not None:  # first: nobody should find a server that is going
                await self.advertiser.stop()
                self.advertiser = None
            if self._server is not None:
                self._server.close(code=CloseCode.GOING_AWAY, reason="server shutting down")
                await self._server.wait_closed()
                self._server = None
            if self._unix is not None:
                self._unix.remove()
            if self.chat is not None:
                await self.chat.stop()
                self.chat = None
            if self.store is not None:
                self.store.close()
                self.store = None
        finally:
            # Whatever failed above: the collector's thresholds are the whole process's
            # (the desktop app's too, when it hosts the server); a burst's hold ends here.
            self._heap.thaw()
        log.info("Multichat server stopped")

    async def __aenter__(self) -> ChatServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- for whoever hosts this server (the desktop app) ------------------------------

    async def has_users(self) -> bool:
        """Whether the database holds any account (if not, the host creates the first)."""
        store = self._running_store()
        return bool(await asyncio.to_thread(store.users))

    async def create_first_admin(self, username: str, password: str) -> None:
        """Create the first account, a superuser, by the rules every account follows.

        ServerError, in words for a person, when the name breaks the rules of
        names (``protocol.names``), the password the password rule
        (``protocol.passwords``), or the database holds accounts already (from
        then on accounts are made over the protocol, by an administrator).
        """
        store = self._running_store()
        try:
            name = names.normalize_username(username)
            check_password(password)
        except ValueError as exc:
            raise ServerError(str(exc)) from exc
        if await self.has_users():
            raise ServerError("this server has accounts already: an administrator adds more")
        assert self._passwords is not None  # set by start()
        password_hash = await asyncio.to_thread(self._passwords.hash, password)
        try:
            await asyncio.to_thread(store.create_user, name, password_hash, is_superuser=True)
        except StoreError as exc:
            raise ServerError(str(exc)) from exc

    def people_connected(self) -> int:
        """Logged-in connections right now (the app warns before closing on them)."""
        chat = self.chat
        return sum(1 for s in chat.sessions if s.user is not None) if chat else 0

    def _running_store(self) -> Store:
        if self.store is None:
            raise RuntimeError("the server is not running")
        return self.store

    # -- addresses ----------------------------------------------------------------

    @property
    def port(self) -> int:
        """The listening port (the IPv4 one when port 0 gave each family its own)."""
        if self._server is None:
            raise RuntimeError("the server is not running")
        if self._unix is not None:
            raise RuntimeError(f"the server listens on {self._unix.path}, not on a port")
        sockets = sorted(self._server.sockets, key=lambda s: s.family != socket.AF_INET)
        return int(sockets[0].getsockname()[1])

    def _tls_context(self) -> ssl.SSLContext:
        """The server's TLS context: --cert/--key, or the data dir's self-signed certificate."""
        config = self.config
        if (config.cert is None) != (config.key is None):
            raise tls.TlsError("--cert and --key go together")
        if config.cert is not None and config.key is not None:
            self.certificate = tls.load(config.cert, config.key)
        else:
            self.certificate = tls.self_signed(config.tls_dir())
        return tls.server_context(self.certificate)

    def _announcement(self) -> lan.Announcement:
        certificate = self.certificate
        return lan.Announcement(
            name=self.config.name or socket.gethostname(),
            port=self.port,
            addresses=tuple(dict.fromkeys(host for host, _ in self._reachable())),
            tls=certificate is not None,
            fingerprint=certificate.fingerprint if certificate else None,
        )

    def listening(self) -> list[tuple[str, int]]:
        """The TCP addresses listened on (none on a Unix socket)."""
        if self._server is None or self._unix is not None:
            return []
        return [sock.getsockname()[:2] for sock in self._server.sockets]

    def urls(self) -> list[str]:
        """Addresses others can type in: each bound address, or each LAN address."""
        scheme = "wss" if self.certificate is not None else "ws"
        return list(dict.fromkeys(f"{scheme}://{lan.url_host(host)}:{port}"
                                  for host, port in self._reachable()))

    def page_urls(self) -> list[str]:
        """The browser client's address at each of ``urls``: what a person opens in a
        browser (https with the server's own TLS: the browser asks to trust it once)."""
        return [url.replace("ws", "http", 1) + "/" for url in self.urls()]

    def _reachable(self) -> list[tuple[str, int]]:
        """Each bound address, or for a wildcard bind each of this machine's addresses."""
        return [(address, port) for host, port in self.listening()
                for address in (_interface_addresses(host) if host in ("0.0.0.0", "::")
                                else [host])]

    # -- one connection ------------------------------------------------------------

    def _admit(self, connection: ServerConnection,
               request: Request) -> Response | Awaitable[Response] | None:
        """Answer a plain GET (the browser client, a file); refuse a malformed handshake, a
        page not allowed, an address with too many.

        Behind a trusted proxy without the PROXY protocol, the client's address is
        first taken from X-Forwarded-For.
        """
        if not is_websocket_upgrade(request):
            assert self._web is not None and self._files is not None  # set before serving
            if self._files.handles(request.path):
                return self._files.answer(connection, request)  # websockets awaits it
            return self._web.answer(request)
        headers = request.headers
        refusal = self._take_forwarded_client(connection, headers.get_all("X-Forwarded-For"))
        if refusal is None:
            own = admission.own_origin(headers.get_all("Host"), tls=self.config.uses_tls,
                                       names=self._local_names)
            refusal = admission.check_origin(headers.get_all("Origin"), self._origins, own)
        if refusal is None:
            address, exempt = self._counted_as(connection)
            if not self.connections.may_open(address, exempt=exempt):
                refusal = admission.TOO_MANY_CONNECTIONS
        if refusal is None:
            return None
        log.info("refused a connection from %s: %s", _who(connection), refusal.reason)
        return connection.respond(refusal.status, refusal.reason + "\n")

    def _take_forwarded_client(
        self, connection: ServerConnection, forwarded_for: list[str]
    ) -> admission.Refusal | None:
        """From a trusted HTTP proxy, the client's address is X-Forwarded-For's."""
        if not isinstance(connection, ProxiedConnection):
            return None
        try:
            client = self._proxies.forwarded_client(connection.peer_host, forwarded_for)
        except proxy.ForwardedForError as exc:
            return admission.bad_request(str(exc))
        if client is not None:
            connection.client_host = client
        return None

    def _waits_unlimited(self, peer: str) -> bool:
        """Whether the connections of ``peer`` waiting for an opening slot are not capped
        per address: a trusted proxy's (all its clients have its address), loopback's."""
        return self._proxies.trusts(peer) or admission.exempt_from_limit(
            peer, peer, limit_loopback=self.config.limit_loopback)

    def _counted_as(self, connection: ServerConnection) -> tuple[str, bool]:
        """The key the connection limit counts a client by, and whether it is exempt."""
        client = remote_host(connection)
        peer = connection.peer_host if isinstance(connection, ProxiedConnection) else client
        exempt = admission.exempt_from_limit(client, peer,
                                             limit_loopback=self.config.limit_loopback,
                                             peer_is_proxy=self._proxies.trusts(peer))
        return address_key(client), exempt

    async def _handle(self, connection: ServerConnection) -> None:
        chat = self.chat
        assert chat is not None
        address, exempt = self._counted_as(connection)
        if not self.connections.admit(address, exempt=exempt):  # raced past the handshake
            await connection.close(CloseCode.TRY_AGAIN_LATER, admission.TOO_MANY_CONNECTIONS.reason)
            return
        self._heap.connected()
        opened = _log_open(connection)
        session = chat.connect(
            WebSocketPeer(connection, self.config.max_output_bytes, self._framing,
                          self._held_writes, self._soon_writes)
        )
        self._keepalive.watch(connection)
        openings: OpeningSlots | None = self._openings
        try:
            await self._cookie_login(chat, session, connection)
            _forget_handshake(connection)
            async for frame in connection:
                await self.handle_frame(chat, session, frame)
                if session.rooms and openings is not None:  # its first join is done
                    assert isinstance(connection, ProxiedConnection)  # connection_type's
                    openings.opened(connection)
                    openings = None
        except ConnectionClosed:
            pass
        finally:
            self._keepalive.forget(connection)
            self.connections.release(address)
            await chat.disconnect(session)
            if opened is not None:
                _log_closed(connection, opened)

    @staticmethod
    async def _cookie_login(chat: ChatService, session: Session,
                            connection: ServerConnection) -> None:
        """A handshake with the browser's session cookie is logged in before any frame."""
        assert connection.request is not None
        token = web_session.cookie_token(connection.request.headers)
        if token is None:
            return
        try:
            await chat.accounts.cookie_login(session, token)
        except StoreError as exc:
            log.error("store error on a cookie login: %s", exc)
            session.send(events.error(ErrorCode.SERVER_ERROR, "the server cannot log you in "
                                      "now; try again"))

    @staticmethod
    async def handle_frame(chat: ChatService, session: Session, frame: str | bytes) -> None:
        """One frame from a client: decode, carry out, answer errors (the fuzzers drive it)."""
        if isinstance(frame, bytes) and chat.files.is_receiving(session):
            try:
                await chat.files.receive(session, frame)  # answers its own errors
            except Exception:
                log.exception("unexpected error on an upload's bytes from %r", session)
                session.send(events.error(ErrorCode.SERVER_ERROR, "internal error"))
            return
        try:
            command = decode_command(frame)
        except ProtocolError as exc:
            session.send(events.error(ErrorCode.BAD_REQUEST, exc.detail, exc.ref))
            return
        except Exception:  # a decoder bug: the frame is refused, the connection lives
            log.exception("unexpected error decoding a frame from %r", session)
            session.send(events.error(ErrorCode.BAD_REQUEST, "malformed frame"))
            return
        try:
            await chat.execute(session, command)
        except ChatError as exc:
            session.send(events.error(exc.code, exc.detail, command.ref))
        except Exception:
            log.exception("unexpected error on %s from %r", command.name, session)
            session.send(events.error(ErrorCode.SERVER_ERROR, "internal error"))


def accepts_per_turn(listen_backlog: int) -> int:
    """The ``backlog`` asyncio is given: ``ACCEPTS_PER_TURN``, the listen queue being
    set after (``_queue_connections``); on Windows, whose ``listen`` sets a queue only
    once (and whose loop accepts one connection at a time anyway), the queue itself."""
    return listen_backlog if sys.platform == "win32" else ACCEPTS_PER_TURN


def _tls_handshake_timeout(context: ssl.SSLContext | None) -> dict[str, Any]:
    """``serve``'s TLS handshake timeout, which it would take from ``open_timeout`` (None
    there: opening.py); asyncio refuses one without TLS."""
    return {"ssl_handshake_timeout": OpeningSlots.OPEN_TIMEOUT} if context else {}


def _queue_connections(sockets: Iterable[socket.socket], backlog: int) -> None:
    """Let the kernel hold ``backlog`` connections not yet accepted on each socket.

    ``listen`` again on a listening socket sets its queue (Linux, the BSDs;
    Windows keeps the first): past a full queue a new connection's SYN is
    dropped, and its client waits 1 s, then 3 s ... to try again.
    """
    if sys.platform == "win32":  # set by create_server already (accepts_per_turn)
        return
    for sock in sockets:
        with sock.dup() as listener:
            listener.listen(backlog)


def _forget_handshake(connection: ServerConnection) -> None:
    """Drop the handshake's headers once read: about 3 KiB a connection for its lifetime.

    Everything the server needs from them (the client's address, Origin, the
    session cookie) has been taken by now. The request and response objects
    stay, emptied, since websockets tells a handshake from a frame by whether
    ``connection.request`` is set.
    """
    for message in (connection.request, connection.response):
        if message is not None:
            message.headers.clear()


def _log_open(connection: ServerConnection) -> tuple[str, float] | None:
    """With ``-v``, a line as a connection reaches the chat: who, from where. Returns
    what its closing line needs (None at the default level, which logs neither)."""
    if not log.isEnabledFor(logging.DEBUG):
        return None
    who = _who(connection)
    log.debug("connection from %s open", who)
    return who, time.monotonic()


def _log_closed(connection: ServerConnection, opened: tuple[str, float]) -> None:
    who, since = opened
    code = connection.close_code
    # The reason is the peer's own words: quoted, so it cannot forge a line.
    reason = f" {connection.close_reason!r}" if connection.close_reason else ""
    log.debug("connection from %s closed after %.1f s (%s%s)", who, time.monotonic() - since,
              code if code is not None else "no close frame", reason)


def _who(connection: ServerConnection) -> str:
    """The client's address for a log line, and the proxy's when it came through one."""
    address = remote_host(connection)
    if isinstance(connection, ProxiedConnection) and connection.peer_host != address:
        return f"{address} (via {connection.peer_host})"
    return address


def _interface_addresses(wildcard: str) -> Iterable[str]:
    """The non-loopback addresses of this machine's interfaces of the wildcard's family."""
    family = socket.AF_INET6 if wildcard == "::" else socket.AF_INET
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if family == socket.AF_INET and ip.is_IPv4 and not str(ip.ip).startswith("127."):
                found.append(str(ip.ip))
            elif family == socket.AF_INET6 and ip.is_IPv6:
                address = ip.ip[0]
                if address != "::1" and not address.startswith("fe80"):
                    found.append(address)
    return found or (["127.0.0.1"] if family == socket.AF_INET else ["::1"])
