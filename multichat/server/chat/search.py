"""Search: the messages a user may see that hold the words they typed.

A search runs in one room (refused as any command on that room is:
``ROOM_INVALID`` for none or another's direct conversation,
``ROOM_ACCESS_DENIED`` for a staff room) or in every room and direct
conversation the user may see now (``Room.visible_to``, over the rooms as the
store has them once this process has caught up with its changes:
``Reconciler.settle``). The store reads its index for those rooms only
(``Store.search``); a change read alongside the page (a room made staff-only,
a conversation one left) is applied before the answer, and results from a
room the session may no longer see are left out, as ``history`` does.

Each search spends the command bucket (``ChatService._dispatch``) and stops
after ``SEARCH_TIME_BUDGET`` (``LIMIT_REACHED``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from multichat.protocol import commands as cmd
from multichat.protocol import events
from multichat.server.chat.session import Session
from multichat.server.chat.wire import event_frame

if TYPE_CHECKING:
    from multichat.server.chat.service import ChatService

# Seconds one search may take in the database before it is stopped. A two-word query
# takes milliseconds at a million messages (docs/benchmarks.md); only a query whose
# matches lie almost all in rooms the user may not see scans long enough to meet this.
SEARCH_TIME_BUDGET = 1.0
# A page stays under this many bytes, as a history page does (clients' default frame
# limit is 1 MiB); a page of long messages comes back shorter, with its cursor.
SEARCH_MAX_BYTES = 512 * 1024


class Search:
    """Finds what was said, in the rooms one may see."""

    def __init__(self, chat: ChatService) -> None:
        self._chat = chat

    async def search(self, session: Session, command: cmd.Search) -> None:
        chat = self._chat
        user = session.user
        assert user is not None
        if command.room is not None:
            rooms = [(await chat.rooms.accessible_room(session, command.room)).id]
        else:
            await chat.reconciler.settle()
            user = session.user or user
            rooms = [room.id for room in chat.reconciler.rooms_by_id.values()
                     if room.visible_to(user)]
        page = await chat.db.run(chat.store.search, command.words, rooms, command.before,
                                 command.limit, budget=SEARCH_TIME_BUDGET)
        await chat.reconciler.settle()
        user = session.user
        if user is None:
            return  # signed out meanwhile
        by_id = chat.reconciler.rooms_by_id
        found = [(message_id, event_frame(message))
                 for message_id, message in zip(page.ids, page.messages, strict=True)
                 if (seen := by_id.get(message.room_id)) is not None and seen.visible_to(user)]
        more, cursor = page.more, page.next_before
        budget = SEARCH_MAX_BYTES
        for keep, (_, frame) in enumerate(found):
            budget -= len(events.encode(frame)) + 1
            if budget < 0 and keep > 0:
                found = found[:keep]
                more, cursor = True, found[-1][0]
                break
        session.send(events.search_results(command.query, [frame for _, frame in found], more,
                                           cursor if more else None, command.ref))
