"""The Store: every query the server and the admin CLI make, over plain records.

Synchronous (peewee is): the server calls it from its database threads, never
from the event loop. Each peewee connection belongs to the thread that opened
it. One Store is open per process at a time, because peewee binds models to a
database globally.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import peewee as pw

from multichat.protocol import names
from multichat.protocol.codes import LISTED_TYPES, MsgType
from multichat.protocol.commands import MAX_DM_OTHERS
from multichat.protocol.events import DIRECT_KIND, ROOM_KIND
from multichat.protocol.words import words as words_of
from multichat.server.store import files as file_rows
from multichat.server.store import migrations, postgres_append, search_index, web_tickets
from multichat.server.store.database import make_private_dir, open_database, url_for_data_dir
from multichat.server.store.errors import (
    InvalidMessage,
    LastSuperuser,
    NoOneElse,
    NotAllowed,
    SearchTooLong,
    SeqOutOfRange,
    StoreError,
    StoreUnavailable,
    TitleTaken,
    TooManyMembers,
    TooManyStarted,
    UnknownFile,
    UnknownMember,
    UnknownRoom,
    UnknownUser,
    UsernameTaken,
)
from multichat.server.store.models import (
    DIRECT_MARK,
    Account,
    Message,
    Meta,
    ReadMarker,
    Room,
    RoomMember,
    Token,
    database,
)
from multichat.server.store.postgres_connection import PostgresDatabase
from multichat.server.store.records import (
    Appended,
    Credentials,
    FileRecord,
    NewMessage,
    Read,
    RoomEntry,
    RoomLists,
    SearchPage,
    StoredMessage,
    TokenOwner,
    Unchanged,
    User,
)
from multichat.server.store.records import Room as RoomRecord


class _OpenStores:
    """Which Store is bound to the models: peewee binds them process-wide."""

    lock = threading.Lock()
    current: Store | None = None

_T = TypeVar("_T")
# One message's outcome before its batch's version is known: (stored, duplicate), a
# reaction that changed nothing, or why not.
_Outcome = tuple[StoredMessage, bool] | Unchanged | StoreError
# What a change's store check may refuse with; nothing is written before it does.
_REFUSALS = (UnknownRoom, InvalidMessage, NotAllowed, UnknownFile)

# PostgreSQL's advisory lock between message batches (shared) and changes (exclusive).
VERSION_LOCK = 0x6D63_7631  # "mcv1"

# Rows per IN (...) query: SQLite's default limit of bound parameters is 999.
_IN_CHUNK = 500
# Above every id: "before" when a search starts from the newest.
_NO_ID = 2**63 - 1
# PostgreSQL's SQLSTATE for a statement stopped by statement_timeout.
_QUERY_CANCELED = "57014"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _user(row: Account) -> User:
    return User(
        id=row.id,
        username=row.username,
        is_staff=bool(row.is_staff),
        is_superuser=bool(row.is_superuser),
    )


# A room as its records are read: id, title, staff_only, kind (as tuples: a peewee model
# per row cost 80 ms for 2,000 rooms, on every reconcile).
_ROOM_COLUMNS = (Room.id, Room.title, Room.staff_only, Room.kind)
RoomRow = tuple[int, str, bool, str]


def _room(row: RoomRow, members: Sequence[tuple[int, str]] = ()) -> RoomRecord:
    """A room's record; a direct conversation's with its members, titled by their names."""
    room_id, title, staff_only, kind = row
    if kind != DIRECT_KIND:
        return RoomRecord(id=room_id, title=title, staff_only=bool(staff_only))
    names_ = tuple(sorted(name for _, name in members))
    return RoomRecord(id=room_id, title=", ".join(names_), staff_only=False, kind=DIRECT_KIND,
                      member_ids=frozenset(account for account, _ in members),
                      member_names=names_)


def _with_members(rows: Sequence[RoomRow], *, every_room: bool = False) -> list[RoomRecord]:
    """Records of the rooms, the direct ones' members read in one more query (one for all
    of them when ``rows`` are ``every_room``)."""
    direct = [row[0] for row in rows if row[3] == DIRECT_KIND]
    members: dict[int, list[tuple[int, str]]] = {}
    if direct:  # a query object only then: building one costs more than a room's row
        query = RoomMember.select(RoomMember.room, Account.id, Account.username).join(Account)
        chunks = [query] if every_room else [query.where(RoomMember.room.in_(chunk))
                                             for chunk in _chunks(direct)]
        db = Room._meta.database
        for chunk in chunks:
            sql, params = chunk.sql()
            for room_id, account_id, username in db.execute_sql(sql, params).fetchall():
                members.setdefault(room_id, []).append((account_id, username))
    return [_room(row, members.get(row[0], ())) for row in rows]


def _room_rows(query: Any) -> list[RoomRow]:
    """The rows of a query of ``_ROOM_COLUMNS`` (and more), as the engine gives them."""
    sql, params = query.sql()
    return [(row[0], row[1], bool(row[2]), row[3], *row[4:])
            for row in Room._meta.database.execute_sql(sql, params).fetchall()]


def _room_row(row: Room) -> RoomRow:
    return (row.id, row.title, bool(row.staff_only), row.kind)


def direct_key(account_ids: Iterable[int]) -> str:
    """What finds a direct conversation: its members' account ids, sorted (never reused)."""
    return ",".join(str(i) for i in sorted(set(account_ids)))


def _account_named(name: str) -> Account | None:
    """The account called exactly ``name``, else the one whose name has its key.

    ``Alice`` finds ``alice``. The exact name comes first so that an account
    named before keys existed, set aside as a look-alike of another
    (store.name_keys), stays reachable by its own name.
    """
    row = Account.get_or_none(Account.username == name)
    if row is None:
        row = Account.get_or_none(Account.username_key == names.username_key(name))
    return row


def _room_titled(title: str) -> Room | None:
    """The room titled exactly ``title``, else the one whose title has its key (never
    a direct conversation: they have no title of their own)."""
    row = Room.get_or_none((Room.title == title) & (Room.kind == ROOM_KIND))
    if row is None:
        row = Room.get_or_none((Room.title_key == names.title_key(title))
                               & (Room.kind == ROOM_KIND))
    return row


def _admin_room(room_id: int) -> Room:
    """A room an admin may change: UnknownRoom for a direct conversation, as for none."""
    row = Room.get_or_none((Room.id == room_id) & (Room.kind == ROOM_KIND))
    if row is None:
        raise UnknownRoom(room_id)
    return row


def _from_row(row: Sequence[Any]) -> StoredMessage:
    """A message from the columns of _MessageSql's SELECTs, in their order."""
    room_id, seq, username, msg_type, text, client_id, ts_ms, reply_to, target, emoji, on = row
    kind = MsgType(msg_type)
    return StoredMessage(room_id, seq, username, kind, text, client_id, ts_ms, reply_to,
                         target, emoji, None if on is None else bool(on),
                         deleted=text is None and kind is MsgType.MESSAGE)


