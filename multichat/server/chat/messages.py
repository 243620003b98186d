"""Messages: send and announce (the hot path), changes to them, the writer's outcomes,
history.

Hot path of a ``send``: check membership (a set on the session), length and
the rate buckets, no query; hand the message to the ``MessageWriter``. Once
its batch commits, ``stored`` encodes the event once and publishes it once,
with the version its transaction read; the broker, the ``VersionGate`` and
the ``Cluster`` hand the same bytes to every member. Nothing here is done per
recipient.

An ``edit``, ``delete`` or ``react`` goes the same way, as a stored event
(EDIT, DELETE, REACTION) that names its ``target``: the store checks the
target and the author in the batch's transaction, so a change and a
deletion of the same message are judged in seq order, on any number of
processes. A send's ``reply_to`` is checked there too. ``history`` folds the
changes into the messages they change (``Store.messages_before``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from multichat.protocol import commands as cmd
from multichat.protocol import events
from multichat.protocol.codes import ErrorCode, MsgType
from multichat.server.chat.errors import ChatError, chat_error_for
from multichat.server.chat.session import Session
from multichat.server.chat.wire import event_frame
from multichat.server.store.records import Appended, NewMessage, Unchanged
from multichat.server.store.repository import now_ms
from multichat.server.store.writer import Outcome

if TYPE_CHECKING:
    from multichat.server.chat.service import ChatService

# A history reply stays under this many bytes (clients' default frame limit is
# 1 MiB); a page of long messages comes back shorter, and the client pages on.
HISTORY_MAX_BYTES = 512 * 1024


class SendContext:
    """What the writer hands back with an outcome: who sent it, and how to answer."""

    __slots__ = ("announce", "ref", "session")

    def __init__(self, session: Session, ref: str | None, announce: bool) -> None:
        self.session = session
        self.ref = ref
        self.announce = announce


class Messages:
    """What is said in rooms, and what was said."""

    def __init__(self, chat: ChatService) -> None:
        self._chat = chat

    def send(self, session: Session, command: cmd.Send) -> None:
        assert session.user is not None
        if command.room not in session.rooms:
            raise ChatError(ErrorCode.ROOM_ACCESS_DENIED, "join the room before sending to it")
        self._check_length(command.message)
        self._spend(session)
        self._submit(session, command.room, command.message, MsgType.MESSAGE,
                     client_id=command.client_id, ref=command.ref, announce=False,
                     reply_to=command.reply_to, files=command.files or ())

    def change(self, session: Session, command: cmd.Edit | cmd.Delete | cmd.React) -> None:
        """An edit, deletion or reaction: stored, numbered and sent like a message.

        Whether the target is a live message of the room, and whether this
        user may change it, the store decides when it stores the change.
        """
        assert session.user is not None
        if command.room not in session.rooms:
            raise ChatError(ErrorCode.ROOM_ACCESS_DENIED,
                            "join the room before changing its messages")
        text: str | None = None
        emoji: str | None = None
        on: bool | None = None
        match command:
            case cmd.Edit():
                self._check_length(command.message)
                kind, text = MsgType.EDIT, command.message
            case cmd.Delete():
                kind = MsgType.DELETE
            case cmd.React():
                kind, emoji, on = MsgType.REACTION, command.emoji, command.on
        self._spend(session)
        # Superusers may delete anyone's message in a room; in a direct conversation only
        # the author deletes (PROTOCOL.md). A room's kind never changes.
        room = self._chat.reconciler.rooms_by_id.get(command.room)
        superuser_may_delete = room is not None and not room.is_direct
        message = NewMessage(
            room_id=command.room, user_id=session.user.id, username=session.user.username,
            msg_type=kind, text=text, client_id=command.client_id, ts_ms=now_ms(),
            target=command.seq, emoji=emoji, on=on,
            superuser_may_delete=superuser_may_delete,
        )
        session.writing()
        self._chat.writer.submit(message, SendContext(session, command.ref, False))

    def _check_length(self, text: str) -> None:
        max_chars = self._chat.config.max_message_chars
        if len(text) > max_chars:
            raise ChatError(ErrorCode.MESSAGE_TOO_LONG,
                            f"messages are limited to {max_chars} characters")

    @staticmethod
    def _spend(session: Session) -> None:
        """Sends and changes take from the same buckets: the connection's and the user's."""
        if not session.send_bucket.take():
            raise ChatError(ErrorCode.RATE_LIMITED, "you are sending too fast; slow down")
        if session.user_bucket is not None and not session.user_bucket.take():
            raise ChatError(ErrorCode.RATE_LIMITED,
                            "your connections together are sending too fast; slow down")

    async def announce(self, session: Session, command: cmd.Announce) -> None:
        chat = self._chat
        await chat.admin.still_superuser(session)
        room = await chat.db.run(chat.store.room, command.room) if command.room else None
        if room is None or room.is_direct:  # no admin command reaches a direct conversation
            raise ChatError(ErrorCode.ROOM_INVALID, "no such room")
        if len(command.message) > chat.config.max_message_chars:
            raise ChatError(ErrorCode.MESSAGE_TOO_LONG)
        self._submit(session, room.id, command.message, command.msg_type,
                     client_id=None, ref=command.ref, announce=True)

    def _submit(
        self,
        session: Session,
        room_id: int,
        text: str,
        msg_type: MsgType,
        *,
        client_id: str | None,
        ref: str | None,
        announce: bool,
        reply_to: int | None = None,
        files: tuple[str, ...] = (),
    ) -> None:
        assert session.user is not None
        message = NewMessage(
            room_id=room_id,
            user_id=session.user.id,
            username=session.user.username,
            msg_type=msg_type,
            text=text,
            client_id=client_id,
            ts_ms=now_ms(),
            reply_to=reply_to,
            files=files,
        )
        session.writing()
        self._chat.writer.submit(message, SendContext(session, ref, announce))

    def stored(self, context: SendContext, outcome: Outcome) -> None:
        """A message's batch committed (or failed): broadcast it, or tell its sender."""
        session = context.session
        try:
            self._settled(context, outcome)
        finally:
            session.written()

    def _settled(self, context: SendContext, outcome: Outcome) -> None:
        session = context.session
        if isinstance(outcome, Unchanged):
            return  # a reaction that changed nothing: nothing stored, nothing said
        if not isinstance(outcome, Appended):
            error = chat_error_for(outcome)
            session.send(events.error(error.code, error.detail, context.ref))
            return
        data = events.encode(event_frame(outcome.message))
        room_id = outcome.message.room_id
        if outcome.duplicate:
            session.peer.send(data)  # a resend: the sender alone learns it is stored
        else:
            self._chat.broker.publish(room_id, outcome.message.seq, data, outcome.version)
            if (not context.announce and room_id not in session.rooms
                    and session in self._chat.sessions):
                session.peer.send(data)  # the sender left meanwhile: still confirm it
        if context.announce:
            session.send(events.admin_reply("announced", event_frame(outcome.message),
                                            context.ref))

    async def history(self, session: Session, command: cmd.History) -> None:
        chat = self._chat
        room = await chat.rooms.accessible_room(session, command.room)
        if command.around is not None:
            messages = await chat.db.run(
                chat.store.messages_around, room.id, command.around, command.limit)
        else:
            messages = await chat.db.run(
                chat.store.messages_before, room.id, command.before, command.limit)
        # The page may hold events stored after a change that excludes this session:
        # let the change reach the sessions, then judge by what they know now.
        await chat.reconciler.settle()
        chat.rooms.check_access(session, chat.reconciler.rooms_by_id.get(room.id))
        frames = [event_frame(message) for message in messages]
        budget = HISTORY_MAX_BYTES
        keep = len(frames)
        while keep > 0:
            budget -= len(events.encode(frames[keep - 1])) + 1
            if budget < 0:
                break
            keep -= 1
        session.send(events.history(room.id, frames[keep:], command.ref))
