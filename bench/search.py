"""Search at a million messages, through the real Store, on SQLite and PostgreSQL.

A database gets 50 rooms (40 open, 5 staff-only, 5 direct conversations) and
1,000,000 messages of chat-like text (a Zipf mix of common English words and
20,000 made-up ones, some accented), written straight into the tables and the
index (executemany on SQLite, COPY on PostgreSQL): the writer would take an
hour. A user who is not staff and is in 2 of the direct conversations (42 of
the 50 rooms) then runs two-word prefix queries through ``Store.search``, as
``chat/search.py`` calls it: words drawn from the whole range of frequency
(rank 1 to 20,000, log-uniform), each cut to a prefix of 1 letter to the whole
word, so that pairs run from "t a" to two rare whole words.

PostgreSQL runs where ``MULTICHAT_BENCH_POSTGRES`` names an empty database.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from multichat.protocol import MsgType
from multichat.protocol.words import words
from multichat.server.store import Store, search_index
from multichat.server.store.records import NewMessage, User

ROOMS_OPEN, ROOMS_STAFF, ROOMS_DIRECT = 40, 5, 5
BUDGET = 5.0  # seconds: far above what is measured; a stop would show as an error
_COMMON = ("the to i you a and it is that in of for we on this be have with can what "
          "not do are so my at if but just me will was all your no get ok there about "
          "like think know one up out now how when time yes good see would they need "
          "today tomorrow meeting review release deploy build test please thanks "
          "résumé café déjà naïve réunion problème été")
COMMON = _COMMON.split()
_SYLLABLES = ("ka to ri me su na lo pe di ra ve mo ti sa ne lu ba co de fi ga ho ju ki la "
             "mi no pa qu re si tu vo wa xe yo ze ch st tr pl an er in on ou é è ü")
SYLLABLES = _SYLLABLES.split()


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    """Common words first, then made-up ones: rank order for a Zipf draw."""
    found = dict.fromkeys(COMMON)
    while len(found) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
        found.setdefault(word)
    return list(found)


def texts(rng: random.Random, vocab: list[str], count: int) -> Iterator[str]:
    weights = list(itertools.accumulate(1 / (rank + 1) ** 1.05 for rank in range(len(vocab))))
    for _ in range(count):
        chosen = rng.choices(vocab, cum_weights=weights, k=rng.randint(3, 18))
        text = " ".join(chosen)
        if rng.random() < 0.3:
            text = text.capitalize() + rng.choice((".", "!", "?", " :)", ","))
        yield text


def prepare(store: Store) -> tuple[User, list[int]]:
    """The rooms and the searching user; returns the user and every room's id."""
    me = store.create_user("searcher", "x")
    others = [store.create_user(f"u{n}", "x") for n in range(ROOMS_DIRECT * 2)]
    rooms = [store.create_room(f"Room {n}").id for n in range(ROOMS_OPEN)]
    rooms += [store.create_room(f"Staff {n}", staff_only=True).id for n in range(ROOMS_STAFF)]
    for n in range(ROOMS_DIRECT):  # the searcher is in the first two
        opener = me if n < 2 else others[2 * n + 1]
        rooms.append(store.open_direct(opener.id, [others[2 * n].username])[0].room.id)
    return me, rooms


def fill(store: Store, rooms: list[int], total: int, rng: random.Random) -> float:
    """``total`` messages spread over the rooms, with their index rows; seconds taken."""
    vocab = vocabulary(rng)
    seqs = dict.fromkeys(rooms, 0)
    t0 = time.perf_counter()
    page = 50_000
    generated = texts(rng, vocab, total)
    next_id = 1
    for start in range(0, total, page):
        messages, index = [], []
        for text in itertools.islice(generated, min(page, total - start)):
            room = rng.choice(rooms)
            seqs[room] += 1
            messages.append((next_id, room, seqs[room], 1, "searcher", 0, text, next_id))
            index.append((next_id, room, search_index.stored_words(store.db, text)))
            next_id += 1
        if store.is_sqlite:
            _sqlite_rows(store, messages, index)
        else:
            _postgres_rows(store, messages, index)
    for room, seq in seqs.items():
        store.db.execute_sql(f'UPDATE "room" SET "last_seq" = {store.db.param} '
                             f'WHERE "id" = {store.db.param}', (seq, room))
    if not store.is_sqlite:
        store.db.execute_sql("SELECT setval(pg_get_serial_sequence('message', 'id'), %s)",
                             (next_id,))
        store.db.execute_sql('CREATE INDEX "message_search_words" ON "message_search" '
                             'USING GIN ("words")')
        store.db.execute_sql("ANALYZE")
    return time.perf_counter() - t0


_MESSAGE_COLUMNS = '"id", "room_id", "seq", "account_id", "username", "msg_type", "text", "ts_ms"'


