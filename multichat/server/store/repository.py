"""The Store: every query the server and the admin CLI make, over plain records.

Synchronous (peewee is): the server calls it from its database threads, never
from the event loop. Each peewee connection belongs to the thread that opened
it. One Store is open per process at a time, because peewee binds models to a
database globally.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import peewee as pw

from multichat.server.protocol.codes import MsgType
from multichat.server.store import migrations
from multichat.server.store.database import open_database, url_for_data_dir
from multichat.server.store.errors import (
    StoreError,
    StoreUnavailable,
    TitleTaken,
    UnknownRoom,
    UnknownUser,
    UsernameTaken,
)
from multichat.server.store.models import Account, Message, Meta, Room, Token, database
from multichat.server.store.records import (
    Appended,
    Credentials,
    NewMessage,
    StoredMessage,
    TokenOwner,
    User,
)
from multichat.server.store.records import Room as RoomRecord


class _OpenStores:
    """Which Store is bound to the models: peewee binds them process-wide."""

    lock = threading.Lock()
    current: Store | None = None

# Rows per IN (...) query: SQLite's default limit of bound parameters is 999.
_IN_CHUNK = 500


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _user(row: Account) -> User:
    return User(
        id=row.id,
        username=row.username,
        is_staff=bool(row.is_staff),
        is_superuser=bool(row.is_superuser),
    )


def _room(row: Room) -> RoomRecord:
    return RoomRecord(id=row.id, title=row.title, staff_only=bool(row.staff_only))


def _from_row(row: Sequence[Any]) -> StoredMessage:
    """A message from the columns of _MessageSql's SELECTs, in their order."""
    room_id, seq, username, msg_type, text, client_id, ts_ms = row
    return StoredMessage(room_id, seq, username, MsgType(msg_type), text, client_id, ts_ms)


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]


class _MessageSql:
    """The hot path's statements, written once per database instead of per message.

    Building SQL through peewee's query objects costs more than running it;
    these are the same statements, in the engine's parameter style.
    """

    def __init__(self, db: pw.Database) -> None:
        p = db.param
        returning = not isinstance(db, pw.SqliteDatabase) or sqlite3.sqlite_version_info >= (
            3, 35, 0)
        columns = '"room_id", "seq", "username", "msg_type", "text", "client_id", "ts_ms"'
        self.find_resend = (
            f'SELECT {columns} FROM "message" WHERE "account_id" = {p} AND "client_id" = {p}'
        )
        # History and catch-up: read as tuples, not peewee models (a model per row
        # cost more than the query; bench history scenario).
        self.after = (
            f'SELECT {columns} FROM "message" WHERE "room_id" = {p} AND "seq" > {p} '
            f'ORDER BY "seq" LIMIT {p}'
        )
        self.before = (
            f'SELECT {columns} FROM "message" WHERE "room_id" = {p} AND "seq" < {p} '
            f'ORDER BY "seq" DESC LIMIT {p}'
        )
        self.newest = (
            f'SELECT {columns} FROM "message" WHERE "room_id" = {p} '
            f'ORDER BY "seq" DESC LIMIT {p}'
        )
        self.bump = f'UPDATE "room" SET "last_seq" = "last_seq" + 1 WHERE "id" = {p}'
        self.bump_returning = self.bump + ' RETURNING "last_seq"' if returning else None
        self.read_seq = f'SELECT "last_seq" FROM "room" WHERE "id" = {p}'
        # PostgreSQL locks a room's row from the bump to the commit. Two processes
        # whose batches bump the same rooms in different orders would deadlock,
        # so a batch first locks all its rooms in id order. SQLite locks the
        # whole database per transaction and needs nothing of the kind.
        self.lock_rooms = (
            f'SELECT "id" FROM "room" WHERE "id" = ANY({p}) ORDER BY "id" FOR NO KEY UPDATE'
            if isinstance(db, pw.PostgresqlDatabase) else None
        )
        self.insert = (
            'INSERT INTO "message" ("room_id", "seq", "account_id", "username", "msg_type", '
            f'"text", "client_id", "ts_ms") VALUES ({", ".join([p] * 8)})'
        )


