"""Keeping live sessions in line with the store: changes made elsewhere, and their order.

Every change to users, rooms or tokens moves the store's version. The
``Reconciler`` notices (a poll every ``poll_interval``, a broker's notice, an
admin command of this process, an event waiting at the ``VersionGate``) and
applies it: sessions whose token is gone are closed, members leave rooms they
may no longer see, changed room lists and accounts are pushed; then the
events that waited for that version go on. ``settle()`` is how a read of the
store (a join, history, catch-up) waits for the changes read with it.

``epoch`` moves when a reconcile takes its list of sessions and when it
applies its findings: a login or join that read the store across such a
moment may have been missed by it, and checks again. docs/architecture.md,
"Changes made elsewhere, and in what order", tells the whole story.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from multichat.protocol import events
from multichat.server.chat.session import Session
from multichat.server.chat.version_gate import VersionGate
from multichat.server.chat.wire import room_entry_frame, user_frame
from multichat.server.store.errors import StoreError
from multichat.server.store.records import Room, RoomLists, User
from multichat.server.store.repository import now_ms

if TYPE_CHECKING:
    from multichat.server.chat.service import ChatService

log = logging.getLogger(__name__)


class Reconciler:
    """Brings this process's sessions in line with the store, and gates events until then."""

    def __init__(self, chat: ChatService) -> None:
        self._chat = chat
        # Events wait here for the changes stored before them to reach the sessions.
        self.gate = VersionGate(chat.cluster.onward, self.request,
                                overflowed=chat.cluster.resync)
        self.epoch = 0
        self.rooms_by_id: dict[int, Room] = {}
        self._rooms: list[Room] = []
        self._seen: tuple[int, int] = (-1, -1)  # (changes, revocations) last reconciled
        self._lock = asyncio.Lock()
        self._poller: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._wanted = False
        self._stopping = False

    async def start(self) -> None:
        chat = self._chat
        self._seen = await chat.db.run(chat.store.counters)
        self.gate.advance(self._seen[0])
        self._set_rooms(await chat.db.run(chat.store.rooms))

    def start_polling(self) -> None:
        self._poller = asyncio.create_task(self._poll(), name="change-poller")

    async def stop_polling(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)

    async def stop(self) -> None:
        """No reconcile after this: the store is about to close."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _poll(self) -> None:
        """Notice changes made elsewhere (the admin CLI, other servers) and apply them."""
        chat = self._chat
        while True:
            await asyncio.sleep(chat.config.poll_interval)
            try:
                if await chat.db.run(chat.store.counters) != self._seen or self.gate.holding:
                    self.request()
            except StoreError as exc:
                log.warning("checking for changes failed: %s", exc)
            except Exception:
                log.exception("checking for changes failed")

    def request(self) -> None:
        """Reconcile soon, once more after any reconcile already under way."""
        self._wanted = True
        if self._stopping:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._reconcile_while_wanted(), name="reconcile")

    async def _reconcile_while_wanted(self) -> None:
        while self._wanted:
            self._wanted = False
            try:
                await self.reconcile()
            except StoreError as exc:  # the poller asks again while events wait
                log.warning("bringing sessions in line with the database failed: %s", exc)
            except Exception:
                log.exception("bringing sessions in line with the database failed")

    async def reconcile_or_retry(self) -> None:
        """Reconcile now; if the store fails, leave it to the background (events wait)."""
        try:
            await self.reconcile()
        except StoreError as exc:
            log.warning("bringing sessions in line with the database failed: %s", exc)
            self.request()

    async def settle(self) -> None:
        """Return once this process's sessions reflect the store as it is now.

        A store error propagates: a caller that cannot know the session's rights
        answers SERVER_ERROR rather than judge by stale ones.
        """
        chat = self._chat
        await self.settle_at(await chat.db.run(chat.store.changes))

    async def settle_at(self, changes: int) -> None:
        """``settle``, with the change counter read already (in the trip that read what
        must be judged by it, after it: ``Store.room_as_of``)."""
        if changes > self.gate.applied:
            await self.reconcile()

    async def reconcile(self) -> None:
        """Bring every session in line with the database's users, tokens and rooms.

        Sessions whose token is no longer live (logged out, revoked, expired,
        its user deleted) are closed; members lose rooms that were deleted or
        became staff-only for them; everyone gets the room list again if it
        changed, and users their account if it changed. Then the events that
        waited for this version go on (``VersionGate``).
        """
        chat = self._chat
        async with self._lock:
            counters = await chat.db.run(chat.store.counters)
            rooms = await chat.db.run(chat.store.rooms)
            self.epoch += 1
            # Each session is judged by the token it had when we asked; sessions that
            # log in (or out and in) meanwhile are not judged by these answers.
            checked = {s: s.token_hash for s in chat.sessions if s.token_hash is not None}
            hashes = sorted(set(checked.values()))
            owners = await chat.db.run(chat.store.token_owners, hashes, now_ms())
            # Room lists go out to whom the change of rooms concerns, and to users whose
            # account changed: with each one's read seqs, read in one more query only then.
            audience = room_list_audience(self._rooms, rooms)
            pushed_to = {user.id for s, user in ((s, owners.get(h)) for s, h in checked.items())
                         if user is not None and (_concerns(audience, user) or user != s.user)}
            state = (await chat.db.run(chat.store.room_lists, pushed_to) if pushed_to
                     else RoomLists({}, {}))
            self._apply(rooms, owners, checked, state, audience)
            self.epoch += 1
            self._seen = counters
            self.gate.advance(counters[0])

    def _set_rooms(self, rooms: list[Room]) -> None:
        self._rooms = rooms
        self.rooms_by_id = {room.id: room for room in rooms}

    def _apply(self, rooms: list[Room], owners: dict[str, User],
               checked: dict[Session, str], state: RoomLists, audience: Audience) -> None:
        chat = self._chat
        self._set_rooms(rooms)
        by_id = self.rooms_by_id
        room_lists: dict[User, bytes] = {}  # encoded once per user, not per session

        def room_list(user: User) -> bytes:
            if user not in room_lists:
                room_lists[user] = events.encode(events.rooms(
                    room_entry_frame(state.entry(room, user.id))
                    for room in rooms if room.visible_to(user)))
            return room_lists[user]

        for session in list(chat.sessions):
            if session.token_hash is None or checked.get(session) != session.token_hash:
                continue
            user = owners.get(session.token_hash)
            if user is None:
                chat.accounts.revoke(session)
                continue
            account_changed = user != session.user
            if account_changed:
                session.user = user
                session.send(events.account(user_frame(user)))
            for room_id in list(session.rooms):
                room = by_id.get(room_id)
                if room is None or not room.visible_to(user):
                    chat.rooms.leave_room(session, room_id)
                    session.send(events.left(room_id))
            if _concerns(audience, user) or account_changed:
                session.peer.send(room_list(user))


# Whose room lists a change of rooms concerns: nobody (no change), everyone (None: a
# room an admin made, changed or deleted), or the members of the direct conversations
# that changed (made, or a member renamed or deleted), so that a thousand people
# opening conversations do not push a thousand room lists to everyone.
Audience = frozenset[int] | None


def room_list_audience(old: list[Room], new: list[Room]) -> Audience:
    if old == new:
        return frozenset()
    changed = set(old).symmetric_difference(new)
    if any(not room.is_direct for room in changed):
        return None
    return frozenset(member for room in changed for member in room.member_ids)


def _concerns(audience: Audience, user: User) -> bool:
    return audience is None or user.id in audience
