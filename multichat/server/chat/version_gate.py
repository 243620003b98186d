"""No event overtakes a change: events wait until this process has applied what came before.

Every stored event carries the version of the store it was stored at (the
change counter its transaction saw). A change that takes something away (a
room made staff-only, a user demoted or deleted, a login revoked) bumps that
counter when it commits. So an event with a version above what this
process's sessions reflect may be for someone the change excludes: it waits
here, in arrival order with everything after it, until the process has
reconciled its sessions with the store at that version (members moved out,
accounts updated, revoked sessions closed); then it goes on. In one process
the wait is one reconcile; between processes, the event that arrives before
the "something changed" notice waits for it the same way.

The hot path pays two integer comparisons per event (none per recipient).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)

# deliver(room_id, seq or None, frame bytes): the next stage (the sequencer, or fan-out).
Onward = Callable[[int, int | None, bytes], None]

# Events held at most (while this process cannot reconcile: its store is down but
# other processes go on). Past it they are dropped and ``overflowed`` is called:
# between processes the sequencer refills the rooms from the store when it can.
MAX_HELD = 100_000


class VersionGate:
    """Passes events on in arrival order, holding those newer than ``applied``."""

    def __init__(self, onward: Onward, wanted: Callable[[], None], *,
                 overflowed: Callable[[], None] = lambda: None, applied: int = 0,
                 max_held: int = MAX_HELD) -> None:
        """``wanted()`` is called when an event waits for a version not applied yet."""
        self._onward = onward
        self._wanted = wanted
        self._overflowed = overflowed
        self._max_held = max_held
        self.applied = applied
        self._held: deque[tuple[int, int | None, bytes, int]] = deque()

    @property
    def holding(self) -> int:
        return len(self._held)

    def offer(self, room_id: int, seq: int | None, data: bytes, version: int) -> None:
        if version <= self.applied and not self._held:
            self._onward(room_id, seq, data)
            return
        self._held.append((room_id, seq, data, version))
        if len(self._held) > self._max_held:
            log.warning("dropped %d events that waited for the database; rooms are refilled "
                        "from it when it answers", len(self._held))
            self._held.clear()
            self._overflowed()
            return
        if version > self.applied:
            self._wanted()

    def advance(self, version: int) -> None:
        """The sessions now reflect ``version``: pass on what waited for it."""
        self.applied = max(self.applied, version)
        held = self._held
        while held and held[0][3] <= self.applied:
            room_id, seq, data, _ = held.popleft()
            self._onward(room_id, seq, data)
        if held:
            self._wanted()
