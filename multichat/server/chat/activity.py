"""Activity: connections hear of new events in the rooms they may see but have not joined.

PROTOCOL.md Part 2: a logged-in connection that may see a room (``Room.visible_to``,
the one rule of who sees what) and has not joined it gets

    {"activity": "R", "seq": N, "username": U, "mention": BOOL}

for each new stored event of msg_type 0 to 3, so the unread counts of rooms
not open stay right. Edits, deletions, reactions and ENTER/LEAVE notices say
nothing here: they add nothing to read.

Where it is fed. Every process sees every stored event once, after the
``VersionGate`` (so no event overtakes a change that hides its room):
``Cluster.pass_on`` hands each to ``Activity.offer`` as well as to the room's
members. With several processes that is before the ``RoomSequencer``, which
follows only rooms with members on this process and drops the rest; events
of one room may then come a little out of order, so a room's activity never
goes back to an older seq (``ActivityCoalescer``). Events lost while Redis was
down are refilled from the store for members, not for activity: a connection
reads the right ``last_seq`` again in its next room list.

What it costs. Members pay nothing more: an event is decoded (once, for all
recipients) only when this process has a connection outside its room. Then
each room's frames are coalesced (``ActivityCoalescer``): the first event of
a quiet room goes out at once, the ones after it are folded into one frame
with the newest seq, sent at the next tick (every ``ACTIVITY_WINDOW``). The
ticks are shared by all rooms, so a connection gets the frames of all its
busy rooms in one write (``Peer.send_frames``): a system call per connection
and tick, not per room. A frame is encoded once per room and tick and the
same bytes go to every recipient (framed once, ``net.peer.SharedFraming``);
only users the folded events mention get the other of the two frames,
``"mention": true``.

Who gets it is decided when a frame goes out (``TELL_SLICE`` connections at a
time, each slice checked when its turn comes), not when its events came:
logged in, may see the room now, and not in it (``room_id not in
session.rooms``). A join adds the room to ``session.rooms`` in the same step
as it starts holding the room's events (``Session.hold``), before its first
await, so a connection in the middle of joining gets the room's events
(held, then released after its catch-up), never activity for them as well;
a frame folded before a join and due after it goes to no one who joined.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Set
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from multichat.protocol import events, frames
from multichat.protocol.codes import LISTED_TYPES
from multichat.protocol.mentions import mentioned_names, name_form
from multichat.server.chat.session import Session
from multichat.server.store.records import Room

if TYPE_CHECKING:
    from multichat.server.chat.service import ChatService

# Seconds between the ticks that send what was folded: at most two frames a second
# per room (the first of a quiet room at once, then one a tick), within the "few per
# second" PROTOCOL.md allows. A client's unread badge lags by a second at worst, and
# only in a room that is busy anyway; each person outside a busy room costs one frame
# a second, not one per message. Half a second cost 23-33% more server CPU per message
# at 50 msg/s with 1,000 users in 10 rooms, over the 30% the issue allows; a second
# halves that fixed cost (bench/, "activity"; docs/benchmarks.md).
ACTIVITY_WINDOW = 1.0

NO_NAMES: frozenset[str] = frozenset()

# Connections told per turn of the event loop: a tick for thousands of viewers would
# otherwise hold members' events back for tens of milliseconds (bench/, p99).
TELL_SLICE = 200


class Timer(Protocol):
    def cancel(self) -> None: ...


# schedule(delay, callback) -> what cancels it: the loop's call_later, or a test's own.
Schedule = Callable[[float, Callable[[], None]], Timer]


@dataclass(slots=True)
class Burst:
    """What one activity frame tells: the newest event folded into it, and the names
    (``mentions.name_form``) any of its events mentioned."""

    seq: int
    username: str
    names: Set[str]
    count: int = 1  # the events folded into it


# emit([(room_id, burst), ...]): frames due at once, one per room.
Emit = Callable[[list[tuple[int, Burst]]], None]


class ActivityCoalescer:
    """The first event of a quiet room at once; after it, what each room folded, per tick.

    One clock for every room: a tick every ``window`` seconds while any room
    is busy. A room becomes busy when its first event is emitted at once; the
    events after it are folded (the newest seq and sender, every name
    mentioned) and emitted at the next tick, which keeps it busy one more
    window; a tick that finds nothing folded leaves it quiet. So the last
    event of a burst always goes out, at most ``window`` seconds late; a room
    emits at most once a tick, plus once after a quiet tick. Shared ticks let
    a connection get the frames of all its busy rooms in one write
    (``Peer.send_frames``), where rooms ticking apart would cost one each.
    No I/O and no clock: ``schedule`` is the running loop's ``call_later``
    unless a test passes its own.
    """

    def __init__(self, emit: Emit, *, window: float = ACTIVITY_WINDOW,
                 schedule: Schedule | None = None) -> None:
        self._emit = emit
        self._window = window
        self._schedule = schedule
        # The busy rooms, each with what it folded since the last tick (None: nothing).
        self._busy: dict[int, tuple[Burst, set[str]] | None] = {}
        self._timer: Timer | None = None
        # room -> (seq, username) of the newest event seen: between processes a room's
        # events may arrive slightly out of order, and its activity must not go back.
        self._newest: dict[int, tuple[int, str]] = {}

    def add(self, room_id: int, seq: int, username: str, names: Set[str] = NO_NAMES) -> None:
        newest = self._newest.get(room_id)
        if newest is not None and seq <= newest[0]:
            seq, username = newest  # a late event: its mentions count, its seq is old news
        else:
            self._newest[room_id] = (seq, username)
        busy = self._busy
        if room_id not in busy:
            busy[room_id] = None
            self._arm()
            self._emit([(room_id, Burst(seq, username, names))])
            return
        folded = busy[room_id]
        if folded is None:
            gathered = set(names)
            busy[room_id] = (Burst(seq, username, gathered), gathered)
            return
        burst, gathered = folded
        burst.seq, burst.username = seq, username
        burst.count += 1
        gathered |= names

    def forget(self, room_id: int) -> None:
        """The room is gone: drop what waits for it."""
        self._busy.pop(room_id, None)
        self._newest.pop(room_id, None)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._busy.clear()

    @property
    def busy_rooms(self) -> int:
        """Rooms that are not quiet (for tests: 0 once everything due has gone out)."""
        return len(self._busy)

    def _arm(self) -> None:
        if self._timer is None:
            schedule = self._schedule or asyncio.get_running_loop().call_later
            self._timer = schedule(self._window, self._tick)

    def _tick(self) -> None:
        self._timer = None
        due = [(room_id, folded[0]) for room_id, folded in self._busy.items()
               if folded is not None]
        self._busy = dict.fromkeys(room_id for room_id, _ in due)  # busy one more window
        if self._busy:
            self._arm()
        if due:
            self._emit(due)


class Activity:
    """Tells the connections outside a room of its new events (``activity`` frames)."""

    def __init__(self, chat: ChatService, *, enabled: bool = True,
                 window: float = ACTIVITY_WINDOW, schedule: Schedule | None = None) -> None:
        """``enabled=False`` (``ServerConfig.activity``) only to measure what it costs."""
        self._chat = chat
        self._enabled = enabled
        self.coalescer = ActivityCoalescer(self._tell, window=window, schedule=schedule)

    def offer(self, room_id: int, seq: int, data: bytes) -> None:
        """A stored event of the room (its frame's bytes), as the room's members get it."""
        chat = self._chat
        if not self._enabled or len(chat.sessions) <= len(chat.presence.sessions(room_id)):
            return  # every connection of this process is in the room: nobody to tell
        frame = frames.decode_frame(data)
        if not isinstance(frame, frames.RoomEvent) or frame.msg_type not in LISTED_TYPES:
            return
        names = mentioned_names(frame.message) if frame.message else NO_NAMES
        self.coalescer.add(room_id, seq, frame.username, names)

    def close(self) -> None:
        self.coalescer.close()

    def _tell(self, due: list[tuple[int, Burst]]) -> None:
        """To every logged-in connection, in one write, the frames of the rooms it may see
        and is not in."""
        chat = self._chat
        rooms = chat.reconciler.rooms_by_id
        told: list[_Told] = []
        for room_id, burst in due:
            room = rooms.get(room_id)
            if room is None:
                self.coalescer.forget(room_id)  # deleted meanwhile
            else:
                told.append(_Told(room, burst))
        if told:
            self._tell_some(told, tuple(chat.sessions), 0)

    def _tell_some(self, told: list[_Told], sessions: tuple[Session, ...], start: int) -> None:
        """``_tell`` for the sessions from ``start``, a slice at a time: members' events
        are delivered between slices, not held up behind a whole process's activity."""
        end = start + TELL_SLICE
        if end < len(sessions):
            asyncio.get_running_loop().call_soon(self._tell_some, told, sessions, end)
        # Each slice judges by the rooms as they are now: a change applied between two
        # slices (a room made staff-only, deleted) counts for the slices after it.
        rooms = self._chat.reconciler.rooms_by_id
        for session in sessions[start:end]:
            user = session.user
            if user is None:
                continue
            form = None
            datas = []
            for one in told:
                room = rooms.get(one.room.id)
                if room is None or room.id in session.rooms or not room.visible_to(user):
                    continue
                names = one.burst.names
                if names:
                    form = form or _name_form(user.username)
                    if form in names:
                        datas.append(one.marked())
                        continue
                datas.append(one.plain)
            if len(datas) == 1:
                session.peer.send(datas[0])  # framed once for all (SharedFraming.wire)
            elif datas:
                session.peer.send_frames(datas)


# A username's form for mentions, computed once per user rather than once per frame.
_name_form = lru_cache(maxsize=4096)(name_form)


class _Told:
    """One room's frame of a tick: encoded once, and once more for those it mentions."""

    __slots__ = ("_marked", "burst", "plain", "room")

    def __init__(self, room: Room, burst: Burst) -> None:
        self.room = room
        self.burst = burst
        self.plain = events.encode(events.activity(room.id, burst.seq, burst.username, False,
                                                   burst.count))
        self._marked: bytes | None = None

    def marked(self) -> bytes:
        if self._marked is None:
            burst = self.burst
            self._marked = events.encode(
                events.activity(self.room.id, burst.seq, burst.username, True, burst.count))
        return self._marked
