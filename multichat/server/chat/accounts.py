"""Accounts and tokens: logging in (password or token), logging out, revocation.

A logged-in session *is* the token it logged in with (``Session.token_hash``):
logging out revokes that token and closes every other connection on it, here
and (through the broker's notice and a reconcile) on other processes.

Argon2 checks are slow on purpose, so they are rationed: ``HashSlots`` gives
each connection, address and account one turn at most, and the ``LoginGuard``
slows down guessing at one name without locking anyone else out. A valid
token always logs in.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING

from multichat.protocol import commands as cmd
from multichat.protocol import events, names
from multichat.protocol.codes import CloseCode, ErrorCode
from multichat.protocol.passwords import check_password
from multichat.server.chat.errors import ChatError
from multichat.server.chat.limits import address_key
from multichat.server.chat.session import Session
from multichat.server.chat.tickets import TICKET_TTL
from multichat.server.chat.tokens import new_token, token_hash
from multichat.server.chat.wire import user_frame
from multichat.server.store.records import User
from multichat.server.store.repository import now_ms

if TYPE_CHECKING:
    from multichat.server.chat.service import ChatService

log = logging.getLogger(__name__)


class Accounts:
    """Who a session is: login, logout, and closing a session whose login was revoked."""

    def __init__(self, chat: ChatService) -> None:
        self._chat = chat

    async def password_login(self, session: Session, command: cmd.PasswordLogin) -> None:
        chat = self._chat
        self._require_logged_out(session)
        # The store finds ALICE, fullwidth or look-alike spellings of alice by one key:
        # they count as one name here too.
        name = names.username_key(command.username)
        self._check_login_guard(session, name)
        epoch = chat.reconciler.epoch
        credentials = await chat.db.run(chat.store.credentials, command.username)
        password_hash = credentials.password_hash if credentials else None
        async with chat.hash_slots.turn(self._hash_keys(session, name)):
            self._check_login_guard(session, name)  # others' failures while we waited
            ok = await asyncio.to_thread(chat.passwords.verify, password_hash, command.password)
            if ok and credentials and chat.passwords.needs_rehash(credentials.password_hash):
                new_hash = await asyncio.to_thread(chat.passwords.hash, command.password)
                await chat.db.run(chat.store.rehash_password, credentials.user.username,
                                  new_hash)
        if not ok or credentials is None:
            address = address_key(session.address)
            chat.login_guard.failed(address, name)
            # One line a failure, as "logged in" is one a login: someone guessing shows
            # (the name escaped, as typed; never the password).
            wait = chat.login_guard.retry_after(address, name)
            log.info("failed login for %r from %s%s", command.username, session.address,
                     f"; that name waits {math.ceil(wait)} s there" if wait else "")
            raise ChatError(ErrorCode.LOGIN_FAILED, "wrong username or password")
        chat.login_guard.succeeded(address_key(session.address), name)
        token = new_token()
        digest = token_hash(token)
        expires = now_ms() + int(chat.config.token_ttl_days * 86_400_000)
        await chat.db.run(chat.store.add_token, credentials.user.id, digest, expires)
        self._logged_in(session, credentials.user, token, digest=digest, ref=command.ref,
                        epoch=epoch)

    async def token_login(self, session: Session, command: cmd.TokenLogin) -> None:
        """A valid token always logs in: no lock-out of anyone's making stands in its way.

        Guessing one is hopeless (256 random bits) and costs the server one
        indexed query, bounded per connection by the command rate.
        """
        chat = self._chat
        self._require_logged_out(session)
        epoch = chat.reconciler.epoch
        digest = token_hash(command.token)
        owner = await chat.db.run(chat.store.token_owner, digest, now_ms())
        if owner is None:
            raise ChatError(ErrorCode.LOGIN_FAILED, "the saved login has expired; log in again")
        self._logged_in(session, owner.user, command.token, digest=digest, ref=command.ref,
                        epoch=epoch)

    async def cookie_login(self, session: Session, token: str) -> bool:
        """Log in a handshake that carried the browser's session cookie.

        As a token login, but the reply leaves the token out: the cookie is
        HttpOnly so that the page's script never reads it, and echoing it here
        would hand it to any script on the page. An unknown or revoked cookie
        gets LOGIN_FAILED (the page then shows its form). Whether it logged in.
        """
        chat = self._chat
        epoch = chat.reconciler.epoch
        digest = token_hash(token)
        owner = await chat.db.run(chat.store.token_owner, digest, now_ms())
        if owner is None:
            session.send(events.error(ErrorCode.LOGIN_FAILED,
                                      "your session has ended; log in again"))
            return False
        self._logged_in(session, owner.user, None, digest=digest, ref=None, epoch=epoch)
        return True

    async def session_ticket(self, session: Session, command: cmd.SessionTicket) -> None:
        """A one-time ticket for the cookie that will name this session's own token."""
        chat = self._chat
        if session.user is None or token_hash(command.token) != session.token_hash:
            raise ChatError(ErrorCode.PERMISSION_DENIED,
                            "a ticket is only for the token this connection logged in with")
        ticket = await chat.tickets.issue(command.token, session.user.id)
        session.send(events.session_ticket(ticket, int(TICKET_TTL), command.ref))

    async def logout(self, session: Session, command: cmd.Logout) -> None:
        """Revoke the token in use; every other connection on it is closed (4001) too."""
        chat = self._chat
        digest = session.token_hash
        if digest is not None:
            # The session lets go of its token before revoking it: a reconcile that
            # reads the token gone (by this very logout, committed but not yet answered
            # here) must not close the session as revoked elsewhere. Seen under load:
            # the connection closed 4001 instead of hearing its logout answered.
            session.token_hash = None
            try:
                revoked = await chat.db.run(chat.store.revoke_token, digest)
            except BaseException:
                session.token_hash = digest  # still logged in with it
                chat.reconciler.request()  # a reconcile meanwhile passed the session by
                raise
            if not revoked:
                self.revoke(session)  # revoked already (elsewhere): a stale session is closed
                return
        chat.rooms.leave_all(session)
        self.set_user(session, None)
        if digest is not None:
            for other in [s for s in chat.sessions if s.token_hash == digest]:
                self.revoke(other)  # the same token on other connections of this process
            chat.broker.notify_changes()  # ... and of the others
        session.send(events.logout_ok(command.ref))

    async def hash_password(self, session: Session, password: str) -> str:
        """An Argon2 hash for a new password, in one of the session's turns."""
        try:
            check_password(password)
        except ValueError as exc:
            raise ChatError(ErrorCode.BAD_REQUEST, str(exc)) from exc
        chat = self._chat
        async with chat.hash_slots.turn(self._hash_keys(session)):
            return await asyncio.to_thread(chat.passwords.hash, password)

    def set_user(self, session: Session, user: User | None) -> None:
        """Log a session in or out, with the buckets its user's sessions share."""
        chat = self._chat
        if session.user is not None:
            chat.user_buckets.release(session.user.id)
            chat.join_buckets.release(session.user.id)
            chat.read_markers.logged_out(session.user.id, session)
            session.user_bucket = session.join_bucket = None
        session.user = user
        if user is not None:
            session.user_bucket = chat.user_buckets.acquire(user.id)
            session.join_bucket = chat.join_buckets.acquire(user.id)
            chat.read_markers.logged_in(user.id, session)

    def revoke(self, session: Session) -> None:
        """The session's login is gone: out of its rooms, and closed (4001)."""
        log.info("closing %r: its login was revoked", session)
        self._chat.rooms.leave_all(session)
        self.set_user(session, None)
        session.token_hash = None
        self._chat.sessions.pop(session, None)
        session.peer.close(CloseCode.SESSION_REVOKED, "login revoked")

    def _logged_in(
        self, session: Session, user: User, token: str | None, *, digest: str, ref: str | None,
        epoch: int,
    ) -> None:
        """Log the session in as the token ``digest`` names, read from the store at ``epoch``."""
        self.set_user(session, user)
        session.token_hash = digest
        session.send(events.login_ok(user_frame(user), token, ref))
        log.info("%s logged in from %s", user.username, session.address)
        if epoch != self._chat.reconciler.epoch:
            # A reconcile took its list of sessions while we read the store: it may
            # have judged by a revocation we did not see, without seeing us.
            self._chat.reconciler.request()

    @staticmethod
    def _require_logged_out(session: Session) -> None:
        if session.user is not None:
            raise ChatError(ErrorCode.BAD_REQUEST, "already logged in; log out first")

    def _check_login_guard(self, session: Session, name: str) -> None:
        wait = self._chat.login_guard.retry_after(address_key(session.address), name)
        if wait > 0:
            raise ChatError(
                ErrorCode.RATE_LIMITED,
                f"too many failed logins; try again in {math.ceil(wait)} s",
            )

    @staticmethod
    def _hash_keys(session: Session, name: str | None = None) -> list[str]:
        """Whom an Argon2 check is done for: each may hold one of the HASH_SLOTS at a time."""
        keys = [f"connection:{id(session)}", f"address:{address_key(session.address)}"]
        if name is not None:
            keys.append(f"account:{name}")
        return keys
