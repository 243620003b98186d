"""Direct conversations: ``dm.open`` finds or makes the room of a set of people.

The same people (the opener included; order and repeats ignored) always get
the same room: the store finds it by its members' account ids, and two
processes making it at once meet on a unique key (``Store.open_direct``).
Once made, it is a room like any other for its members (join, send, read,
history) and, to anyone else, an id that does not exist
(``Rooms.check_access``, ``Room.visible_to``). A new one reaches its members'
room lists the way every change does: the store's change counter moves, and
the reconcile pushes the lists, to the members only (``room_list_audience``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from multichat.protocol import commands as cmd
from multichat.protocol import events, names
from multichat.protocol.codes import ErrorCode
from multichat.server.chat.errors import ChatError
from multichat.server.chat.rooms import Rooms
from multichat.server.chat.session import Session
from multichat.server.chat.wire import room_entry_frame

if TYPE_CHECKING:
    from multichat.server.chat.service import ChatService


class DirectConversations:
    """``dm.open``: one command, answered with the conversation's room entry."""

    def __init__(self, chat: ChatService) -> None:
        self._chat = chat

    async def open(self, session: Session, command: cmd.DmOpen) -> None:
        chat = self._chat
        user = session.user
        assert user is not None
        # Making a conversation tells every member's connections, like a join tells a
        # room's: it spends the user's join bucket (finding an existing one does too,
        # so probing who exists is as slow as joining).
        Rooms.spend_join(session)
        others = {names.username_key(name) for name in command.users}
        others.discard(names.username_key(user.username))
        if len(others) > cmd.MAX_DM_OTHERS:
            raise ChatError(ErrorCode.BAD_REQUEST,
                            f"a conversation has at most {cmd.MAX_DM_OTHERS} other people")
        entry, made = await chat.db.run(chat.store.open_direct, user.id, command.users,
                                        max_new_per_hour=chat.config.max_new_direct_per_hour)
        if made:
            # Everyone's lists reach them before the reply, as an admin's change does.
            chat.broker.notify_changes()
            await chat.reconciler.reconcile_or_retry()
        else:
            await chat.reconciler.settle()
        if session.user is None:
            return  # revoked meanwhile
        session.send(events.dm(room_entry_frame(entry), command.ref))
