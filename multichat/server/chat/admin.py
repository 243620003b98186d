"""Administration over the protocol: rooms and users, by superusers only.

Admin rights are read from the store at each command (``still_superuser``),
so a demotion, deletion or sign-out made elsewhere counts at once. A change
is applied to this process's sessions, and announced to the others, before
its reply goes out (apply, then reply); events stored after it wait for it
everywhere (``VersionGate``). Store errors (a taken name, the last superuser)
reach the client through ``errors.chat_error_for``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from multichat.protocol import commands as cmd
from multichat.protocol import events, names
from multichat.protocol.codes import ErrorCode
from multichat.protocol.events import Frame
from multichat.server.chat.errors import ChatError
from multichat.server.chat.session import Session
from multichat.server.chat.wire import room_frame, user_frame
from multichat.server.store.errors import UnknownRoom
from multichat.server.store.repository import now_ms

if TYPE_CHECKING:
    from multichat.server.chat.service import ChatService


def valid_username(name: str) -> bool:
    """Whether a new account may have exactly this name (``names.normalize_username``)."""
    try:
        return names.normalize_username(name) == name
    except ValueError:
        return False


class Administration:
    """The admin commands (announce is a message: ``Messages.announce``)."""

    def __init__(self, chat: ChatService) -> None:
        self._chat = chat

    async def still_superuser(self, session: Session) -> None:
        """Admin rights as the store has them now, not as this process last heard.

        A demotion, deletion or sign-out made elsewhere (the CLI, another
        process) counts at once, not at the next poll: one indexed query.
        """
        chat = self._chat
        digest = session.token_hash
        owner = await chat.db.run(chat.store.token_owner, digest, now_ms()) if digest else None
        if owner is None:
            chat.accounts.revoke(session)
            raise ChatError(ErrorCode.USER_HAS_TO_LOGIN, "your login was revoked")
        if not owner.user.is_superuser:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "only superusers may do that")

    async def carry_out(self, session: Session, command: cmd.Command) -> None:
        """Apply the command, bring this process's sessions in line, then reply."""
        chat = self._chat
        await self.still_superuser(session)
        reply = await self._change(session, command)
        if not isinstance(command, cmd.ListUsers):
            # The change reaches this process's sessions before its reply goes out;
            # events stored after it wait for it everywhere (VersionGate).
            chat.broker.notify_changes()
            await chat.reconciler.reconcile_or_retry()
        session.send(reply)

    async def _change(self, session: Session, command: cmd.Command) -> Frame:
        chat = self._chat
        run, store, ref = chat.db.run, chat.store, command.ref
        match command:
            case cmd.CreateRoom():
                room = await run(store.create_room, command.title, staff_only=command.staff_only)
                return events.admin_reply("room.created", room_frame(room), ref)
            case cmd.UpdateRoom():
                if not command.room:
                    raise UnknownRoom(command.room)
                room = await run(store.update_room, command.room, title=command.title,
                                 staff_only=command.staff_only)
                return events.admin_reply("room.updated", room_frame(room), ref)
            case cmd.DeleteRoom():
                if not command.room:
                    raise UnknownRoom(command.room)
                room = await run(store.delete_room, command.room)
                return events.admin_reply("room.deleted", room_frame(room), ref)
            case cmd.ListUsers():
                users = await run(store.users)
                return events.admin_reply("users", [user_frame(u) for u in users], ref)
            case cmd.CreateUser():
                if not valid_username(command.username):
                    raise ChatError(ErrorCode.BAD_REQUEST,
                                    names.username_refusal(command.username))
                password_hash = await chat.accounts.hash_password(session, command.password)
                user = await run(store.create_user, command.username, password_hash,
                                 is_staff=command.is_staff, is_superuser=command.is_superuser)
                return events.admin_reply("user.created", user_frame(user), ref)
            case cmd.UpdateUser():
                new_hash = (
                    await chat.accounts.hash_password(session, command.password)
                    if command.password is not None else None
                )
                user = await run(store.update_user, command.username,
                                 password_hash=new_hash, is_staff=command.is_staff,
                                 is_superuser=command.is_superuser,
                                 keep_token_hash=session.token_hash)
                return events.admin_reply("user.updated", user_frame(user), ref)
            case cmd.DeleteUser():
                user = await run(store.delete_user, command.username)
                return events.admin_reply("user.deleted", user_frame(user), ref)
        raise AssertionError(f"unhandled command {command!r}")  # pragma: no cover