def _stored(new: NewMessage, seq: int, files: tuple[FileRecord, ...]) -> StoredMessage:
    """The message ``new`` as stored at ``seq``."""
    return StoredMessage(room_id=new.room_id, seq=seq, username=new.username,
                         msg_type=new.msg_type, text=new.text, client_id=new.client_id,
                         ts_ms=new.ts_ms, reply_to=new.reply_to, target=new.target,
                         emoji=new.emoji, on=new.on, files=files)


def _fold(messages: list[StoredMessage], changes: Iterable[StoredMessage]) -> list[StoredMessage]:
    """Each message as it is now: its later edits, deletion and reactions applied."""
    texts: dict[int, str | None] = {}
    deleted: set[int] = set()
    reactions: dict[int, dict[str, list[str]]] = {}
    for change in changes:
        target = change.target
        assert target is not None
        if change.msg_type is MsgType.EDIT:
            texts[target] = change.text
        elif change.msg_type is MsgType.DELETE:
            deleted.add(target)
        elif change.msg_type is MsgType.REACTION and change.emoji is not None:
            users = reactions.setdefault(target, {}).setdefault(change.emoji, [])
            if change.on and change.username not in users:
                users.append(change.username)
            elif not change.on and change.username in users:
                users.remove(change.username)
    folded = []
    for message in messages:
        seq = message.seq
        now = message
        if seq in deleted or message.deleted:
            now = dataclasses.replace(message, text=None, deleted=True)
        elif seq in texts or seq in reactions:
            now = dataclasses.replace(
                message, text=texts.get(seq, message.text), edited=seq in texts,
                reactions=tuple((emoji, tuple(users))
                                for emoji, users in reactions.get(seq, {}).items() if users))
        folded.append(now)
    return folded


def _holds(text: str, query_words: Sequence[str]) -> bool:
    """Whether ``text`` has, for each query word, a word that begins with it."""
    found = words_of(text)
    return all(any(word.startswith(q) for word in found) for q in query_words)


def _chunks(ids: Sequence[_T]) -> Iterable[Sequence[_T]]:
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
        columns = ('"room_id", "seq", "username", "msg_type", "text", "client_id", "ts_ms", '
                   '"reply_to", "target", "emoji", "reaction_on"')
        self.columns = columns
        # Messages by id (search results): the columns above, after the id.
        self.by_id = f'SELECT "id", {columns} FROM "message" WHERE "id" IN '
        # "target IS NOT NULL" spelled out: SQLite uses the partial index of changes
        # only for a WHERE that implies its own (an IN list does not, to it).
        self.changes_of = (f'SELECT {columns} FROM "message" WHERE "room_id" = {p} '
                           f'AND "target" IS NOT NULL AND "target" IN ')
        self.find_resend = (
            f'SELECT {columns} FROM "message" WHERE "account_id" = {p} AND "client_id" = {p}'
        )
        # History and catch-up: read as tuples, not peewee models (a model per row
        # cost more than the query; bench history scenario). Catch-up reads every
        # event; history lists messages and announcements, and folds their changes in.
        self.after = (
            f'SELECT {columns} FROM "message" WHERE "room_id" = {p} AND "seq" > {p} '
            f'ORDER BY "seq" LIMIT {p}'
        )
        listed = f'"msg_type" IN ({", ".join(str(int(t)) for t in sorted(LISTED_TYPES))})'
        self.before = (
            f'SELECT {columns} FROM "message" WHERE "room_id" = {p} AND "seq" < {p} '
            f'AND {listed} ORDER BY "seq" DESC LIMIT {p}'
        )
        self.newest = (
            f'SELECT {columns} FROM "message" WHERE "room_id" = {p} AND {listed} '
            f'ORDER BY "seq" DESC LIMIT {p}'
        )
        self.from_seq = (
            f'SELECT {columns} FROM "message" WHERE "room_id" = {p} AND "seq" >= {p} '
            f'AND {listed} ORDER BY "seq" LIMIT {p}'
        )
        # The changes of a page's messages (the partial index "message_room_id_target").
        self.changes = (
            f'SELECT {columns} FROM "message" WHERE "room_id" = {p} AND "target" >= {p} '
            f'AND "target" <= {p} ORDER BY "seq"'
        )
        # A change's checks, in its batch's transaction: the message it changes, the
        # user's last reaction with that emoji, whether the user is a superuser now.
        self.target = (
            f'SELECT "msg_type", "account_id", "text" FROM "message" '
            f'WHERE "room_id" = {p} AND "seq" = {p}'
        )
        self.last_reaction = (
            f'SELECT "reaction_on" FROM "message" WHERE "room_id" = {p} AND "target" = {p} '
            f'AND "msg_type" = {int(MsgType.REACTION)} AND "account_id" = {p} '
            f'AND "emoji" = {p} ORDER BY "seq" DESC LIMIT 1'
        )
        self.is_superuser = f'SELECT "is_superuser" FROM "account" WHERE "id" = {p}'
        # A deletion removes the text of the message and of its edits. Each side of the
        # OR whole, with "target IS NOT NULL" spelled out, so that each is looked up by
        # its own index: with room_id outside the OR, SQLite walked the room's (room_id,
        # seq) index, every message of the room (70 ms a deletion at 20,000 in a room).
        self.erase = (
            f'UPDATE "message" SET "text" = NULL WHERE ("room_id" = {p} AND "seq" = {p}) OR '
            f'("room_id" = {p} AND "target" = {p} AND "target" IS NOT NULL '
            f'AND "msg_type" = {int(MsgType.EDIT)})'
        )
        # The room's next seq, and for a message or announcement (the first parameter
        # 1, else 0) its next ordinal too.
        self.bump = (f'UPDATE "room" SET "last_seq" = "last_seq" + 1, '
                     f'"listed_count" = "listed_count" + {p} WHERE "id" = {p}')
        self.bump_returning = (self.bump + ' RETURNING "last_seq", "listed_count"'
                               if returning else None)
        self.read_seq = f'SELECT "last_seq", "listed_count" FROM "room" WHERE "id" = {p}'
        # The change counter as a batch's transaction sees it. PostgreSQL: under the
        # version lock, shared here and exclusive in a change (Store._bump_changes):
        # a transaction-scoped advisory lock writes no row, unlike FOR SHARE.
        self.version = f'SELECT "value" FROM "meta" WHERE "key" = {p}'
        postgres = isinstance(db, pw.PostgresqlDatabase)
        self.version_shared_lock = (
            f"SELECT pg_advisory_xact_lock_shared({p})" if postgres else None)
        self.version_lock = f"SELECT pg_advisory_xact_lock({p})" if postgres else None
        # PostgreSQL locks a room's row from the bump to the commit. Two processes
        # whose batches bump the same rooms in different orders would deadlock,
        # so a batch first locks all its rooms in id order. SQLite locks the
        # whole database per transaction and needs nothing of the kind.
        self.lock_rooms = (
            f'SELECT "id" FROM "room" WHERE "id" = ANY({p}) ORDER BY "id" FOR NO KEY UPDATE'
            if isinstance(db, pw.PostgresqlDatabase) else None
        )
        # A change locks its room before it checks its target, so that no other
        # process's change of the same message commits between the check and the
        # insert (the bump would lock it only after the check).
        self.lock_room = (
            f'SELECT "id" FROM "room" WHERE "id" = {p} FOR NO KEY UPDATE'
            if isinstance(db, pw.PostgresqlDatabase) else None
        )
        # A login by token and a join read these (every client back at once: thousands).
        self.token_owner = (
            'SELECT "t"."id", "t"."expires_ms", "a"."id", "a"."username", "a"."is_staff", '
            '"a"."is_superuser" FROM "token" AS "t" JOIN "account" AS "a" '
            f'ON "a"."id" = "t"."account_id" WHERE "t"."token_hash" = {p}'
        )
        self.room = f'SELECT "id", "title", "staff_only", "kind" FROM "room" WHERE "id" = {p}'
        self.insert = (
            'INSERT INTO "message" ("room_id", "seq", "account_id", "username", "msg_type", '
            '"text", "client_id", "ts_ms", "reply_to", "target", "emoji", "reaction_on", '
            f'"ordinal") VALUES ({", ".join([p] * 13)})'
        )