def _sqlite_rows(store: Store, messages: list[Any], index: list[Any]) -> None:
    with store.db.atomic():
        cursor = store.db.cursor()
        cursor.executemany(f'INSERT INTO "message" ({_MESSAGE_COLUMNS}) '
                           'VALUES (?, ?, ?, ?, ?, ?, ?, ?)', messages)
        cursor.executemany('INSERT INTO "message_search" ("id", "room_id", "words") '
                           'VALUES (?, ?, ?)', [row for row in index if row[2] is not None])


def _postgres_rows(store: Store, messages: list[Any], index: list[Any]) -> None:
    connection = store.db.connection()
    store.db.execute_sql('DROP INDEX IF EXISTS "message_search_words"')  # made once at the end
    with store.db.atomic(), connection.cursor() as cursor:
        with cursor.copy(f'COPY "message" ({_MESSAGE_COLUMNS}) FROM STDIN') as copy:
            for row in messages:
                copy.write_row(row)
        with cursor.copy('COPY "message_search" ("id", "room_id", "words") FROM STDIN') as copy:
            for message_id, room, lexemes in index:
                if lexemes is not None:  # tsvector text: the words hold no quote
                    copy.write_row((message_id, room, " ".join(f"'{w}'" for w in lexemes)))


def queries(rng: random.Random, count: int) -> list[list[str]]:
    """Two-word prefix queries over the whole range of word frequency."""
    vocab = vocabulary(random.Random(7))
    chosen = []
    for _ in range(count):
        pair = []
        for _ in range(2):
            rank = int(math.exp(rng.uniform(0, math.log(len(vocab))))) - 1
            word = words(vocab[rank])[0]
            pair.append(word[:rng.randint(1, len(word))])
        chosen.append(pair)
    return chosen


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def measure(store: Store, me: User, total: int, count: int) -> dict[str, Any]:
    visible = [room.id for room in store.rooms() if room.visible_to(me)]
    rng = random.Random(11)
    asked = queries(rng, count)
    for pair in asked[:20]:  # warm the caches, as a running server's are
        store.search(pair, visible, None, 20, budget=BUDGET)
    times, hits, more = [], [], 0
    for pair in asked:
        t0 = time.perf_counter()
        page = store.search(pair, visible, None, 20, budget=BUDGET)
        times.append((time.perf_counter() - t0) * 1e3)
        hits.append(len(page.messages))
        more += page.more
    slowest = max(range(count), key=lambda i: times[i])
    # A second page, from the cursor of a first one of common words.
    first = store.search(["th", "a"], visible, None, 20, budget=BUDGET)
    t0 = time.perf_counter()
    store.search(["th", "a"], visible, first.next_before, 20, budget=BUDGET)
    second_page_ms = (time.perf_counter() - t0) * 1e3
    return {"engine": "sqlite" if store.is_sqlite else "postgresql", "messages": total,
            "rooms_searched": len(visible), "queries": count,
            "p50_ms": percentile(times, 0.50), "p95_ms": percentile(times, 0.95),
            "p99_ms": percentile(times, 0.99), "max_ms": max(times),
            "slowest": " ".join(asked[slowest]), "full_pages": more,
            "empty": sum(1 for h in hits if h == 0), "second_page_ms": second_page_ms}


def deletion_ms(store: Store, me: User, room: int) -> float:
    """One message deleted through the writer's batch: a plain FTS5 delete (on SQLite
    before 3.42 the words are merged out of the file later, off the writer's path:
    store/search_purge.py)."""
    (stored,) = store.append_messages([NewMessage(room, me.id, "searcher", MsgType.MESSAGE,
                                                  "to be deleted", None, 1)])
    seq = stored.message.seq  # type: ignore[union-attr]
    t0 = time.perf_counter()
    store.append_messages([NewMessage(room, me.id, "searcher", MsgType.DELETE, None, None, 2,
                                      target=seq)])
    return (time.perf_counter() - t0) * 1e3


def one_engine(open_store: Callable[[], Store], total: int, count: int) -> dict[str, Any]:
    store = open_store()
    try:
        me, rooms = prepare(store)
        filled = fill(store, rooms, total, random.Random(3))
        row = measure(store, me, total, count)
        row["fill_s"] = filled
        row["delete_ms"] = deletion_ms(store, me, rooms[0])
        return row
    finally:
        store.close()


def run(quick: bool) -> list[dict[str, Any]]:
    total = 100_000 if quick else 1_000_000
    count = 300 if quick else 2_000
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        rows.append(one_engine(lambda: Store.open_data_dir(Path(directory)), total, count))
    url = os.environ.get("MULTICHAT_BENCH_POSTGRES")
    if url:
        rows.append(one_engine(lambda: Store.open(url), total, count))
    return rows


if __name__ == "__main__":
    print(json.dumps(run(quick=os.environ.get("QUICK") == "1"), indent=1))
