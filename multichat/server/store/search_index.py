"""The search index: every live message's words as they read now, kept with the message.

One row of ``message_search`` per message or announcement (msg_type 0 to 3)
that has words (``protocol.words``): the message's id, its room, its words.
The store writes it in the transaction that stores the message (a row), an
edit of it (the row replaced by the new text's words: the old words are no
longer found) and its deletion (the row deleted); a deleted room's rows go
with its messages (a foreign key, ``ON DELETE CASCADE``). Paging and order
are by the message's id: the newest first.

The words are folded (case, accents) and cut by the server, the same on both
engines; neither engine's tokenizer decides what a word is:

- SQLite: ``words`` is the words joined by spaces, and an FTS5 table,
  ``message_fts``, indexes it (external content, kept by triggers).
  ``tokenize='ascii'`` splits exactly at those spaces (FTS5's ``unicode61``
  tables are older than Python's and could cut a word the query keeps
  whole), ``prefix='1 2 3 4'`` gives each prefix length up to 4 its own
  index (a prefix query of another length merges the lists of every word it
  begins: with 1 to 3 only the p99 was 65 ms at a million messages, with 1
  to 4 16 ms; 5 and 6 cost the writer more for a few ms less),
  ``detail=none`` keeps rowids only (no phrases or NEAR are ever asked: a
  third smaller), ``columnsize=0`` no token counts (nothing is ranked).
- PostgreSQL: ``words`` is a ``tsvector`` made by ``array_to_tsvector`` (no
  parser, no dictionary: the lexemes are exactly the words), under a GIN
  index, with each word's prefixes of 1 to 3 letters as lexemes of their own
  (``'t'`` says "a word begins with t"): a query word of 1 to 3 letters is
  looked up as that one lexeme, a longer one as a prefix (``'word':*``).
  GIN answers a prefix by joining the lists of every lexeme that begins with
  it, thousands for one letter: ``'t':* & 'mih':*`` took 40 ms at a million
  messages, and the exact lexeme lets GIN skip through the common list. No
  extension is needed (``unaccent`` is not: the folding is done before).

A deleted message's words must leave the file, not only the results. FTS5
records a deletion as a marker in a new segment; the old entries go only when
a merge brings marker and entries together. SQLite 3.42 added
``secure-delete``, which removes them at once (``prepare`` turns it on where
the library has it). Older SQLite (Debian 12's 3.40) deletes plainly (the
words are no longer found at once) and counts the deletion in ``meta``
(``PURGE_KEY``); a thread of the writer's (``store/search_purge.py``) then
merges the whole index in small steps, each its own short transaction, so the
words leave the file within seconds to a minute (docs/architecture.md), and
never holds the write lock for more than a step. (``optimize`` in the
deleting transaction did the same at once but held the write lock for 1.5 s
at a million messages: every deletion stalled every writer.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import peewee as pw

from multichat.protocol.codes import MsgType
from multichat.protocol.words import words

# The msg_types the index holds: messages and announcements (history lists them).
INDEXED_TYPES = (MsgType.MESSAGE, MsgType.WARNING, MsgType.ALERT, MsgType.MUTED)
# Messages read and indexed per query when the index is built.
FILL_PAGE = 2000
# PostgreSQL: prefixes up to this many letters are lexemes of their own (see above).
PREFIX_LEXEMES = 3
# PostgreSQL: the newest rows a search reads one by one before it asks the GIN index.
# Where the words are common the page is found among them (a few ms at any size);
# where fewer match, the matches are rare enough for the index to list them all.
RECENT_WINDOW = 20_000
# FTS5's secure-delete: SQLite 3.42.0.
SECURE_DELETE_SQLITE = (3, 42, 0)
# The ``meta`` counter of deletions whose words may still be in FTS5's older segments
# (SQLite without secure-delete); zero once a full merge has dropped them.
PURGE_KEY = "search_purge"
# SQLite: the FTS5 table's options (see above); the migration creates it with these.
FTS5_OPTIONS = "tokenize='ascii', prefix='1 2 3 4', detail=none, columnsize=0"


def is_sqlite(db: pw.Database) -> bool:
    return isinstance(db, pw.SqliteDatabase)


def stored_words(db: pw.Database, text: str | None) -> object | None:
    """The ``words`` value of a text for this engine, or None if it has no word."""
    found = words(text) if text else []
    if not found:
        return None
    if is_sqlite(db):
        return " ".join(found)
    lexemes = dict.fromkeys(found)
    for word in found:
        lexemes.update(dict.fromkeys(word[:n] for n in range(1, PREFIX_LEXEMES + 1)))
    return list(lexemes)


def match_expression(db: pw.Database, query_words: Sequence[str]) -> str:
    """The engine's query for messages holding a word that begins with each of these.

    Each word is quoted: FTS5 reads ``"..."*`` as a prefix of one token, and
    PostgreSQL ``'...':*`` as a prefix of one lexeme, so nothing in a word
    (they hold letters, digits and marks only anyway) is taken as syntax.
    """
    if is_sqlite(db):
        return " AND ".join('"' + w.replace('"', '""') + '"*' for w in query_words)
    return " & ".join("'" + w.replace("\\", "\\\\").replace("'", "''") + "'"
                      + ("" if len(w) <= PREFIX_LEXEMES else ":*") for w in query_words)


class SearchSql:
    """The index's statements in one engine's dialect."""

    def __init__(self, db: pw.Database) -> None:
        p = db.param
        sqlite = is_sqlite(db)
        words_value = p if sqlite else f"array_to_tsvector({p}::text[])"
        # By the message's room and seq, as the writer knows it (no RETURNING needed).
        self.add = (f'INSERT INTO "message_search" ("id", "room_id", "words") '
                    f'SELECT "id", "room_id", {words_value} FROM "message" '
                    f'WHERE "room_id" = {p} AND "seq" = {p}')
        self.drop = ('DELETE FROM "message_search" WHERE "id" = (SELECT "id" FROM "message" '
                     f'WHERE "room_id" = {p} AND "seq" = {p})')
        self.fill = (f'INSERT INTO "message_search" ("id", "room_id", "words") '
                     f'VALUES ({p}, {p}, {words_value})')
        listed = ", ".join(str(int(t)) for t in INDEXED_TYPES)
        # Each message with its last edit's text (edits change msg_type 0 only).
        self.current_texts = (
            f'SELECT m."id", m."room_id", COALESCE((SELECT e."text" FROM "message" e '
            f'WHERE e."room_id" = m."room_id" AND e."target" = m."seq" '
            f'AND e."msg_type" = {int(MsgType.EDIT)} ORDER BY e."seq" DESC LIMIT 1), m."text") '
            f'FROM "message" m WHERE m."id" > {p} AND m."msg_type" IN ({listed}) '
            f'AND m."text" IS NOT NULL ORDER BY m."id" LIMIT {p}')
        # A page of hits, newest first: ids and rooms only; the rooms one may see are
        # a JSON array on SQLite (one parameter, however many) and an array elsewhere.
        if sqlite:
            self.hits = (
                'SELECT s."id", s."room_id" FROM "message_fts" f '
                'JOIN "message_search" s ON s."id" = f."rowid" '
                'WHERE "message_fts" MATCH ? AND f."rowid" < ? '
                'AND s."room_id" IN (SELECT "value" FROM json_each(?)) '
                'ORDER BY f."rowid" DESC LIMIT ?')
        else:
            # PostgreSQL in two steps (``recent_hits``, then ``hits`` below the window),
            # not left to the planner: it guesses a prefix it has no statistics for
            # ('etoer':*, no such word) to match 0.1% of the rows, walks the primary key
            # backwards for 21 of them, and reads the whole table (290 ms at 1M).
            self.recent_hits = (
                'SELECT "id", "room_id" FROM (SELECT "id", "room_id", "words" '
                'FROM "message_search" WHERE "id" < %s ORDER BY "id" DESC LIMIT %s) recent '
                'WHERE "words" @@ %s::tsquery AND "room_id" = ANY(%s) '
                'ORDER BY "id" DESC LIMIT %s')
            self.window_end = ('SELECT "id" FROM "message_search" WHERE "id" < %s '
                               'ORDER BY "id" DESC LIMIT 1 OFFSET %s')
            self.hits = (
                'SELECT "id", "room_id" FROM "message_search" '
                'WHERE "words" @@ %s::tsquery AND "id" < %s AND "room_id" = ANY(%s) '
                'ORDER BY "id" DESC LIMIT %s')
        # One step of a merge of the whole FTS5 index: a negative page count starts one
        # (every segment to a single level), a positive one goes on with it.
        self.merge = ('INSERT INTO "message_fts" ("message_fts", "rank") VALUES (\'merge\', ?)'
                      if sqlite else None)


def prepare(db: pw.Database) -> bool:
    """Make deletions remove the words from the index at once where the engine can;
    return whether it does (False: deleted words wait in FTS5 for ``merge_step``)."""
    if not is_sqlite(db):
        return True  # a deleted row is gone from the index once vacuumed, as any row
    if sqlite3.sqlite_version_info < SECURE_DELETE_SQLITE:
        return False
    # Stored with the index (its %_config table); set again at each open, at no cost.
    db.execute_sql("INSERT INTO \"message_fts\" (\"message_fts\", \"rank\") "
                   "VALUES ('secure-delete', 1)")
    return True


def merge_step(db: pw.Database, sql: SearchSql, pages: int, *, start: bool) -> bool:
    """Write about ``pages`` FTS5 pages of a merge of every segment into one (SQLite);
    ``start`` begins the merge, later steps go on with it. Returns whether there was
    work: False once the merge is done. In the caller's transaction.

    A full merge drops every deleted row's entries, as ``optimize`` does, but in
    steps of bounded cost. Segments the writer adds meanwhile are merged as
    usual, apart from it (FTS5's 'merge' command).
    """
    if sql.merge is None:
        return False
    connection = db.connection()
    before = int(connection.total_changes)
    db.execute_sql(sql.merge, (-pages if start else pages,))
    return int(connection.total_changes) - before >= 2  # FTS5's own sign of work done


def fill(db: pw.Database) -> int:
    """Index every live message and announcement of the database as it reads now; return
    how many. For an index that holds none of them yet (a migration, a copy)."""
    sql = SearchSql(db)
    last, count = 0, 0
    while True:
        page = db.execute_sql(sql.current_texts, (last, FILL_PAGE)).fetchall()
        if not page:
            return count
        rows = [(message_id, room_id, value) for message_id, room_id, text in page
                if (value := stored_words(db, text)) is not None]
        if rows:
            db.cursor().executemany(sql.fill, rows)
            count += len(rows)
        last = page[-1][0]