class Store:
    """Users, rooms, tokens and messages in one database."""

    def __init__(self, db: pw.Database) -> None:
        self.db = db
        self._sql = _MessageSql(db)
        self._search = search_index.SearchSql(db)
        self._append_sql = postgres_append.AppendSql(db, self._sql.columns)
        self.files = file_rows.FileStore(db)
        self.web_tickets = web_tickets.WebTicketStore(db)
        # Whether deleting a row from the search index removes its words from the file
        # at once; if not, a transaction that deletes counts itself (``_note_deletion``)
        # for store/search_purge.py to merge the words out later.
        self._deletes_purge = True

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
            try:
                store._deletes_purge = search_index.prepare(db)
            except pw.PeeweeException as exc:
                db.close()
                raise StoreUnavailable(f"cannot prepare the search index: {exc}") from exc
            _OpenStores.current = store
            return store

    @classmethod
    def open_data_dir(cls, data_dir: Path, *, synchronous: str = "normal") -> Store:
        """Open (or make) the database in a data dir, which is made or kept 0700."""
        make_private_dir(data_dir)
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

    def connection_lost(self) -> bool:
        """Whether the calling thread's connection to the database server broke under its
        last statement (PostgreSQL): what that statement did is unknown. The next call on
        the thread opens a new connection (store/postgres_connection.py)."""
        return isinstance(self.db, PostgresDatabase) and self.db.connection_lost()

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
        """Count an admin change, so other processes (and the CLI's) notice it.

        On PostgreSQL the transaction first takes the version lock exclusively,
        so no message batch reads the counter between this change and its
        commit (``_versioned`` takes it shared); always last in a change, so
        it waits for nothing while holding it.
        """
        if self._sql.version_lock is not None:
            self.db.execute_sql(self._sql.version_lock, (VERSION_LOCK,))
        self._bump("changes")

    def _bump(self, counter: str) -> None:
        Meta.update(value=(Meta.value.cast("INTEGER") + 1).cast("TEXT")).where(
            Meta.key == counter
        ).execute()

    def counters(self) -> tuple[int, int]:
        """``changes`` and ``revocations`` together: what a server polls."""
        values = {row.key: int(row.value) for row in
                  Meta.select().where(Meta.key.in_(("changes", "revocations")))}
        return values["changes"], values["revocations"]

    def revocations(self) -> int:
        """A counter that every revocation of tokens alone (a logout, a sign-out) moves.

        Apart from ``changes`` because a revoked login need not hold back
        anyone's events: its connections are closed within the poll interval,
        and a logout closes those of its own process at once.
        """
        return int(Meta.get(Meta.key == "revocations").value)

    def changes(self) -> int:
        """A counter that every change to users, rooms or tokens' validity moves.

        Sessions are brought in line with the database at a version of it; a
        message is delivered only by a process that has reached the version
        its transaction saw (``append_messages``).
        """
        row = self.db.execute_sql(self._sql.version, ("changes",)).fetchone()
        return int(row[0])

    # -- users -------------------------------------------------------------------

    def create_user(
        self, username: str, password_hash: str, *, is_staff: bool = False,
        is_superuser: bool = False,
    ) -> User:
        """Create an account; UsernameTaken names the account whose name looks the same."""
        key = names.username_key(username)
        with self.db.atomic():
            taken = Account.get_or_none(Account.username_key == key)
            if taken is not None:
                raise UsernameTaken(taken.username)
            try:
                row = Account.create(
                    username=username,
                    username_key=key,
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
        row = _account_named(username)
        return _user(row) if row else None

    def credentials(self, username: str) -> Credentials | None:
        row = _account_named(username)
        return Credentials(_user(row), row.password_hash) if row else None

    def users(self) -> list[User]:
        return [_user(row) for row in Account.select().order_by(Account.username)]

    def _exclusive(self) -> Any:
        """A transaction that decides on what it read: no other writer commits in between.

        SQLite: ``BEGIN IMMEDIATE`` takes the write lock before the first read
        (a deferred transaction would read a snapshot another writer may
        change). PostgreSQL locks the rows it reads with ``FOR UPDATE`` instead
        (``_keep_a_superuser``).
        """
        if self.is_sqlite:
            return self.db.atomic(lock_type="IMMEDIATE")
        return self.db.atomic()

    def _keep_a_superuser(self, row: Account) -> None:
        """Refuse to remove ``row``, a superuser, if no other superuser would remain.

        PostgreSQL: every superuser's row is locked, always in id order, so a
        concurrent removal waits for ours and then counts without the one we
        removed (locking only the others would deadlock two removals).
        """
        superusers = Account.select(Account.id).where(
            Account.is_superuser == True).order_by(Account.id)  # noqa: E712
        if not self.is_sqlite:  # NO KEY: no waiting behind messages that refer to the rows
            superusers = superusers.for_update("FOR NO KEY UPDATE")  # type: ignore[arg-type]
        if not any(other.id != row.id for other in superusers):
            raise LastSuperuser(row.username)

    def update_user(
        self,
        username: str,
        *,
        password_hash: str | None = None,
        is_staff: bool | None = None,
        is_superuser: bool | None = None,
        keep_token_hash: str | None = None,
    ) -> User:
        """Change a user; a new password revokes every token but ``keep_token_hash``.

        Refuses (``LastSuperuser``) to take the superuser flag from the last
        superuser, deciding in the transaction that makes the change, so two
        superusers demoting each other at once cannot both succeed.
        """
        with self._exclusive():
            row = _account_named(username)
            if row is None:
                raise UnknownUser(username)
            if is_superuser is False and row.is_superuser:
                self._keep_a_superuser(row)
            changes: dict[Any, Any] = {}
            if password_hash is not None:
                changes[Account.password_hash] = password_hash
                revoked = Token.delete().where(Token.account == row.id)
                if keep_token_hash is not None:
                    revoked = revoked.where(Token.token_hash != keep_token_hash)
                revoked.execute()
            if is_staff is not None:
                changes[Account.is_staff] = is_staff
            if is_superuser is not None:
                changes[Account.is_superuser] = is_superuser
            self._set_columns(Account, row.id, changes)
            self._bump_changes()
            return _user(Account.get_by_id(row.id))

    @staticmethod
    def _set_columns(model: type[Account | Room], row_id: int, changes: dict[Any, Any]) -> None:
        """Write only the changed columns: a concurrent change of others is kept.

        (``Model.save`` writes every column back as it was read, which on
        PostgreSQL undoes a change committed meanwhile: a password reset
        overwritten by a flag change brings the old password back.)
        """
        if changes:
            model.update(changes).where(model.id == row_id).execute()

    def rehash_password(self, username: str, password_hash: str) -> None:
        """Store the same password under new hashing parameters: no one is signed out."""
        row = _account_named(username)
        if row is not None:
            Account.update(password_hash=password_hash).where(Account.id == row.id).execute()

    def rename_user(self, username: str, new_username: str) -> User:
        """Give an account a new name; its messages keep the name they were sent under."""
        key = names.username_key(new_username)
        with self.db.atomic():
            row = _account_named(username)
            if row is None:
                raise UnknownUser(username)
            taken = Account.get_or_none((Account.username_key == key) & (Account.id != row.id))
            if taken is not None:
                raise UsernameTaken(taken.username)
            try:
                self._set_columns(Account, row.id, {Account.username: new_username,
                                                    Account.username_key: key})
            except pw.IntegrityError as exc:
                raise UsernameTaken(new_username) from exc
            self._bump_changes()
            return _user(Account.get_by_id(row.id))

    def delete_user(self, username: str) -> User:
        """Delete a user and their tokens; their messages stay, under their name."""
        with self._exclusive():
            row = _account_named(username)
            if row is None:
                raise UnknownUser(username)
            if row.is_superuser:
                self._keep_a_superuser(row)
            # Explicit, so it holds on engines without ON DELETE support enabled.
            Token.delete().where(Token.account == row.id).execute()
            Message.update(account=None).where(Message.account == row.id).execute()
            row.delete_instance()
            self._bump_changes()
        return _user(row)

    # -- tokens --------------------------------------------------------------------

    def add_token(self, user_id: int, token_hash: str, expires_ms: int) -> None:
        Token.create(
            account=user_id, token_hash=token_hash, created_ms=now_ms(), expires_ms=expires_ms
        )

    def token_owner(self, token_hash: str, at_ms: int) -> TokenOwner | None:
        """The user a live token belongs to; expired tokens are removed when met."""
        row = self.db.execute_sql(self._sql.token_owner, (token_hash,)).fetchone()
        if row is None:
            return None
        token_id, expires_ms, user_id, username, is_staff, is_superuser = row
        if expires_ms <= at_ms:
            Token.delete().where(Token.id == token_id).execute()
            return None
        user = User(id=user_id, username=username, is_staff=bool(is_staff),
                    is_superuser=bool(is_superuser))
        return TokenOwner(user=user, token_hash=token_hash)

    def token_owners(self, token_hashes: Sequence[str], at_ms: int) -> dict[str, User]:
        """The accounts of those tokens that are live, by token hash.

        A session is the token it logged in with: a token hash is never issued
        twice, and a token never moves to another account, so a live hash names
        the very account it was issued to, whatever ids a database reuses.
        """
        owners: dict[str, User] = {}
        for chunk in _chunks(token_hashes):
            query = (Token.select(Token.token_hash, Account).join(Account)
                     .where(Token.token_hash.in_(chunk), Token.expires_ms > at_ms))
            for row in query:
                owners[row.token_hash] = _user(row.account)
        return owners

    def revoke_token(self, token_hash: str) -> bool:
        """Revoke one token; False if it was not live (revoked or expired already)."""
        with self.db.atomic():
            revoked = int(Token.delete().where(Token.token_hash == token_hash).execute())
            self._bump("revocations")
        return revoked > 0

    def revoke_user_tokens(self, username: str) -> int:
        """Sign a user out everywhere (a lost laptop); return how many logins were revoked."""
        with self.db.atomic():
            row = _account_named(username)
            if row is None:
                raise UnknownUser(username)
            revoked = int(Token.delete().where(Token.account == row.id).execute())
            self._bump("revocations")
        return revoked


    # -- rooms -----------------------------------------------------------------------

    def create_room(self, title: str, *, staff_only: bool = False) -> RoomRecord:
        """Create a room; TitleTaken names the room whose title looks the same."""
        key = names.title_key(title)
        with self.db.atomic():
            taken = Room.get_or_none(Room.title_key == key)
            if taken is not None:
                raise TitleTaken(taken.title)
            try:
                row = Room.create(title=title, title_key=key, staff_only=staff_only,
                                  created_ms=now_ms())
            except pw.IntegrityError as exc:
                raise TitleTaken(title) from exc
            self._bump_changes()
        return _room(_room_row(row))

    def room(self, room_id: int) -> RoomRecord | None:
        """The room, or the direct conversation with its members (the rules judge who
        may see it: ``RoomRecord.visible_to``)."""
        row = self.db.execute_sql(self._sql.room, (room_id,)).fetchone()
        if row is None:
            return None
        room_row: RoomRow = (row[0], row[1], bool(row[2]), row[3])
        return _with_members([room_row])[0]

    def room_as_of(self, room_id: int) -> tuple[RoomRecord | None, int]:
        """``room``, and the change counter read after it (``changes``): one trip for a
        join, which waits for the changes read with the room (``Reconciler.settle``)."""
        return self.room(room_id), self.changes()

    def room_by_title(self, title: str) -> RoomRecord | None:
        row = _room_titled(title)
        return _room(_room_row(row)) if row else None

    def rooms(self, *, direct: bool = True) -> list[RoomRecord]:
        """Every room, by title; with the direct conversations unless ``direct`` is False
        (what admins list)."""
        query = Room.select(*_ROOM_COLUMNS).order_by(Room.title)
        if not direct:
            query = query.where(Room.kind == ROOM_KIND)
        return _with_members(_room_rows(query), every_room=direct)

    def room_list(self, user_id: int) -> list[RoomEntry]:
        """Every room and every direct conversation of ``user_id``, with its newest seq
        and how far they read it: one query, and one for the conversations' members."""
        marker = ReadMarker.alias()
        mine = RoomMember.select(RoomMember.room).where(RoomMember.account == user_id)
        query = (Room
                 .select(*_ROOM_COLUMNS, Room.last_seq, Room.listed_count,
                         pw.fn.COALESCE(marker.seq, 0), pw.fn.COALESCE(marker.ordinal, 0))
                 .join(marker, pw.JOIN.LEFT_OUTER,
                       on=((marker.room == Room.id) & (marker.account == user_id)))
                 .where((Room.kind == ROOM_KIND) | Room.id.in_(mine))
                 .order_by(Room.title))
        rows = cast(list[tuple[int, str, bool, str, int, int, int, int]], _room_rows(query))
        records = _with_members([row[:4] for row in rows])
        return [RoomEntry(record, int(last), int(read), int(listed) - int(ordinal))
                for (*_, last, listed, read, ordinal), record in zip(rows, records, strict=True)]

    def open_direct(self, user_id: int, usernames: Sequence[str], *,
                    max_new_per_hour: int | None = None) -> tuple[RoomEntry, bool]:
        """The direct conversation of ``user_id`` and the users named, made if new (and
        whether it was). The same people always get the same one; UnknownMember for a
        name no account has, NoOneElse if the names are all the opener's,
        TooManyStarted past ``max_new_per_hour`` new ones by this user (counted here,
        so on every process and across reconnects)."""
        for _attempt in range(2):
            with self.db.atomic():
                ids = {user_id}
                for name in usernames:
                    account = _account_named(name)
                    if account is None:
                        raise UnknownMember(name)
                    ids.add(account.id)
                if len(ids) < 2:
                    raise NoOneElse
                if len(ids) > MAX_DM_OTHERS + 1:  # names that fold alike counted once above
                    raise TooManyMembers(MAX_DM_OTHERS)
                key = direct_key(ids)
                found = Room.get_or_none(Room.direct_key == key)
                if found is not None:
                    return self._entry(found, user_id), False
                started = now_ms()
                if max_new_per_hour is not None and Room.select().where(
                        (Room.created_by == user_id)
                        & (Room.created_ms > started - 3_600_000)).count() >= max_new_per_hour:
                    raise TooManyStarted(max_new_per_hour)
                mark = DIRECT_MARK + hashlib.sha256(key.encode()).hexdigest()
                try:
                    with self.db.atomic():  # a savepoint: another process may make it first
                        row = Room.create(title=mark, title_key=mark, staff_only=False,
                                          kind=DIRECT_KIND, direct_key=key,
                                          created_by=user_id, created_ms=started)
                except pw.IntegrityError:
                    continue  # made meanwhile: read it in a new transaction
                RoomMember.insert_many([{"room": row.id, "account": account}
                                        for account in sorted(ids)]).execute()
                self._bump_changes()
                return self._entry(row, user_id), True
        raise StoreUnavailable("the direct conversation could not be made")  # pragma: no cover

    @staticmethod
    def _entry(row: Room, user_id: int) -> RoomEntry:
        read = ReadMarker.get_or_none((ReadMarker.account == user_id)
                                      & (ReadMarker.room == row.id))
        seq, ordinal = (int(read.seq), int(read.ordinal)) if read is not None else (0, 0)
        return RoomEntry(_with_members([_room_row(row)])[0], int(row.last_seq), seq,
                         int(row.listed_count) - ordinal)

    def room_lists(self, user_ids: Iterable[int]) -> RoomLists:
        """For pushing room lists: every room's newest seq and count of messages, and each
        user's read markers (seq and ordinal)."""
        counts = {room_id: (int(last), int(listed)) for room_id, last, listed in
                  self.db.execute_sql('SELECT "id", "last_seq", "listed_count" FROM "room"')}
        markers: dict[int, dict[int, tuple[int, int]]] = {}
        ids = sorted(set(user_ids))
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start:start + _IN_CHUNK]
            rows = (ReadMarker.select(ReadMarker.account, ReadMarker.room, ReadMarker.seq,
                                      ReadMarker.ordinal)
                    .where(ReadMarker.account.in_(chunk)))
            for row in rows:
                markers.setdefault(row.account_id, {})[row.room_id] = (
                    int(row.seq), int(row.ordinal))
        return RoomLists(counts, markers)

    def mark_read(self, user_id: int, room_id: int, seq: int) -> Read | None:
        """Keep the highest seq ``user_id`` has read in the room; the new marker (seq, and
        what is left unread after it) if it moved.

        ``SeqOutOfRange`` past the room's newest seq, ``UnknownRoom`` if there is none.
        """
        with self.db.atomic():
            room = Room.get_or_none(Room.id == room_id)
            if room is None:
                raise UnknownRoom(room_id)
            if seq > room.last_seq:
                raise SeqOutOfRange(room_id, seq, int(room.last_seq))
            where = (ReadMarker.account == user_id) & (ReadMarker.room == room_id)
            before = ReadMarker.select(ReadMarker.seq).where(where).scalar() or 0
            if seq <= before:
                return None
            # The newest message at or before seq (back over changes): what it counts.
            ordinal = (Message.select(Message.ordinal)
                       .where((Message.room == room_id) & (Message.seq <= seq)
                              & Message.ordinal.is_null(False))
                       .order_by(Message.seq.desc()).limit(1).scalar()) or 0
            # Another device of the user may be marking the same room on another process:
            # the upsert keeps the larger, whichever commits first.
            (ReadMarker
             .insert(account=user_id, room=room_id, seq=seq, ordinal=ordinal)
             .on_conflict(conflict_target=[ReadMarker.account, ReadMarker.room],
                          update={ReadMarker.seq: pw.EXCLUDED.seq,
                                  ReadMarker.ordinal: pw.EXCLUDED.ordinal},
                          where=(pw.EXCLUDED.seq > ReadMarker.seq))
             .execute())
            after = ReadMarker.get_or_none(where)
            if after is None or after.seq <= before:
                return None
            return Read(int(after.seq), int(room.listed_count) - int(after.ordinal))

    def update_room(
        self, room_id: int, *, title: str | None = None, staff_only: bool | None = None
    ) -> RoomRecord:
        with self.db.atomic():
            row = _admin_room(room_id)
            changes: dict[Any, Any] = {}
            if title is not None and title != row.title:
                key = names.title_key(title)
                taken = Room.get_or_none((Room.title_key == key) & (Room.id != row.id))
                if taken is not None:
                    raise TitleTaken(taken.title)
                changes.update({Room.title: title, Room.title_key: key})
            if staff_only is not None:
                changes[Room.staff_only] = staff_only
            try:
                self._set_columns(Room, row.id, changes)
            except pw.IntegrityError as exc:
                raise TitleTaken(str(title)) from exc
            self._bump_changes()
            return _room(_room_row(Room.get_by_id(row.id)))

    def delete_room(self, room_id: int) -> RoomRecord:
        with self.db.atomic():
            row = _admin_room(room_id)
            file_rows.detach(self.db, room_id)  # files no other room's message carries go
            Message.delete().where(Message.room == room_id).execute()  # their words too
            self._note_deletion()
            row.delete_instance()
            self._bump_changes()
        return _room(_room_row(row))

    # -- messages --------------------------------------------------------------------

    def append_messages(
        self, batch: Sequence[NewMessage]
    ) -> list[Appended | Unchanged | StoreError]:
        """Store a batch of messages in one transaction.

        Each message gets the next seq of its room, allocated by bumping the
        room's counter in the same transaction, so seqs have no gaps and no
        repeats whatever the engine or the number of processes. A message
        whose (author, client_id) is stored already is not stored again: its
        stored copy comes back marked as a duplicate. Should the database
        refuse one message (a race on a client_id with another process), the
        batch is redone with each message in a savepoint of its own, so the
        others still go in.

        Every outcome carries the change counter as this transaction saw it
        (``Appended.version``), read after the rooms' rows are locked.
        """
        try:
            conn = postgres_append.pipelined_connection(self.db)
            if conn is not None:
                return self._append_pipelined(conn, batch)
            with self.db.atomic():
                self._lock_rooms(batch)
                outcomes = [self._append_or_refuse(new) for new in batch]
                self._note_if_deleted(outcomes)
                return self._versioned(outcomes)
        except pw.IntegrityError:
            pass
        results: list[_Outcome] = []
        with self.db.atomic():
            self._lock_rooms(batch)
            for new in batch:
                try:
                    with self.db.atomic():
                        results.append(self._append_or_refuse(new))
                except pw.IntegrityError as exc:
                    # Not the engine's words: PostgreSQL's quote the row.
                    results.append(StoreError(
                        f"the message was refused by the database ({type(exc).__name__})"))
            self._note_if_deleted(results)
            return self._versioned(results)

    def _append_pipelined(
        self, conn: Any, batch: Sequence[NewMessage]
    ) -> list[Appended | Unchanged | StoreError]:
        """PostgreSQL: ``append_messages``'s transaction in one round trip, its statements
        in the same order (store/postgres_append.py says how)."""
        sql = self._sql
        if all(postgres_append.is_plain(new) for new in batch):
            return self._append_in_one_packet(conn, batch)
        sent: list[_Outcome | postgres_append.Sent] = []
        with postgres_append.one_round_trip(conn):
            rooms = {new.room_id for new in batch}
            if sql.lock_rooms is not None and len(rooms) > 1:
                conn.execute(sql.lock_rooms, (sorted(rooms),))
            for new in batch:
                if postgres_append.is_plain(new):
                    sent.append(self._append_sql.queue(conn, new))
                else:  # checked first, statement by statement: its reads wait
                    sent.append(self._append_or_refuse(new))
            self._note_if_deleted([item for item in sent
                                   if not isinstance(item, postgres_append.Sent)])
            conn.execute(sql.version_shared_lock, (VERSION_LOCK,))
            version_cursor = conn.execute(sql.version, ("changes",))
        return self._answered(batch, sent, int(version_cursor.fetchone()[0]))

    def _append_in_one_packet(
        self, conn: Any, batch: Sequence[NewMessage]
    ) -> list[Appended | Unchanged | StoreError]:
        """PostgreSQL, a batch of plain messages: the same transaction, its statements in
        one write to the server (``postgres_append.Packet``)."""
        sql, packet = self._sql, postgres_append.Packet()
        packet.add("BEGIN")
        rooms = {new.room_id for new in batch}
        if sql.lock_rooms is not None and len(rooms) > 1:
            packet.add(sql.lock_rooms, (sorted(rooms),))
        sent: list[_Outcome | postgres_append.Sent] = [
            self._append_sql.add_to(packet, new) for new in batch]
        packet.add(cast(str, sql.version_shared_lock), (VERSION_LOCK,))
        version = packet.add(sql.version, ("changes",))
        packet.add("COMMIT")
        packet.send(conn)
        row = version.fetchone()
        assert row is not None
        return self._answered(batch, sent, int(row[0]))

    def _answered(
        self, batch: Sequence[NewMessage], sent: Sequence[_Outcome | postgres_append.Sent],
        version: int,
    ) -> list[Appended | Unchanged | StoreError]:
        """The outcomes of a committed pipelined batch: each plain message's answer read."""
        outcomes: list[_Outcome] = []
        for new, item in zip(batch, sent, strict=True):
            if not isinstance(item, postgres_append.Sent):
                outcomes.append(item)
                continue
            seq, earlier = item.answer()
            if seq is not None:
                outcomes.append((_stored(new, seq, ()), False))
            elif earlier is not None:  # a resend: its files read now, after the commit
                outcomes.append((self._with_files(earlier[0], [_from_row(earlier)])[0], True))
            else:
                outcomes.append(UnknownRoom(new.room_id))
        return [Appended(outcome[0], outcome[1], version) if isinstance(outcome, tuple)
                else outcome for outcome in outcomes]

    def _versioned(self, outcomes: list[_Outcome]) -> list[Appended | Unchanged | StoreError]:
        """The outcomes of a batch, each stored message with the version it was stored at.

        The version is read last, in the batch's transaction: on SQLite that
        transaction holds the write lock; on PostgreSQL the version lock,
        shared here and exclusive in a change's counter bump, makes the bump
        wait for this commit or this read wait for the change's commit; either
        way the version says which changes came first.
        """
        if self._sql.version_shared_lock is not None:
            self.db.execute_sql(self._sql.version_shared_lock, (VERSION_LOCK,))
        row = self.db.execute_sql(self._sql.version, ("changes",)).fetchone()
        version = int(row[0])
        return [Appended(outcome[0], outcome[1], version) if isinstance(outcome, tuple)
                else outcome for outcome in outcomes]

    def _lock_rooms(self, batch: Sequence[NewMessage]) -> None:
        rooms = {new.room_id for new in batch}
        if self._sql.lock_rooms is not None and len(rooms) > 1:
            self.db.execute_sql(self._sql.lock_rooms, (sorted(rooms),)).fetchall()

    def _append_or_refuse(self, new: NewMessage) -> _Outcome:
        try:
            return self._append_one(new)
        except _REFUSALS as exc:  # nothing was written for it
            return exc

    def _append_one(self, new: NewMessage) -> tuple[StoredMessage, bool] | Unchanged:
        """Store one message; return it and whether it was stored before (a resend)."""
        sql, execute = self._sql, self.db.execute_sql
        if new.client_id is not None and new.user_id is not None:
            earlier = execute(sql.find_resend, (new.user_id, new.client_id)).fetchone()
            if earlier is not None:
                return self._with_files(earlier[0], [_from_row(earlier)])[0], True
        if new.target is not None:
            if not self._change_allowed(new):
                return Unchanged()
        elif new.reply_to is not None:
            self._live_message(new.room_id, new.reply_to)
        files = file_rows.check(self.db, new.user_id, new.files)  # before anything is written
        listed = new.msg_type in LISTED_TYPES
        bump = (1 if listed else 0, new.room_id)
        if sql.bump_returning is not None:
            row = execute(sql.bump_returning, bump).fetchone()
        else:
            cursor = execute(sql.bump, bump)
            row = execute(sql.read_seq, (new.room_id,)).fetchone() if cursor.rowcount else None
        if row is None:
            raise UnknownRoom(new.room_id)
        seq = int(row[0])
        execute(sql.insert, (new.room_id, seq, new.user_id, new.username, int(new.msg_type),
                             new.text, new.client_id, new.ts_ms, new.reply_to, new.target,
                             new.emoji, None if new.on is None else int(new.on),
                             int(row[1]) if listed else None))
        if new.msg_type is MsgType.DELETE:
            execute(sql.erase, (new.room_id, new.target, new.room_id, new.target))
            assert new.target is not None
            file_rows.detach(self.db, new.room_id, [new.target])
        file_rows.link(self.db, new.room_id, seq, new.files)
        self._index(new, seq)
        return _stored(new, seq, files), False

    def _index(self, new: NewMessage, seq: int) -> None:
        """Keep the search index in step with a message just stored (``seq``): its words
        indexed; an edit's target indexed by the new text; a deletion's target dropped."""
        search, execute = self._search, self.db.execute_sql
        if new.msg_type in search_index.INDEXED_TYPES:
            words = search_index.stored_words(self.db, new.text)
            if words is not None:
                execute(search.add, (words, new.room_id, seq))
        elif new.msg_type in (MsgType.EDIT, MsgType.DELETE):
            execute(search.drop, (new.room_id, new.target))
            words = (search_index.stored_words(self.db, new.text)
                     if new.msg_type is MsgType.EDIT else None)
            if words is not None:
                execute(search.add, (words, new.room_id, new.target))

    def _note_if_deleted(self, outcomes: Sequence[_Outcome]) -> None:
        if any(isinstance(outcome, tuple) and not outcome[1]
               and outcome[0].msg_type is MsgType.DELETE for outcome in outcomes):
            self._note_deletion()

    def _note_deletion(self) -> None:
        """Where deleting from the index leaves the words in FTS5's older segments (SQLite
        before 3.42), count it, in this transaction, for ``merge_search_index``."""
        if not self._deletes_purge:
            self._bump(search_index.PURGE_KEY)

    # -- SQLite: deleted words out of the search index ---------------------------------

    def deleted_words_pending(self) -> int:
        """Deletions whose words may still be in the search index's older segments (SQLite
        before 3.42): a counter, zero when there are none."""
        if not self.is_sqlite:
            return 0
        return int(Meta.get(Meta.key == search_index.PURGE_KEY).value)

    def merge_search_index(self, pages: int, *, start: bool) -> bool:
        """One step, in its own transaction, of merging the whole search index (about
        ``pages`` pages written): what drops deleted words from its older segments.
        ``start`` begins a merge; returns False once there is nothing left to merge."""
        with self.db.atomic():
            return search_index.merge_step(self.db, self._search, pages, start=start)

    def deleted_words_purged(self, pending: int) -> bool:
        """A merge that started when ``deleted_words_pending`` was ``pending`` is done:
        zero the counter unless more deletions came meanwhile (returns whether it did)."""
        with self.db.atomic():
            done = Meta.update(value="0").where(
                (Meta.key == search_index.PURGE_KEY) & (Meta.value == str(pending))).execute()
        return bool(done)

    def _live_message(self, room_id: int, seq: int) -> int | None:
        """The author's account id of message ``seq`` of the room; InvalidMessage if it is
        no message (msg_type 0) of the room, or a deleted one."""
        row = self.db.execute_sql(self._sql.target, (room_id, seq)).fetchone()
        if row is None or row[0] != MsgType.MESSAGE:
            raise InvalidMessage(room_id, seq)
        if row[2] is None:
            raise InvalidMessage(room_id, seq, "deleted message")
        return int(row[1]) if row[1] is not None else None

    def _change_allowed(self, new: NewMessage) -> bool:
        """Check an EDIT, DELETE or REACTION against its target (raising why not);
        False for a REACTION that would change nothing."""
        sql, execute = self._sql, self.db.execute_sql
        assert new.target is not None
        if sql.lock_room is not None and execute(sql.lock_room, (new.room_id,)).fetchone() is None:
            raise UnknownRoom(new.room_id)
        author = self._live_message(new.room_id, new.target)
        mine = author is not None and author == new.user_id
        if new.msg_type is MsgType.EDIT and not mine:
            raise NotAllowed("only its author may edit a message")
        if new.msg_type is MsgType.DELETE and not mine:
            row = (execute(sql.is_superuser, (new.user_id,)).fetchone()
                   if new.superuser_may_delete and new.user_id is not None else None)
            if row is None or not row[0]:
                raise NotAllowed("only its author or a superuser may delete a message"
                                 if new.superuser_may_delete else
                                 "only its author may delete a message here")
        if new.msg_type is MsgType.REACTION:
            row = execute(sql.last_reaction,
                          (new.room_id, new.target, new.user_id, new.emoji)).fetchone()
            given = row is not None and bool(row[0])
            return given != bool(new.on)
        return True

    def messages_after(self, room_id: int, since: int, limit: int) -> list[StoredMessage]:
        """Up to ``limit`` messages with seq > since, oldest first."""
        cursor = self.db.execute_sql(self._sql.after, (room_id, since, limit))
        return self._with_files(room_id, [_from_row(row) for row in cursor.fetchall()])

    def messages_after_as_of(self, room_id: int, since: int,
                             limit: int) -> tuple[list[StoredMessage], int]:
        """``messages_after``, and the change counter read after it: a catch-up page in
        one trip."""
        return self.messages_after(room_id, since, limit), self.changes()

    def messages_before(
        self, room_id: int, before: int | None, limit: int
    ) -> list[StoredMessage]:
        """The newest ``limit`` messages with seq < before (or the newest), oldest first.

        Messages and announcements only, each as it is now (``_fold``); the
        edits, deletions and reactions themselves are not listed.
        """
        return self._folded(room_id, self._listed_before(room_id, before, limit))

    def messages_around(self, room_id: int, seq: int, limit: int) -> list[StoredMessage]:
        """Up to ``limit`` messages centred on ``seq``, oldest first, folded as in
        ``messages_before``: half before it, the rest from it on; where the room ends
        sooner on one side, more from the other."""
        after = [_from_row(row) for row in self.db.execute_sql(
            self._sql.from_seq, (room_id, seq, limit)).fetchall()]
        before = self._listed_before(room_id, seq, limit)
        take_before = min(len(before), max((limit - 1) // 2, limit - len(after)))
        page = before[len(before) - take_before:] + after[: limit - take_before]
        return self._folded(room_id, page)

    def _listed_before(self, room_id: int, before: int | None, limit: int) -> list[StoredMessage]:
        if limit <= 0:
            return []
        if before is None:
            cursor = self.db.execute_sql(self._sql.newest, (room_id, limit))
        else:
            cursor = self.db.execute_sql(self._sql.before, (room_id, before, limit))
        rows = [_from_row(row) for row in cursor.fetchall()]
        rows.reverse()
        return rows

    def _folded(self, room_id: int, messages: list[StoredMessage]) -> list[StoredMessage]:
        """The page with each message's changes applied: one more query, by the index
        of changes (migrations: "message_room_id_target")."""
        seqs = [m.seq for m in messages if m.msg_type is MsgType.MESSAGE and not m.deleted]
        if not seqs:
            return messages
        rows = self.db.execute_sql(self._sql.changes, (room_id, seqs[0], seqs[-1])).fetchall()
        return self._with_files(room_id, _fold(messages, (_from_row(row) for row in rows)))

    def _with_files(self, room_id: int, messages: list[StoredMessage]) -> list[StoredMessage]:
        """The messages with the files they carry (one query for the page)."""
        seqs = [m.seq for m in messages if m.msg_type is MsgType.MESSAGE and not m.deleted]
        found = file_rows.files_of(self.db, room_id, seqs)
        if not found:
            return messages
        return [dataclasses.replace(m, files=found[m.seq]) if m.seq in found else m
                for m in messages]

    # -- search ----------------------------------------------------------------------

    def search(
        self, query_words: Sequence[str], room_ids: Iterable[int], before: int | None,
        limit: int, *, budget: float,
    ) -> SearchPage:
        """The newest ``limit`` messages and announcements of these rooms that hold, for
        each query word, a word beginning with it (``protocol.words``), below the cursor
        ``before``; each as it is now (``_fold``). ``SearchTooLong`` past ``budget``
        seconds.

        Which rooms a user may search is the rules' business (``Room.visible_to``);
        the store searches the rooms it is given. The index is read, then the
        messages: a message edited or deleted in between is checked again against
        the words as it reads now, and left out if it no longer matches.
        """
        rooms = sorted(set(room_ids))
        # The words again, by the index's rules: whatever a caller passes, no character
        # the engine's query language gives a meaning to reaches it.
        query_words = words_of(" ".join(query_words))
        if not rooms or not query_words or limit <= 0:
            return SearchPage([], [], False, None)
        expression = search_index.match_expression(self.db, query_words)
        below = _NO_ID if before is None else before
        visible: object = json.dumps(rooms) if self.is_sqlite else rooms
        hits = self._hits((expression, below, visible, limit + 1), budget)
        more = len(hits) > limit
        hits = hits[:limit]
        found = self._messages_by_id([message_id for message_id, _ in hits])
        page = [(message_id, found[message_id]) for message_id, _ in hits
                if message_id in found]
        page = [(message_id, m) for message_id, m in page
                if m.text is not None and _holds(m.text, query_words)]
        return SearchPage([m for _, m in page], [message_id for message_id, _ in page], more,
                          hits[-1][0] if more else None)

    def _hits(self, args: tuple[object, ...], budget: float) -> list[tuple[int, int]]:
        """The index's page of (message id, room id), stopped past ``budget`` seconds:
        SQLite by a progress handler, PostgreSQL by ``statement_timeout``."""
        sql = self._search.hits
        if not self.is_sqlite:
            with self.db.atomic():
                self.db.execute_sql(f"SET LOCAL statement_timeout = {max(1, int(budget * 1000))}")
                try:
                    return self._postgres_hits(args)
                except pw.DatabaseError as exc:
                    if any(getattr(e, "sqlstate", None) == _QUERY_CANCELED
                           for e in (exc, exc.__cause__, exc.__context__, *exc.args)):
                        raise SearchTooLong(budget) from exc
                    raise
        connection = self.db.connection()
        deadline = time.monotonic() + budget
        connection.set_progress_handler(lambda: time.monotonic() > deadline, 20_000)
        try:
            return [(int(a), int(b)) for a, b in self.db.execute_sql(sql, args).fetchall()]
        except (pw.OperationalError, sqlite3.OperationalError) as exc:
            if time.monotonic() > deadline:
                raise SearchTooLong(budget) from exc
            raise
        finally:
            connection.set_progress_handler(None, 0)

    def _postgres_hits(self, args: tuple[object, ...]) -> list[tuple[int, int]]:
        """The newest rows first, one by one (``RECENT_WINDOW`` of them); if they hold too
        few hits, the GIN index for the rest, with no plain index scan to choose."""
        search, run = self._search, self.db.execute_sql
        expression, below, rooms, wanted = args
        window = search_index.RECENT_WINDOW
        rows = run(search.recent_hits, (below, window, expression, rooms, wanted)).fetchall()
        hits = [(int(a), int(b)) for a, b in rows]
        if len(hits) >= int(wanted):  # type: ignore[call-overload]
            return hits
        end = run(search.window_end, (below, window - 1)).fetchone()
        if end is None:
            return hits  # the window held every row
        run("SET LOCAL enable_indexscan = off")
        rest = run(search.hits, (expression, int(end[0]), rooms,
                                 int(wanted) - len(hits))).fetchall()  # type: ignore[call-overload]
        return hits + [(int(a), int(b)) for a, b in rest]

    def _messages_by_id(self, ids: Sequence[int]) -> dict[int, StoredMessage]:
        """These messages by id, each as it is now: one query, and one per room for the
        changes of its messages (by the index of changes)."""
        if not ids:
            return {}
        marks = ", ".join([self.db.param] * len(ids))
        rows = self.db.execute_sql(f"{self._sql.by_id}({marks})", tuple(ids)).fetchall()
        by_room: dict[int, list[tuple[int, StoredMessage]]] = {}
        for row in rows:
            message = _from_row(row[1:])
            by_room.setdefault(message.room_id, []).append((int(row[0]), message))
        found: dict[int, StoredMessage] = {}
        for room_id, pairs in by_room.items():
            pairs.sort(key=lambda pair: pair[1].seq)
            seqs = [m.seq for _, m in pairs]
            marks = ", ".join([self.db.param] * len(seqs))
            # In seq order, sorted here: an ORDER BY leads SQLite to walk the room's whole
            # (room_id, seq) index instead of the index of changes.
            rows = self.db.execute_sql(f"{self._sql.changes_of}({marks})",
                                       (room_id, *seqs)).fetchall()
            changes = sorted((_from_row(row) for row in rows), key=lambda c: c.seq)
            folded = self._with_files(room_id, _fold([m for _, m in pairs], changes))
            found.update((message_id, m) for (message_id, _), m in zip(pairs, folded, strict=True))
        return found

    def last_seq(self, room_id: int) -> int:
        value = Room.select(Room.last_seq).where(Room.id == room_id).scalar()
        if value is None:
            raise UnknownRoom(room_id)
        return int(value)
