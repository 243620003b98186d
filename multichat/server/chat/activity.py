"""Activity: connections hear of new events in the rooms they may see but have not joined.

PROTOCOL.md Part 2: a logged-in connection that may see a room (``Room.visible_to``,
the one rule of who sees what) and has not joined it gets

    {"activity": "R", "seq": N, "username": U, "mention": BOOL}

for each new stored event of msg_type 0 to 3, so the unread counts of rooms
not open stay right. Edits, deletions, reactions and ENTER/LEAVE notices say
nothing here: they add nothing to read.

Where it is fed. Every process sees every stored event once, after the
``VersionGate`` (so no event overtakes a change that hides its room):
``Cluster.onward`` hands each to ``Activity.offer`` as well as to the room's
members. With several processes that is before the ``RoomSequencer``, which
follows only rooms with members on this process and drops the rest; events
of one room may then come a little out of order, so a room's activity never
goes back to an older seq (``ActivityCoalescer``). Events lost while Redis was
down are refilled from the store for members, not for activity: a connection
reads the right ``last_seq`` again in its next room list.

What it costs. Members pay nothing more: an event is decoded (once, for all
recipients) only when this process has a connection outside its room. Then
each room's frames are coalesced (``ActivityCoalescer``): the first event of
a quiet room goes out at once, the ones after it within ``ACTIVITY_WINDOW``
are folded into one frame with the newest seq, sent when the window ends.
A frame is encoded once per room and flush and the same bytes go to every
recipient (framed once, ``net.peer.SharedFraming``); only users the folded
events mention get the other of the two frames, ``"mention": true``.

Who gets it is decided when a frame goes out, not when its events came:
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
from typing import TYPE_CHECKING, Protocol

from multichat.protocol import events, frames
from multichat.protocol.codes import LISTED_TYPES
from multichat.protocol.mentions import mentioned_names, name_form

if TYPE_CHECKING:
    from multichat.server.chat.service import ChatService

# Seconds a room's activity is folded into one frame after the frame before it: at
# most two frames a second per room, the "few per second" PROTOCOL.md allows. A
# client's unread badge lags by half a second at worst, unnoticed by a person; and
# in a busy room each person outside it costs two frames a second, not one per
# message (bench/, "activity": 1,000 users in 10 rooms).
ACTIVITY_WINDOW = 0.5

NO_NAMES: frozenset[str] = frozenset()


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


class _Window:
    __slots__ = ("names", "pending", "timer")

    def __init__(self, timer: Timer) -> None:
        self.timer = timer
        self.pending: Burst | None = None  # folded since the window opened, if anything
        self.names: set[str] = set()  # the pending burst's names, gathered here


class ActivityCoalescer:
    """Per room: the first event of a quiet room at once, then one frame per window.

    ``emit(room_id, burst)`` is called with the event that opens a window, and
    when a window ends with events folded into it (which opens the next one);
    a window that ends with nothing folded leaves the room quiet. So the last
    event of a burst always goes out, at most ``window`` seconds late, and a
    room emits at most two frames in its first window and one per window after.
    No I/O and no clock: ``schedule`` is the running loop's ``call_later``
    unless a test passes its own.
    """

    def __init__(self, emit: Callable[[int, Burst], None], *,
                 window: float = ACTIVITY_WINDOW, schedule: Schedule | None = None) -> None:
        self._emit = emit
        self._window = window
        self._schedule = schedule
        self._windows: dict[int, _Window] = {}
        # room -> (seq, username) of the newest event seen: between processes a room's
        # events may arrive slightly out of order, and its activity must not go back.
        self._newest: dict[int, tuple[int, str]] = {}

    def add(self, room_id: int, seq: int, username: str, names: Set[str] = NO_NAMES) -> None:
        newest = self._newest.get(room_id)
        if newest is not None and seq <= newest[0]:
            seq, username = newest  # a late event: its mentions count, its seq is old news
        else:
            self._newest[room_id] = (seq, username)
        window = self._windows.get(room_id)
        if window is None:
            self._open(room_id)
            self._emit(room_id, Burst(seq, username, names))
            return
        window.names |= names
        if window.pending is None:
            window.pending = Burst(seq, username, window.names)
        else:
            window.pending.seq, window.pending.username = seq, username

    def forget(self, room_id: int) -> None:
        """The room is gone: drop what waits for it."""
        window = self._windows.pop(room_id, None)
        if window is not None:
            window.timer.cancel()
        self._newest.pop(room_id, None)

    def close(self) -> None:
        for window in self._windows.values():
            window.timer.cancel()
        self._windows.clear()

    @property
    def busy_rooms(self) -> int:
        """Rooms in a window now (for tests: 0 once every room has gone quiet)."""
        return len(self._windows)

    def _open(self, room_id: int) -> None:
        schedule = self._schedule or asyncio.get_running_loop().call_later
        self._windows[room_id] = _Window(schedule(self._window, lambda: self._ends(room_id)))

    def _ends(self, room_id: int) -> None:
        window = self._windows.pop(room_id, None)
        if window is None or window.pending is None:
            return  # quiet: the room's next event goes out at once
        self._open(room_id)
        self._emit(room_id, window.pending)


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

    def _tell(self, room_id: int, burst: Burst) -> None:
        """One frame to every logged-in connection that may see the room and is not in it."""
        chat = self._chat
        room = chat.reconciler.rooms_by_id.get(room_id)
        if room is None:
            self.coalescer.forget(room_id)  # deleted meanwhile
            return
        plain = events.encode(events.activity(room_id, burst.seq, burst.username, False))
        marked: bytes | None = None
        names = burst.names
        for session in tuple(chat.sessions):  # a send may drop a connection
            user = session.user
            if user is None or room_id in session.rooms or not room.visible_to(user):
                continue
            if names and name_form(user.username) in names:
                if marked is None:
                    marked = events.encode(
                        events.activity(room_id, burst.seq, burst.username, True))
                session.peer.send(marked)
            else:
                session.peer.send(plain)
