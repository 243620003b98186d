"""A WebSocket connection as the chat layer's ``Peer``.

Frames are written synchronously (as ``websockets.broadcast`` does), so every
frame to one client goes out in the order the rules produced it. There is no
backpressure on that path, so the peer watches its own backlog: a client
whose unsent output passes ``max_output`` has stopped reading, and is dropped
rather than allowed to grow the server's memory; it catches up by seq when it
reconnects.

A room event is framed once for all its recipients: server frames are not
masked, so on a connection without extensions (no compression) the bytes on
the wire are the same for every member. ``SharedFraming`` remembers the last
frame it built; a fan-out hands the same ``bytes`` object to each peer in
turn, so only the first one pays for framing.

The peer's ``address`` is the client's own, also behind a reverse proxy:
``ProxiedConnection`` (the class ``serve`` creates for each connection) takes
a trusted proxy's PROXY header off the stream and keeps the address it names,
or the one the handshake check read from X-Forwarded-For (proxy.py has the rules).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from multichat.server.net.proxy import (
    ProxyHeaderError,
    TrustedProxies,
    canonical,
    parse_address,
    parse_proxy_header,
    starts_with_proxy_header,
)

log = logging.getLogger(__name__)

# A proxy sends its PROXY header as it connects, in its first segment: 3 s is
# ample for a loaded proxy across a LAN, and bounds how long a half-sent header
# holds a connection open.
PROXY_HEADER_TIMEOUT = 3.0


def remote_host(connection: ServerConnection) -> str:
    """The client's address, for limits, throttling and logs (behind a proxy: the real one)."""
    if isinstance(connection, ProxiedConnection):
        return connection.client_host
    return _host(connection.remote_address)


def _host(remote: Any) -> str:
    if not remote:
        return "unknown"
    address = parse_address(str(remote[0]))
    return canonical(address) if address is not None else str(remote[0])


class ProxiedConnection(ServerConnection):
    """A ServerConnection that knows its client's real address.

    ``peer_host`` is the TCP peer. ``client_host`` is the client it speaks for:
    the source of the PROXY header a trusted proxy sends first (taken off the
    stream here, before websockets' HTTP parser sees it), or the address the
    handshake check takes from X-Forwarded-For, or else the peer itself.

    A connection is closed, with one line in the log and no response, when it
    must start with a PROXY header and does not (malformed, too long, or not
    complete within ``PROXY_HEADER_TIMEOUT``), or when it brings one it may not
    (a peer not trusted, a proxy without --proxy-protocol, a second header).
    """

    proxies: ClassVar[TrustedProxies] = TrustedProxies()

    peer_host: str
    client_host: str
    _header: bytearray | None  # what came of a PROXY header still expected
    _header_deadline: asyncio.TimerHandle | None
    _first_data: bool  # nothing has gone to the HTTP parser yet

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.peer_host = self.client_host = _host(self.remote_address)
        self._header = None
        self._header_deadline = None
        self._first_data = True
        if self.proxies.expects_proxy_header(self.peer_host):
            self._header = bytearray()
            self._header_deadline = self.loop.call_later(
                PROXY_HEADER_TIMEOUT, self._refuse, logging.WARNING,
                f"closed a connection from proxy {self.peer_host}: no complete PROXY header "
                f"within {PROXY_HEADER_TIMEOUT:g} s",
            )

    def data_received(self, data: bytes) -> None:
        if self._header is not None:
            data = self._take_header(data)
            if not data:
                return
        if self._first_data:
            self._first_data = False
            if starts_with_proxy_header(data):
                self._refuse_proxy_header()
                return
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
        super().connection_lost(exc)

    def _take_header(self, data: bytes) -> bytes:
        """Buffer ``data`` until the PROXY header is whole; then what follows it."""
        assert self._header is not None
        self._header += data
        try:
            header = parse_proxy_header(bytes(self._header))
        except ProxyHeaderError as exc:
            self._refuse(logging.WARNING,
                         f"closed a connection from proxy {self.peer_host}: {exc}")
            return b""
        if header is None:
            return b""
        rest = bytes(self._header[header.size:])
        self._header = None
        if self._header_deadline is not None:
            self._header_deadline.cancel()
        if header.source is not None:
            self.client_host = header.source
        return rest

    def _refuse_proxy_header(self) -> None:
        if self.client_host != self.peer_host or self.proxies.expects_proxy_header(
            self.peer_host
        ):
            self._refuse(logging.INFO, f"refused a second PROXY header from {self.client_host} "
                                       f"(via proxy {self.peer_host})")
        elif self.proxies.trusts(self.peer_host):
            self._refuse(logging.WARNING, f"refused a PROXY header from {self.peer_host}: "
                                          "--proxy-protocol is off")
        else:
            self._refuse(logging.INFO, f"refused a PROXY header from {self.peer_host}, "
                                       "which is not in --trusted-proxies")

    def _refuse(self, level: int, message: str) -> None:
        self._header = None
        log.log(level, "%s", message)
        self.transport.abort()


def connection_type(proxies: TrustedProxies) -> type[ProxiedConnection]:
    """The connection class for ``serve(create_connection=...)``, believing ``proxies``."""

    class Connection(ProxiedConnection):
        pass

    Connection.proxies = proxies
    return Connection


