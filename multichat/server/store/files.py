"""Files in the database: uploads written a chunk at a time, read back by byte range.

A file is a ``file`` row (name, size, type, SHA-256, uploader, pixels), its bytes
in ``file_chunk`` rows of ``chunk_bytes`` each (the last one shorter), an image's
thumbnail in ``file_thumbnail``, and the messages that carry it in
``message_file`` (by room and seq). Everything is in the database so that every
process of a cluster serves every file with nothing else to configure, and
backups and ``migrate-data`` carry the files with the messages.

An upload writes each chunk in a small transaction of its own, on the files'
threads, never the message writer's: a big upload costs the message writer a
few short lock waits on SQLite, not a long transaction. A file is marked
``complete`` only once all its bytes are stored and their SHA-256 is computed
from the stored rows; nothing serves or sends an incomplete file, and one
abandoned (its uploader gone, or silent past the timeout, or its process
killed) is deleted, chunks and all (``sweep``).

Synchronous, as the rest of the store; the server calls it from its threads.
The functions after ``FileStore`` (``check``, ``link``, ``detach``,
``files_of``) are for the repository, inside its transactions (the message
writer's batch, a room's deletion, a page of history).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import peewee as pw

from multichat.server.store.errors import QuotaExceeded, UnknownFile
from multichat.server.store.records import FileRecord

# Bytes per chunk row: big enough that a 25 MiB file is 100 rows, small enough that a
# byte range reads little more than it needs and one row never strains a driver.
CHUNK_BYTES = 256 * 1024
DAY_MS = 86_400_000
# A file row's columns as FileRecord wants them, in its order.
_RECORD_COLUMNS = ('"file"."id", "file"."name", "file"."size", "file"."mime_type", '
                   '"file"."sha256", "file"."width", "file"."height"')


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A complete file as the HTTP side serves it."""

    record: FileRecord
    uploader_id: int | None
    inline_type: str | None  # a verified image's type, served inline; else None
    chunk_bytes: int


@dataclass(frozen=True, slots=True)
class Thumbnail:
    mime_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class FileUse:
    """A file as the admin lists it: how big, whose, how many messages carry it."""

    record: FileRecord
    uploader: str | None
    complete: bool
    created_ms: int
    messages: int


def _record(row: Sequence[object]) -> FileRecord:
    file_id, name, size, mime_type, sha256, width, height = row[:7]
    return FileRecord(str(file_id), str(name), int(size),  # type: ignore[call-overload]
                      str(mime_type), str(sha256 or ""),
                      None if width is None else int(width),  # type: ignore[call-overload]
                      None if height is None else int(height))  # type: ignore[call-overload]


