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
import collections
import contextlib
import logging
import socket
from collections.abc import Sequence
from typing import Any, ClassVar

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from multichat.server.net.heap import HeapSettler
from multichat.server.net.opening import OpeningSlots
from multichat.server.net.proxy import (
    ProxyHeaderError,
    TrustedProxies,
    canonical,
    parse_address,
    parse_proxy_header,
    starts_with_proxy_header,
    unix_peer,
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


def _peer_host(transport: asyncio.BaseTransport, remote: Any) -> str:
    """The peer's address; on a Unix socket (no address: both loops say ``''``) the
    socket's ``unix_peer`` name, which proxy.py takes as the local proxy's."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family == getattr(socket, "AF_UNIX", None):
        return unix_peer(str(transport.get_extra_info("sockname")))
    return _host(remote)


class ProxiedConnection(ServerConnection):
    """A ServerConnection that knows its client's real address.

    ``peer_host`` is the TCP peer (on a Unix socket ``unix:PATH``: the local
    proxy). ``client_host`` is the client it speaks for: the source of the
    PROXY header a trusted proxy sends first (taken off the stream here, before
    websockets' HTTP parser sees it), or the address the handshake check takes
    from X-Forwarded-For, or else the peer itself.

    A connection is closed, with one line in the log and no response, when it
    must start with a PROXY header and does not (malformed, too long, or not
    complete within ``PROXY_HEADER_TIMEOUT``), or when it brings one it may not
    (a peer not trusted, a proxy without --proxy-protocol, a second header).
    """

    proxies: ClassVar[TrustedProxies] = TrustedProxies()
    openings: ClassVar[OpeningSlots | None] = None  # None: no pacing (opening.py)
    heap: ClassVar[HeapSettler | None] = None  # told of each connection as it is accepted

    peer_host: str
    client_host: str
    _header: bytearray | None  # what came of a PROXY header still expected
    _header_deadline: asyncio.TimerHandle | None
    _open_deadline: asyncio.TimerHandle | None
    _first_data: bool  # nothing has gone to the HTTP parser yet
    _heard: bool  # anything came at all
    _early: bytes | None  # what came while it waited for a slot (then None: it has one)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.peer_host = self.client_host = _peer_host(transport, self.remote_address)
        self._header = None
        self._header_deadline = self._open_deadline = None
        self._first_data = True
        self._heard = False
        self._early = b""  # it waits, unless it has a slot at once
        if self.heap is not None:  # its objects are on the heap from now, waiting or not
            self.heap.accepted()
        if self.openings is None or self.openings.arrive(self):
            self._early = None
            self._start_deadlines()
        elif not self.transport.is_closing():  # (turned away: too many wait)
            # Left in the kernel until it has a slot. (uvloop starts reading after this
            # method whatever it asks: what comes first is kept, and it is paused then.)
            self.transport.pause_reading()

    def let_in(self) -> None:
        """``OpeningSlots``: it has a slot now."""
        self._start_deadlines()
        self.loop.call_soon(self._read_from_now)

    def _read_from_now(self) -> None:
        """What came while it waited first, then the rest, in order."""
        early, self._early = self._early, None
        if self.transport.is_closing():
            return
        if early:
            self.data_received(early)
        self.transport.resume_reading()

    def waiting_gone(self) -> bool:
        return self.transport.is_closing()

    def turn_away(self) -> None:
        """``OpeningSlots``: it may not wait (too many do, or too long)."""
        self.transport.abort()

    def _start_deadlines(self) -> None:
        """From its slot: the handshake's timeout, and a proxy's PROXY header's."""
        self._open_deadline = self.loop.call_later(OpeningSlots.OPEN_TIMEOUT,
                                                   self._handshake_overdue)
        if self.openings is not None:
            self.loop.call_later(OpeningSlots.FIRST_BYTES, self._silent)
        if self.proxies.expects_proxy_header(self.peer_host):
            self._header = bytearray()
            self._header_deadline = self.loop.call_later(
                PROXY_HEADER_TIMEOUT, self._refuse, logging.WARNING,
                f"closed a connection from proxy {self.peer_host}: no complete PROXY header "
                f"within {PROXY_HEADER_TIMEOUT:g} s",
            )

    def _silent(self) -> None:
        """A connection that sends nothing costs nothing: it holds no slot."""
        if not self._heard and self.openings is not None:
            self.openings.opened(self)

    def _handshake_overdue(self) -> None:
        if self.protocol.state is State.CONNECTING:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._early is not None:  # no slot yet
            self._early += data
            if len(self._early) > OpeningSlots.EARLY_BYTES and self.openings is not None:
                self.openings.too_early(self, len(self._early))
                return
            self.transport.pause_reading()
            return
        self._heard = True
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
        if self._open_deadline is not None:
            self._open_deadline.cancel()
        if self.openings is not None:
            self.openings.opened(self)  # its slot, if it held one, to the next
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


def connection_type(proxies: TrustedProxies, openings: OpeningSlots | None = None,
                    heap: HeapSettler | None = None) -> type[ProxiedConnection]:
    """The connection class for ``serve(create_connection=...)``, believing ``proxies``,
    paced by ``openings`` (then ``serve``'s own ``open_timeout`` must be None), each
    accepted one told to ``heap``."""

    class Connection(ProxiedConnection):
        pass

    Connection.proxies = proxies
    Connection.openings = openings
    Connection.heap = heap
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


class SoonWrites:
    """Frames that may wait a moment (presence notices), written a few at a time.

    Every join tells each member of its room (an ENTER notice); when every
    client comes back at once, that is most of the frames the server writes,
    each in a system call of its own, to each member several times a second.
    A frame sent with ``WebSocketPeer.send_soon`` goes out at once if its
    connection had none in the last ``DELAY``; otherwise it waits, and goes
    out with the next frame sent to the connection (any frame: order is
    kept), or ``DELAY`` after it began waiting, in one write with the others
    that waited. At light load nothing waits; under a burst a connection gets
    at most about one write of notices per ``DELAY``.

    Time is counted in ticks of ``DELAY / TICKS`` (a timer that runs only
    while something waits), so that each tick writes a share of the waiting
    connections, not all at once. One per server (its loop's thread).
    """

    __slots__ = ("_last_wrote", "_running", "_tick", "_waiting")

    DELAY = 0.5  # seconds
    TICKS = 8  # per DELAY

    def __init__(self) -> None:
        self._tick = 0
        self._running = False
        self._last_wrote = -self.TICKS  # the tick of the last write at once
        # (tick it began waiting, peer), oldest first.
        self._waiting: collections.deque[tuple[int, WebSocketPeer]] = collections.deque()

    def may_write(self, peer: WebSocketPeer) -> bool:
        """Whether ``peer`` may write a notice now (it wrote none for a ``DELAY``);
        if so, it is counted as writing one now."""
        if self._tick - peer.soon_tick < self.TICKS:
            return False
        peer.soon_tick = self._last_wrote = self._tick
        self._run()
        return True

    def wait(self, peer: WebSocketPeer) -> None:
        """``peer`` holds notices: write them a ``DELAY`` from now, if nothing else has."""
        self._waiting.append((self._tick, peer))
        self._run()

    def _run(self) -> None:
        if not self._running:
            self._running = True
            asyncio.get_running_loop().call_later(self.DELAY / self.TICKS, self._next_tick)

    def _next_tick(self) -> None:
        self._tick += 1
        due = self._tick - self.TICKS
        waiting = self._waiting
        while waiting and waiting[0][0] <= due:
            _, peer = waiting.popleft()
            peer.soon_tick = self._tick
            try:
                peer.write_soon()
            except Exception:  # one connection's fault must not hold the others' frames
                log.exception("writing %s's notices failed; dropping it", peer.address)
                peer.connection.transport.abort()
        if waiting or self._tick - self._last_wrote < self.TICKS:
            asyncio.get_running_loop().call_later(self.DELAY / self.TICKS, self._next_tick)
            return
        self._running = False
        self._tick += self.TICKS  # quiet: the next notice to anyone goes at once


class WebSocketPeer:
    __slots__ = ("_closing", "_framing", "_held", "_holding", "_max_output", "_soon",
                 "_soon_writes", "_tasks", "address", "connection", "soon_tick")

    def __init__(
        self, connection: ServerConnection, max_output: int, framing: SharedFraming,
        holding: HeldWrites | None = None, soon_writes: SoonWrites | None = None,
    ) -> None:
        self.connection = connection
        self._max_output = max_output
        # Extensions (compression) make each connection's frames its own.
        self._framing = None if connection.protocol.extensions else framing
        self._holding = holding or HeldWrites()
        # Frames held while a batch is handed out (compressed: in the protocol's
        # own buffer, and this list stays empty); None when nothing is held.
        self._held: list[bytes] | None = None
        # Notices waiting (``send_soon``), as ``_held``; None when none waits.
        self._soon: list[bytes] | None = None
        self._soon_writes = soon_writes or SoonWrites()
        self.soon_tick = -SoonWrites.TICKS  # SoonWrites': when it last wrote notices
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
        if self._soon is not None:  # the notices waiting go first, in the same write
            self._write_with_soon((data,))
        elif self._framing is not None:
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
        if self._soon is not None:
            self._write_with_soon(datas)
        elif self._framing is not None:
            connection.transport.writelines(self._framing.wire_all(datas))  # one write
        else:
            for data in datas:
                connection.protocol.send_text(data)
            connection.send_data()
        self._check_output()

    def send_soon(self, data: bytes) -> None:
        """A frame that may wait a moment (``SoonWrites``): a presence notice."""
        connection = self.connection
        if self._closing or connection.protocol.state is not State.OPEN:
            return
        if self._holding.active or (self._soon is None and self._soon_writes.may_write(self)):
            self.send(data)
            return
        soon = self._soon
        if soon is None:
            soon = self._soon = []
            self._soon_writes.wait(self)
        if self._framing is None:  # compressed in order now; written with the next write
            connection.protocol.send_text(data)
        else:
            soon.append(self._framing.wire(data))

    def write_soon(self) -> None:
        """``SoonWrites``: the notices have waited long enough."""
        if self._soon is None:
            return  # gone out with another frame
        connection = self.connection
        if self._closing or connection.protocol.state is not State.OPEN:
            self._soon = None  # never after a close frame
            return
        self._write_with_soon(())
        self._check_output()

    def _write_with_soon(self, datas: Sequence[bytes]) -> None:
        """The waiting notices, then ``datas``, in one write."""
        soon, self._soon = self._soon, None
        connection = self.connection
        if self._framing is None:
            for data in datas:
                connection.protocol.send_text(data)
            connection.send_data()
            return
        assert soon is not None
        if len(datas) == 1:
            soon.append(self._framing.wire(datas[0]))
        elif datas:
            soon.extend(self._framing.wire_all(datas))
        if len(soon) == 1:
            connection.transport.write(soon[0])
        else:
            connection.transport.writelines(soon)

    def _hold(self, datas: Sequence[bytes]) -> None:
        held = self._held
        if held is None:
            held = self._soon or []  # the notices waiting go first
            self._soon = None
            self._held = held
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
        if self._soon is not None and self.connection.protocol.state is State.OPEN:
            self._write_with_soon(())  # before the close frame
        self._closing = True
        task = asyncio.create_task(self.connection.close(code, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