class SharedFraming:
    """The wire form of the text frame built last; one per server (its loop's thread).

    ``wire_all`` does the same for the frames of a batch (activity for several
    rooms, each frame sent to many connections): it remembers up to
    ``BATCH_FRAMES`` frames, by identity, holding each ``bytes`` object so that
    its identity cannot be reused while it is remembered.
    """

    __slots__ = ("_batch", "_data", "_wire")

    BATCH_FRAMES = 64

    def __init__(self) -> None:
        self._data = b""
        self._wire = Frame(Opcode.TEXT, b"").serialize(mask=False)
        self._batch: dict[int, tuple[bytes, bytes]] = {}

    def wire(self, data: bytes) -> bytes:
        if data is not self._data:  # identity: a fan-out passes one object N times
            self._wire = Frame(Opcode.TEXT, data).serialize(mask=False)
            self._data = data
        return self._wire

    def wire_all(self, datas: Sequence[bytes]) -> list[bytes]:
        batch = self._batch
        wires = []
        for data in datas:
            known = batch.get(id(data))
            if known is None or known[0] is not data:
                if len(batch) >= self.BATCH_FRAMES:
                    batch.clear()
                known = batch[id(data)] = (data, Frame(Opcode.TEXT, data).serialize(mask=False))
            wires.append(known[1])
        return wires


class HeldWrites:
    """While a batch of stored events is handed out, each connection's frames wait here.

    The writer reports a batch's outcomes one event at a time, and each event
    goes to every member of its room. Under load a batch holds many events for
    the same rooms: between ``begin`` and ``end`` a peer keeps what it is sent,
    and at ``end`` writes it all, in the order it was sent, in one write (one
    system call for the batch, not one per event). Nothing else can write in
    between (the batch is handed out without yielding to the loop), so every
    order the rules give is kept. The writer brackets only batches of two or
    more outcomes: at light load, one event per batch, nothing is held.

    One per server (its loop's thread); the ``MessageWriter``'s ``bracket``.
    """

    __slots__ = ("_waiting", "active")

    def __init__(self) -> None:
        self.active = False
        self._waiting: list[WebSocketPeer] = []

    def begin(self) -> None:
        self.active = True

    def end(self) -> None:
        self.active = False
        waiting, self._waiting = self._waiting, []
        for peer in waiting:
            try:
                peer.write_held()
            except Exception:  # one connection's fault must not hold the others' frames
                log.exception("writing %s's events failed; dropping it", peer.address)
                peer.connection.transport.abort()

    def waiting(self, peer: WebSocketPeer) -> None:
        self._waiting.append(peer)


class WebSocketPeer:
    __slots__ = ("_closing", "_framing", "_held", "_holding", "_max_output", "_tasks",
                 "address", "connection")

    def __init__(
        self, connection: ServerConnection, max_output: int, framing: SharedFraming,
        holding: HeldWrites | None = None,
    ) -> None:
        self.connection = connection
        self._max_output = max_output
        # Extensions (compression) make each connection's frames its own.
        self._framing = None if connection.protocol.extensions else framing
        self._holding = holding or HeldWrites()
        # Frames held while a batch is handed out (compressed: in the protocol's
        # own buffer, and this list stays empty); None when nothing is held.
        self._held: list[bytes] | None = None
        self.address = remote_host(connection)
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, data: bytes) -> None:
        connection = self.connection
        if self._closing or connection.protocol.state is not State.OPEN:
            return
        if self._holding.active:
            self._hold((data,))
            return
        if self._framing is not None:
            connection.transport.write(self._framing.wire(data))
        else:
            connection.protocol.send_text(data)
            connection.send_data()
        self._check_output()

    def send_frames(self, datas: Sequence[bytes]) -> None:
        connection = self.connection
        if self._closing or connection.protocol.state is not State.OPEN:
            return
        if self._holding.active:
            self._hold(datas)
            return
        if self._framing is not None:
            connection.transport.writelines(self._framing.wire_all(datas))  # one write
        else:
            for data in datas:
                connection.protocol.send_text(data)
            connection.send_data()
        self._check_output()

    def _hold(self, datas: Sequence[bytes]) -> None:
        held = self._held
        if held is None:
            held = self._held = []
            self._holding.waiting(self)
        framing = self._framing
        if framing is None:
            for data in datas:  # compressed in order now; written at write_held
                self.connection.protocol.send_text(data)
        elif len(datas) == 1:
            held.append(framing.wire(datas[0]))
        else:
            held.extend(framing.wire_all(datas))

    def write_held(self) -> None:
        """The batch is handed out: write what was held, in one write."""
        held, self._held = self._held, None
        connection = self.connection
        if held is None or self._closing or connection.protocol.state is not State.OPEN:
            return
        if self._framing is None:
            connection.send_data()
        elif len(held) == 1:
            connection.transport.write(held[0])
        else:
            connection.transport.writelines(held)
        self._check_output()

    def _check_output(self) -> None:
        transport = self.connection.transport
        if transport.get_write_buffer_size() > self._max_output:
            log.warning("dropping %s: it stopped reading (output over %d bytes)",
                        self.address, self._max_output)
            self._closing = True
            # A close frame would wait behind the backlog the client is not reading.
            transport.abort()

    async def drain(self) -> None:
        if not self._closing and self.connection.protocol.state is State.OPEN:
            # On a close, the connection's handler sees it and cleans up.
            with contextlib.suppress(ConnectionError, ConnectionClosed):
                await self.connection.drain()

    def close(self, code: int, reason: str) -> None:
        if self._closing:
            return
        self._closing = True
        task = asyncio.create_task(self.connection.close(code, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