class FileStore:
    """Every query about files, on one database."""

    def __init__(self, db: pw.Database) -> None:
        self.db = db
        self._p = db.param
        self._postgres = isinstance(db, pw.PostgresqlDatabase)

    def _run(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        cursor = self.db.execute_sql(sql, tuple(params))
        return list(cursor.fetchall()) if cursor.description else []

    # -- uploading ---------------------------------------------------------------------

    def begin_upload(self, file_id: str, user_id: int, name: str, size: int, mime_type: str,
                     *, now_ms: int, quota_bytes: int) -> None:
        """Make the file's row, and count its bytes against the uploader's day.

        ``QuotaExceeded`` when the uploads this user started in the last 24 hours
        and this one would pass ``quota_bytes``. On PostgreSQL the account's row
        is locked first, so two processes can't both take the last of a quota.
        """
        p = self._p
        with self.db.atomic():
            if self._postgres:
                self._run(f'SELECT "id" FROM "account" WHERE "id" = {p} FOR UPDATE', (user_id,))
            used = self._run(f'SELECT COALESCE(SUM("size"), 0) FROM "upload_record" '
                             f'WHERE "account_id" = {p} AND "created_ms" > {p}',
                             (user_id, now_ms - DAY_MS))[0][0]
            if int(used) + size > quota_bytes:  # type: ignore[call-overload]
                raise QuotaExceeded(quota_bytes)
            self._run(f'INSERT INTO "file" ("id", "account_id", "name", "size", "mime_type", '
                      f'"chunk_bytes", "complete", "created_ms", "touched_ms") VALUES '
                      f'({p}, {p}, {p}, {p}, {p}, {p}, 0, {p}, {p})',
                      (file_id, user_id, name, size, mime_type, CHUNK_BYTES, now_ms, now_ms))
            self._run(f'INSERT INTO "upload_record" ("account_id", "file_id", "size", '
                      f'"created_ms") VALUES ({p}, {p}, {p}, {p})',
                      (user_id, file_id, size, now_ms))

    def write_chunk(self, file_id: str, index: int, data: bytes, *, now_ms: int) -> None:
        """Store chunk ``index`` of an upload in progress; ``UnknownFile`` if the upload
        is gone (discarded by a sweep meanwhile) or complete."""
        p = self._p
        try:
            with self.db.atomic():
                touched = self.db.execute_sql(
                    f'UPDATE "file" SET "touched_ms" = {p} WHERE "id" = {p} AND "complete" = 0',
                    (now_ms, file_id)).rowcount
                if not touched:
                    raise UnknownFile(file_id)
                self._run(f'INSERT INTO "file_chunk" ("file_id", "part", "data") '
                          f'VALUES ({p}, {p}, {p})', (file_id, index, data))
        except pw.IntegrityError as exc:  # the same chunk twice: a bug, not a client's
            raise UnknownFile(file_id) from exc

    def chunks(self, file_id: str, first: int = 0, last: int | None = None) -> Iterator[bytes]:
        """The file's chunk rows from ``first`` to ``last`` (inclusive), in order, whatever
        its state; a few at a time, so that a whole file is never one result set."""
        p = self._p
        index = first
        while last is None or index <= last:
            upper = index + 8 if last is None else min(index + 8, last + 1)
            rows = self._run(f'SELECT "data" FROM "file_chunk" WHERE "file_id" = {p} '
                             f'AND "part" >= {p} AND "part" < {p} ORDER BY "part"',
                             (file_id, index, upper))
            for (data,) in rows:
                yield bytes(data)  # type: ignore[call-overload]
            if len(rows) < upper - index:
                return
            index = upper

    def stored_digest(self, file_id: str) -> tuple[int, str]:
        """How many bytes the chunk rows hold and their SHA-256, read back from the
        database: what a file is marked complete with."""
        digest = hashlib.sha256()
        total = 0
        for data in self.chunks(file_id):
            digest.update(data)
            total += len(data)
        return total, digest.hexdigest()

    def complete(self, file_id: str, sha256: str, *, width: int | None = None,
                 height: int | None = None, inline_type: str | None = None,
                 thumbnail: tuple[str, int, int, bytes] | None = None) -> FileRecord:
        """Mark an upload complete with its checked SHA-256 (and an image's facts and
        thumbnail: type, width, height, bytes); ``UnknownFile`` if it is gone."""
        p = self._p
        with self.db.atomic():
            done = self.db.execute_sql(
                f'UPDATE "file" SET "complete" = 1, "sha256" = {p}, "width" = {p}, '
                f'"height" = {p}, "inline_type" = {p} WHERE "id" = {p} AND "complete" = 0',
                (sha256, width, height, inline_type, file_id)).rowcount
            if not done:
                raise UnknownFile(file_id)
            if thumbnail is not None:
                self._run(f'INSERT INTO "file_thumbnail" ("file_id", "mime_type", "width", '
                          f'"height", "data") VALUES ({p}, {p}, {p}, {p}, {p})',
                          (file_id, *thumbnail))
            if inline_type is not None:
                # The type a verified image is served as is the one FILE_OBJ says.
                self._run(f'UPDATE "file" SET "mime_type" = {p} WHERE "id" = {p}',
                          (inline_type, file_id))
            rows = self._run(f'SELECT {_RECORD_COLUMNS} FROM "file" WHERE "id" = {p}',
                             (file_id,))
        return _record(rows[0])

    def discard(self, file_id: str) -> bool:
        """Delete an upload that did not complete, its chunks, and its count against the
        quota (nothing was stored). A complete file is left alone."""
        p = self._p
        with self.db.atomic():
            gone = self.db.execute_sql(
                f'DELETE FROM "file" WHERE "id" = {p} AND "complete" = 0', (file_id,)).rowcount
            if gone:
                self._run(f'DELETE FROM "upload_record" WHERE "file_id" = {p}', (file_id,))
        return bool(gone)

    def sweep(self, *, idle_before_ms: int, now_ms: int) -> int:
        """Delete uploads that stopped before ``idle_before_ms`` (their connection
        dropped, their process killed), and quota records older than a day; return how
        many uploads went."""
        p = self._p
        stale = [str(row[0]) for row in self._run(
            f'SELECT "id" FROM "file" WHERE "complete" = 0 AND "touched_ms" < {p}',
            (idle_before_ms,))]
        gone = sum(self.discard(file_id) for file_id in stale)
        self._run(f'DELETE FROM "upload_record" WHERE "created_ms" < {p}', (now_ms - DAY_MS,))
        return gone

    # -- reading ------------------------------------------------------------------------

    def stored_file(self, file_id: str) -> StoredFile | None:
        """A complete file, or None (none, or still uploading: the same to a reader)."""
        p = self._p
        rows = self._run(f'SELECT {_RECORD_COLUMNS}, "account_id", "inline_type", '
                         f'"chunk_bytes" FROM "file" WHERE "id" = {p} AND "complete" = 1',
                         (file_id,))
        if not rows:
            return None
        row = rows[0]
        uploader = row[7]
        return StoredFile(_record(row), None if uploader is None else int(uploader),  # type: ignore[call-overload]
                          None if row[8] is None else str(row[8]),
                          int(row[9]))  # type: ignore[call-overload]

    def rooms_of(self, file_id: str) -> list[int]:
        """The rooms where a message carries this file."""
        p = self._p
        return [int(row[0]) for row in self._run(  # type: ignore[call-overload]
            f'SELECT DISTINCT "room_id" FROM "message_file" WHERE "file_id" = {p}', (file_id,))]

    def read_range(self, file: StoredFile, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (inclusive) of a complete file: only the chunk rows
        that hold them are read."""
        size = file.chunk_bytes
        first, last = start // size, end // size
        data = b"".join(self.chunks(file.record.id, first, last))
        offset = start - first * size
        return data[offset : offset + end - start + 1]

    def thumbnail(self, file_id: str) -> Thumbnail | None:
        p = self._p
        rows = self._run(f'SELECT "mime_type", "data" FROM "file_thumbnail" '
                         f'WHERE "file_id" = {p}', (file_id,))
        if not rows:
            return None
        return Thumbnail(str(rows[0][0]), bytes(rows[0][1]))  # type: ignore[call-overload]

    # -- administration ------------------------------------------------------------------

    def largest(self, limit: int) -> list[FileUse]:
        """The biggest files first (uploads in progress too), with their uploaders."""
        p = self._p
        rows = self._run(
            f'SELECT {_RECORD_COLUMNS}, "account"."username", "file"."complete", '
            f'"file"."created_ms", (SELECT COUNT(*) FROM "message_file" '
            f'WHERE "message_file"."file_id" = "file"."id") FROM "file" '
            f'LEFT JOIN "account" ON "account"."id" = "file"."account_id" '
            f'ORDER BY "file"."size" DESC, "file"."created_ms" LIMIT {p}', (limit,))
        return [FileUse(_record(row), None if row[7] is None else str(row[7]), bool(row[8]),
                        int(row[9]), int(row[10]))  # type: ignore[call-overload]
                for row in rows]

    def delete(self, file_id: str) -> bool:
        """Delete a file, its bytes and thumbnail; the messages that carried it then carry
        it no more (their ``message_file`` rows go with it)."""
        with self.db.atomic():
            return bool(self.db.execute_sql(
                f'DELETE FROM "file" WHERE "id" = {self._p}', (file_id,)).rowcount)


# -- inside the message writer's transaction -------------------------------------------


def check(db: pw.Database, user_id: int | None,
          file_ids: Sequence[str]) -> tuple[FileRecord, ...]:
    """The files a message may carry, as records, in order; ``UnknownFile`` for the
    first that is not a complete upload of ``user_id``'s."""
    if not file_ids:
        return ()
    p = db.param
    marks = ", ".join([p] * len(file_ids))
    rows = db.execute_sql(
        f'SELECT {_RECORD_COLUMNS} FROM "file" WHERE "id" IN ({marks}) '
        f'AND "account_id" = {p} AND "complete" = 1', (*file_ids, user_id)).fetchall()
    found = {str(row[0]): _record(row) for row in rows}
    for file_id in file_ids:
        if file_id not in found:
            raise UnknownFile(file_id)
    return tuple(found[file_id] for file_id in file_ids)


def link(db: pw.Database, room_id: int, seq: int, file_ids: Sequence[str]) -> None:
    p = db.param
    for position, file_id in enumerate(file_ids):
        db.execute_sql(f'INSERT INTO "message_file" ("room_id", "seq", "position", "file_id") '
                       f'VALUES ({p}, {p}, {p}, {p})', (room_id, seq, position, file_id))


def detach(db: pw.Database, room_id: int, seqs: Iterable[int] | None = None) -> int:
    """A message (``seqs``) or a whole room (None) no longer carries its files: their
    links go, and each file no other message carries goes too (chunks, thumbnail).
    Returns how many files were deleted."""
    p = db.param
    where = f'"room_id" = {p}'
    params: list[object] = [room_id]
    if seqs is not None:
        seq_list = list(seqs)
        if not seq_list:
            return 0
        where += f' AND "seq" IN ({", ".join([p] * len(seq_list))})'
        params += seq_list
    file_ids = sorted({str(row[0]) for row in db.execute_sql(
        f'SELECT "file_id" FROM "message_file" WHERE {where}', tuple(params)).fetchall()})
    if not file_ids:
        return 0
    db.execute_sql(f'DELETE FROM "message_file" WHERE {where}', tuple(params))
    marks = ", ".join([p] * len(file_ids))
    return int(db.execute_sql(
        f'DELETE FROM "file" WHERE "id" IN ({marks}) AND NOT EXISTS (SELECT 1 FROM '
        f'"message_file" WHERE "message_file"."file_id" = "file"."id")',
        tuple(file_ids)).rowcount)


def files_of(db: pw.Database, room_id: int,
             seqs: Sequence[int]) -> dict[int, tuple[FileRecord, ...]]:
    """The files of these messages of a room, by seq, each message's in order."""
    if not seqs:
        return {}
    p = db.param
    low, high = min(seqs), max(seqs)
    rows = db.execute_sql(
        f'SELECT "message_file"."seq", {_RECORD_COLUMNS} FROM "message_file" '
        f'JOIN "file" ON "file"."id" = "message_file"."file_id" '
        f'WHERE "message_file"."room_id" = {p} AND "message_file"."seq" >= {p} '
        f'AND "message_file"."seq" <= {p} '
        f'ORDER BY "message_file"."seq", "message_file"."position"',
        (room_id, low, high)).fetchall()
    wanted = set(seqs)
    found: dict[int, list[FileRecord]] = {}
    for row in rows:
        seq = int(row[0])
        if seq in wanted:
            found.setdefault(seq, []).append(_record(row[1:]))
    return {seq: tuple(records) for seq, records in found.items()}