class Store:
    """Users, rooms, tokens and messages in one database."""

    def __init__(self, db: pw.Database) -> None:
        self.db = db
        self._sql = _MessageSql(db)

    # -- opening and closing -------------------------------------------------

    @classmethod
    def open(cls, url: str, *, synchronous: str = "normal") -> Store:
        """Open (creating or upgrading as needed) the database at ``url``."""
        with _OpenStores.lock:
            if _OpenStores.current is not None:
                raise RuntimeError("a Store is already open in this process")
            db = open_database(url, synchronous=synchronous)
            database.initialize(db)
            try:
                migrations.migrate(db)
            except pw.PeeweeException as exc:
                db.close()
                raise StoreUnavailable(f"cannot prepare the database: {exc}") from exc
            except BaseException:
                db.close()
                raise
            store = cls(db)
            _OpenStores.current = store
            return store

    @classmethod
    def open_data_dir(cls, data_dir: Path, *, synchronous: str = "normal") -> Store:
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls.open(url_for_data_dir(data_dir), synchronous=synchronous)

    def close(self) -> None:
        """Close this thread's connection and release the process-wide binding."""
        with _OpenStores.lock:
            if _OpenStores.current is self:
                _OpenStores.current = None
        if not self.db.is_closed():
            self.db.close()

    def close_thread_connection(self) -> None:
        """Close the calling thread's connection (database threads call it on exit)."""
        if not self.db.is_closed():
            self.db.close()

    # -- SQLite: WAL checkpoints, lock waits ---------------------------------

    @property
    def is_sqlite(self) -> bool:
        return isinstance(self.db, pw.SqliteDatabase)

    def defer_checkpoints(self) -> None:
        """This thread's commits no longer checkpoint the WAL (store.checkpoints does)."""
        if self.is_sqlite:
            self.db.execute_sql("PRAGMA wal_autocheckpoint = 0")

    def set_busy_timeout(self, seconds: float) -> None:
        """How long this thread's statements wait for a lock another connection holds (SQLite).

        Past it SQLite gives up with "database is locked". Other engines wait
        for row locks as long as their own settings say.
        """
        if self.is_sqlite:
            self.db.execute_sql(f"PRAGMA busy_timeout = {round(seconds * 1000)}")

    def checkpoint(self) -> tuple[int, int, int]:
        """Copy the WAL back into the database as far as no reader needs it (PASSIVE).

        Returns SQLite's (busy, pages in the WAL, pages checkpointed); zeros elsewhere.
        """
        if not self.is_sqlite:
            return (0, 0, 0)
        row = self.db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return (int(row[0]), int(row[1]), int(row[2]))

    def schema_version(self) -> int:
        return migrations.current_version(self.db)

    # -- change counter --------------------------------------------------------

    def _bump_changes(self) -> None:
        """Count an admin change, so other processes (and the CLI's) notice it."""
        Meta.update(value=(Meta.value.cast("INTEGER") + 1).cast("TEXT")).where(
            Meta.key == "changes"
        ).execute()

    def changes(self) -> int:
        """A counter that every change to users, rooms or tokens' validity moves."""
        return int(Meta.get(Meta.key == "changes").value)

    # -- users -------------------------------------------------------------------

    def create_user(
        self, username: str, password_hash: str, *, is_staff: bool = False,
        is_superuser: bool = False,
    ) -> User:
        with self.db.atomic():
            if Account.select().where(Account.username == username).exists():
                raise UsernameTaken(username)
            try:
                row = Account.create(
                    username=username,
                    password_hash=password_hash,
                    is_staff=is_staff,
                    is_superuser=is_superuser,
                    created_ms=now_ms(),
                )
            except pw.IntegrityError as exc:
                raise UsernameTaken(username) from exc
            self._bump_changes()
        return _user(row)

    def user(self, username: str) -> User | None:
        row = Account.get_or_none(Account.username == username)
        return _user(row) if row else None

    def credentials(self, username: str) -> Credentials | None:
        row = Account.get_or_none(Account.username == username)
        return Credentials(_user(row), row.password_hash) if row else None

    def users(self) -> list[User]:
        return [_user(row) for row in Account.select().order_by(Account.username)]

    def users_by_id(self, ids: Sequence[int]) -> dict[int, User]:
        found: dict[int, User] = {}
        for chunk in _chunks(ids):
            for row in Account.select().where(Account.id.in_(chunk)):
                found[row.id] = _user(row)
        return found

    def count_superusers(self) -> int:
        return Account.select().where(Account.is_superuser == True).count()  # noqa: E712

    def update_user(
        self,
        username: str,
        *,
        password_hash: str | None = None,
        is_staff: bool | None = None,
        is_superuser: bool | None = None,
        keep_token_id: int | None = None,
    ) -> User:
        """Change a user; a new password revokes every token but ``keep_token_id``."""
        with self.db.atomic():
            row = Account.get_or_none(Account.username == username)
            if row is None:
                raise UnknownUser(username)
            if password_hash is not None:
                row.password_hash = password_hash
                revoked = Token.delete().where(Token.account == row.id)
                if keep_token_id is not None:
                    revoked = revoked.where(Token.id != keep_token_id)
                revoked.execute()
            if is_staff is not None:
                row.is_staff = is_staff
            if is_superuser is not None:
                row.is_superuser = is_superuser
            row.save()
            self._bump_changes()
        return _user(row)

    def rehash_password(self, username: str, password_hash: str) -> None:
        """Store the same password under new hashing parameters: no one is signed out."""
        Account.update(password_hash=password_hash).where(Account.username == username).execute()

    def delete_user(self, username: str) -> User:
        with self.db.atomic():
            row = Account.get_or_none(Account.username == username)
            if row is None:
                raise UnknownUser(username)
            # Explicit, so it holds on engines without ON DELETE support enabled.
            Token.delete().where(Token.account == row.id).execute()
            Message.update(account=None).where(Message.account == row.id).execute()
            row.delete_instance()
            self._bump_changes()
        return _user(row)

    # -- tokens --------------------------------------------------------------------

    def add_token(self, user_id: int, token_hash: str, expires_ms: int) -> int:
        row = Token.create(
            account=user_id, token_hash=token_hash, created_ms=now_ms(), expires_ms=expires_ms
        )
        return int(row.id)

    def token_owner(self, token_hash: str, at_ms: int) -> TokenOwner | None:
        """The user a live token belongs to; expired tokens are removed when met."""
        row = (
            Token.select(Token, Account)
            .join(Account)
            .where(Token.token_hash == token_hash)
            .get_or_none()
        )
        if row is None:
            return None
        if row.expires_ms <= at_ms:
            Token.delete().where(Token.id == row.id).execute()
            return None
        return TokenOwner(user=_user(row.account), token_id=row.id)

    def revoke_token(self, token_id: int) -> None:
        with self.db.atomic():
            Token.delete().where(Token.id == token_id).execute()
            self._bump_changes()

    def revoke_user_tokens(self, username: str) -> int:
        """Sign a user out everywhere (a lost laptop); return how many logins were revoked."""
        with self.db.atomic():
            row = Account.get_or_none(Account.username == username)
            if row is None:
                raise UnknownUser(username)
            revoked = int(Token.delete().where(Token.account == row.id).execute())
            self._bump_changes()
        return revoked

    def live_token_ids(self, token_ids: Sequence[int], at_ms: int) -> set[int]:
        live: set[int] = set()
        for chunk in _chunks(token_ids):
            query = Token.select(Token.id).where(Token.id.in_(chunk), Token.expires_ms > at_ms)
            live.update(row.id for row in query)
        return live

    def purge_expired_tokens(self, at_ms: int) -> int:
        return int(Token.delete().where(Token.expires_ms <= at_ms).execute())

    # -- rooms -----------------------------------------------------------------------

    def create_room(self, title: str, *, staff_only: bool = False) -> RoomRecord:
        with self.db.atomic():
            if Room.select().where(Room.title == title).exists():
                raise TitleTaken(title)
            try:
                row = Room.create(title=title, staff_only=staff_only, created_ms=now_ms())
            except pw.IntegrityError as exc:
                raise TitleTaken(title) from exc
            self._bump_changes()
        return _room(row)

    def room(self, room_id: int) -> RoomRecord | None:
        row = Room.get_or_none(Room.id == room_id)
        return _room(row) if row else None

    def room_by_title(self, title: str) -> RoomRecord | None:
        row = Room.get_or_none(Room.title == title)
        return _room(row) if row else None

    def rooms(self) -> list[RoomRecord]:
        return [_room(row) for row in Room.select().order_by(Room.title)]

    def update_room(
        self, room_id: int, *, title: str | None = None, staff_only: bool | None = None
    ) -> RoomRecord:
        with self.db.atomic():
            row = Room.get_or_none(Room.id == room_id)
            if row is None:
                raise UnknownRoom(room_id)
            if title is not None and title != row.title:
                if Room.select().where(Room.title == title).exists():
                    raise TitleTaken(title)
                row.title = title
            if staff_only is not None:
                row.staff_only = staff_only
            try:
                row.save()
            except pw.IntegrityError as exc:
                raise TitleTaken(str(title)) from exc
            self._bump_changes()
        return _room(row)

    def delete_room(self, room_id: int) -> RoomRecord:
        with self.db.atomic():
            row = Room.get_or_none(Room.id == room_id)
            if row is None:
                raise UnknownRoom(room_id)
            Message.delete().where(Message.room == room_id).execute()
            row.delete_instance()
            self._bump_changes()
        return _room(row)

    # -- messages --------------------------------------------------------------------

    def append_messages(self, batch: Sequence[NewMessage]) -> list[Appended | StoreError]:
        """Store a batch of messages in one transaction.

        Each message gets the next seq of its room, allocated by bumping the
        room's counter in the same transaction, so seqs have no gaps and no
        repeats whatever the engine or the number of processes. A message
        whose (author, client_id) is stored already is not stored again: its
        stored copy comes back marked as a duplicate. Should the database
        refuse one message (a race on a client_id with another process), the
        batch is redone with each message in a savepoint of its own, so the
        others still go in.
        """
        try:
            with self.db.atomic():
                self._lock_rooms(batch)
                return [self._append_or_refuse(new) for new in batch]
        except pw.IntegrityError:
            pass
        results: list[Appended | StoreError] = []
        with self.db.atomic():
            self._lock_rooms(batch)
            for new in batch:
                try:
                    with self.db.atomic():
                        results.append(self._append_or_refuse(new))
                except pw.IntegrityError as exc:
                    results.append(StoreError(f"the message was refused: {exc}"))
        return results

    def _lock_rooms(self, batch: Sequence[NewMessage]) -> None:
        rooms = {new.room_id for new in batch}
        if self._sql.lock_rooms is not None and len(rooms) > 1:
            self.db.execute_sql(self._sql.lock_rooms, (sorted(rooms),)).fetchall()

    def _append_or_refuse(self, new: NewMessage) -> Appended | StoreError:
        try:
            return self._append_one(new)
        except UnknownRoom as exc:  # nothing was written for it
            return exc

    def _append_one(self, new: NewMessage) -> Appended:
        sql, execute = self._sql, self.db.execute_sql
        if new.client_id is not None and new.user_id is not None:
            earlier = execute(sql.find_resend, (new.user_id, new.client_id)).fetchone()
            if earlier is not None:
                return Appended(_from_row(earlier), duplicate=True)
        if sql.bump_returning is not None:
            row = execute(sql.bump_returning, (new.room_id,)).fetchone()
        else:
            cursor = execute(sql.bump, (new.room_id,))
            row = execute(sql.read_seq, (new.room_id,)).fetchone() if cursor.rowcount else None
        if row is None:
            raise UnknownRoom(new.room_id)
        seq = int(row[0])
        execute(sql.insert, (new.room_id, seq, new.user_id, new.username, int(new.msg_type),
                             new.text, new.client_id, new.ts_ms))
        stored = StoredMessage(
            room_id=new.room_id,
            seq=seq,
            username=new.username,
            msg_type=new.msg_type,
            text=new.text,
            client_id=new.client_id,
            ts_ms=new.ts_ms,
        )
        return Appended(stored, duplicate=False)

    def messages_after(self, room_id: int, since: int, limit: int) -> list[StoredMessage]:
        """Up to ``limit`` messages with seq > since, oldest first."""
        cursor = self.db.execute_sql(self._sql.after, (room_id, since, limit))
        return [_from_row(row) for row in cursor.fetchall()]

    def messages_before(
        self, room_id: int, before: int | None, limit: int
    ) -> list[StoredMessage]:
        """The newest ``limit`` messages with seq < before (or the newest), oldest first."""
        if before is None:
            cursor = self.db.execute_sql(self._sql.newest, (room_id, limit))
        else:
            cursor = self.db.execute_sql(self._sql.before, (room_id, before, limit))
        rows = [_from_row(row) for row in cursor.fetchall()]
        rows.reverse()
        return rows

    def last_seq(self, room_id: int) -> int:
        value = Room.select(Room.last_seq).where(Room.id == room_id).scalar()
        if value is None:
            raise UnknownRoom(room_id)
        return int(value)
