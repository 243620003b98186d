"""Each room's events in seq order with no gaps, whatever order the broker brings them in.

Between processes, events of one room arrive out of order (process B's seq 6
may reach Redis before A's seq 5) or not at all (Redis was down). The
``RoomSequencer`` of a process remembers, per room with local members, the
last seq handed out; it holds an event that comes early until the ones before
it arrive, and when they do not within ``GAP_WAIT`` (or after a reconnect) it
reads them from the store, where every event is before it is published. So
every member of every process sees one order, with nothing missing.

Presence notices (no seq) pass straight through. In one process the broker
delivers in order already and the chat layer does not use this at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from multichat.server.chat.version_gate import Onward

log = logging.getLogger(__name__)

# Seconds an early event waits for the ones before it before the store is asked.
# Redis normally reorders by well under a millisecond; waiting longer only delays
# the room's members when a publish was really lost.
GAP_WAIT = 0.25

# Stored events read per query when filling a gap.
FILL_PAGE = 200

# fetch(room_id, after_seq, limit) -> [(seq, frame bytes), ...]: stored events after a seq.
FetchFn = Callable[[int, int, int], Awaitable[list[tuple[int, bytes]]]]


class _Room:
    __slots__ = ("filling", "last", "pending", "timer")

    def __init__(self, last: int | None) -> None:
        self.last = last  # None until the room's baseline is known
        self.pending: dict[int, bytes] = {}
        self.timer: asyncio.TimerHandle | None = None
        self.filling = False


class RoomSequencer:
    def __init__(self, deliver: Onward, fetch: FetchFn, *, gap_wait: float = GAP_WAIT) -> None:
        self._deliver = deliver
        self._fetch = fetch
        self._gap_wait = gap_wait
        self._rooms: dict[int, _Room] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.fills = 0  # store reads made to fill gaps, for tests and logs

    def watching(self, room_id: int) -> bool:
        return room_id in self._rooms

    def open(self, room_id: int) -> None:
        """Start ordering a room's events; they are held until ``baseline``."""
        if room_id not in self._rooms:
            self._rooms[room_id] = _Room(None)

    def baseline(self, room_id: int, last_seq: int) -> None:
        """The room's newest seq when its first local member joined; held events go out."""
        room = self._rooms.get(room_id)
        if room is None or room.last is not None:
            return
        room.last = last_seq
        for seq in [seq for seq in room.pending if seq <= last_seq]:
            del room.pending[seq]
        self._drain(room_id, room)

    def close_room(self, room_id: int) -> None:
        """The room's last local member left: forget it."""
        room = self._rooms.pop(room_id, None)
        if room is not None and room.timer is not None:
            room.timer.cancel()

    def offer(self, room_id: int, seq: int | None, data: bytes) -> None:
        """The broker's hand-off: deliver now, hold until the gap fills, or drop a repeat."""
        if seq is None:
            self._deliver(room_id, seq, data)
            return
        room = self._rooms.get(room_id)
        if room is None:
            return  # no local member: nobody to deliver to
        if room.last is not None and seq <= room.last:
            return  # seen already (from the store, or twice from the broker)
        if room.last is not None and seq == room.last + 1 and not room.filling:
            room.last = seq
            self._deliver(room_id, seq, data)
            if room.pending:
                self._drain(room_id, room)
            return
        room.pending[seq] = data
        if room.last is not None:
            self._arm(room_id, room)

    def resync(self) -> None:
        """Events may have been missed: read every room's newer events from the store."""
        for room_id, room in self._rooms.items():
            if room.last is not None:
                self._start_fill(room_id, room)

    async def close(self) -> None:
        for room_id in list(self._rooms):
            self.close_room(room_id)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- internals -------------------------------------------------------------------

    def _drain(self, room_id: int, room: _Room) -> None:
        """Deliver the held events that now follow on; wait for the rest."""
        assert room.last is not None
        while room.last + 1 in room.pending:
            room.last += 1
            self._deliver(room_id, room.last, room.pending.pop(room.last))
        if room.pending:
            self._arm(room_id, room)
        elif room.timer is not None:
            room.timer.cancel()
            room.timer = None

    def _arm(self, room_id: int, room: _Room) -> None:
        if room.timer is None and not room.filling:
            loop = asyncio.get_running_loop()
            room.timer = loop.call_later(self._gap_wait, self._on_gap_timeout, room_id)

    def _on_gap_timeout(self, room_id: int) -> None:
        room = self._rooms.get(room_id)
        if room is not None:
            room.timer = None
            self._start_fill(room_id, room)

    def _start_fill(self, room_id: int, room: _Room) -> None:
        if room.filling:
            return
        room.filling = True
        if room.timer is not None:
            room.timer.cancel()
            room.timer = None
        task = asyncio.create_task(self._fill(room_id, room), name=f"fill-room-{room_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fill(self, room_id: int, room: _Room) -> None:
        failed = False
        # The highest seq held when the last read began. Its event was published after
        # its commit, and its commit came after every lower seq's (the room's row lock
        # orders them), so that read saw every lower seq that exists. An event that
        # arrives during the read proves nothing about it: the rows below may still
        # have been uncommitted when the read's snapshot was taken.
        proven: int | None = None
        try:
            self.fills += 1
            while room.last is not None and self._rooms.get(room_id) is room:
                proven = max(room.pending, default=None)
                page = await self._fetch(room_id, room.last, FILL_PAGE)
                if self._rooms.get(room_id) is not room:
                    return  # the room was closed meanwhile
                for seq, data in page:
                    if seq == room.last + 1:
                        room.last = seq
                        room.pending.pop(seq, None)
                        self._deliver(room_id, seq, data)
                if len(page) < FILL_PAGE:
                    break
        except Exception:
            log.exception("reading room %d's missed events failed; trying again", room_id)
            failed = True
        finally:
            room.filling = False
        if self._rooms.get(room_id) is not room or room.last is None:
            return
        if failed:
            self._arm(room_id, room)
            return
        if (room.pending and room.last + 1 not in room.pending
                and room.last < min(room.pending) <= (proven if proven is not None else -1)):
            # The store has nothing between: the held events follow on after all (the
            # missing seqs belonged to a deleted room's rows, say). Never stall a room.
            # Held events newer than the read wait for the next one (``_drain`` arms it).
            self._skip_to(room_id, room)
        self._drain(room_id, room)

    def _skip_to(self, room_id: int, room: _Room) -> None:
        first = min(room.pending)
        assert room.last is not None
        log.warning("room %d: seqs %d..%d are not in the store; going on from %d",
                    room_id, room.last + 1, first - 1, first)
        room.last = first - 1
