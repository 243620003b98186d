"""The search index in the store, on SQLite and PostgreSQL (PROTOCOL.md Part 2, "Search").

Words are prefixes, case and accents do not count, every word must match;
results come newest first, each message as history gives it; the index keeps
in step with edits and deletions in their own transactions, holds no deleted
text, is built for the messages of an older database by the migration, and
takes no syntax from a query.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from multichat.protocol import MsgType
from multichat.protocol.words import words
from multichat.server.store import Store, search_index
from multichat.server.store.database import DATABASE_FILENAME, open_database
from multichat.server.store.errors import SearchTooLong
from multichat.server.store.records import Appended, NewMessage, SearchPage, StoredMessage, User
from multichat.server.store.search_purge import SearchPurger
from tests.server.store.old_databases import make_old_database
from tests.server.store.test_migrations import schema_of

BUDGET = 30.0  # seconds: generous, the tests judge results, not speed


def put(store: Store, user: User | None, room: int, text: str | None,
        kind: MsgType = MsgType.MESSAGE, **extra: object) -> StoredMessage:
    (outcome,) = store.append_messages([NewMessage(
        room_id=room, user_id=user.id if user else None,
        username=user.username if user else "admin", msg_type=kind, text=text,
        client_id=None, ts_ms=1_000, **extra)])  # type: ignore[arg-type]
    assert isinstance(outcome, Appended), outcome
    return outcome.message


def find(store: Store, query: str, rooms: list[int], before: int | None = None,
         limit: int = 20) -> SearchPage:
    return store.search(words(query), rooms, before, limit, budget=BUDGET)


def texts(page: SearchPage) -> list[str | None]:
    return [m.text for m in page.messages]


def visible_rooms(store: Store, user: User) -> list[int]:
    """The rooms ``user`` may search, by the one rule (``Room.visible_to``)."""
    return [room.id for room in store.rooms() if room.visible_to(user)]


@pytest.fixture
def alice(store: Store) -> User:
    return store.create_user("alice", "h")


def test_words_are_prefixes_without_case_or_accents_and_all_must_match(
    store: Store, alice: User,
) -> None:
    lobby = store.create_room("Lobby").id
    for text in ("Mon Résumé est prêt", "the RESUMES are in", "a presumed resumption",
                 "Crème brûlée at NOON", "naïve Straße", "nothing to see"):
        put(store, alice, lobby, text)
    assert texts(find(store, "resume", [lobby])) == ["the RESUMES are in",
                                                     "Mon Résumé est prêt"]
    assert texts(find(store, "RÉSUMÉ", [lobby])) == texts(find(store, "resume", [lobby]))
    assert texts(find(store, "res", [lobby])) == [
        "a presumed resumption", "the RESUMES are in", "Mon Résumé est prêt"]
    assert texts(find(store, "sumed", [lobby])) == []  # the start of a word only
    assert texts(find(store, "res pret", [lobby])) == ["Mon Résumé est prêt"]  # AND
    assert texts(find(store, "resume zzz", [lobby])) == []
    assert texts(find(store, "creme brulee noon", [lobby])) == ["Crème brûlée at NOON"]
    assert texts(find(store, "NAIVE strasse", [lobby])) == ["naïve Straße"]
    assert texts(find(store, "n", [lobby])) == [
        "nothing to see", "naïve Straße", "Crème brûlée at NOON"]
    page = find(store, "resume", [lobby])
    assert [(m.room_id, m.seq, m.username, m.msg_type) for m in page.messages] == [
        (lobby, 2, "alice", MsgType.MESSAGE), (lobby, 1, "alice", MsgType.MESSAGE)]
    assert (page.more, page.next_before) == (False, None)


def test_announcements_are_found_and_changes_are_not(store: Store, alice: User) -> None:
    lobby = store.create_room("Lobby").id
    put(store, None, lobby, "maintenance tonight", MsgType.WARNING)
    put(store, alice, lobby, "ok")
    put(store, alice, lobby, None, MsgType.REACTION, target=2, emoji="👍", on=True)
    page = find(store, "mainten", [lobby])
    assert [(m.seq, m.msg_type) for m in page.messages] == [(1, MsgType.WARNING)]
    (ok,) = find(store, "ok", [lobby]).messages
    assert ok.reactions == (("👍", ("alice",)),)  # as history gives it


def test_only_the_rooms_one_may_see_now(store: Store, alice: User) -> None:
    """Staff rooms to staff, direct conversations to their members, by Room.visible_to;
    a room made staff-only after its messages takes them out of everyone else's reach."""
    bob = store.create_user("bob", "h")
    sam = store.create_user("sam", "h", is_staff=True)
    root = store.create_user("root", "h", is_superuser=True)
    lobby = store.create_room("Lobby").id
    staff = store.create_room("Staff", staff_only=True).id
    put(store, alice, lobby, "launch plan public")
    put(store, sam, staff, "launch plan staff")
    direct, _ = store.open_direct(alice.id, ["bob"])
    put(store, bob, direct.room.id, "launch plan between us")
    seen = {user.username: texts(find(store, "launch plan", visible_rooms(store, user)))
            for user in (alice, bob, sam, root)}
    assert seen == {
        "alice": ["launch plan between us", "launch plan public"],
        "bob": ["launch plan between us", "launch plan public"],
        "sam": ["launch plan staff", "launch plan public"],
        "root": ["launch plan staff", "launch plan public"],  # no admin reads a direct room
    }
    store.update_room(lobby, staff_only=True)
    assert texts(find(store, "launch", visible_rooms(store, alice))) == [
        "launch plan between us"]
    assert texts(find(store, "launch", visible_rooms(store, sam))) == [
        "launch plan staff", "launch plan public"]
    assert texts(find(store, "launch", [])) == []


def test_edited_messages_are_found_by_their_current_text_only(
    store: Store, alice: User,
) -> None:
    lobby = store.create_room("Lobby").id
    put(store, alice, lobby, "the first draft")
    put(store, alice, lobby, None, MsgType.REACTION, target=1, emoji="👍", on=True)
    put(store, alice, lobby, "second version", MsgType.EDIT, target=1)
    assert texts(find(store, "draft", [lobby])) == []
    (edited,) = find(store, "second", [lobby]).messages
    assert (edited.seq, edited.text, edited.edited) == (1, "second version", True)
    assert edited.reactions == (("👍", ("alice",)),)
    put(store, alice, lobby, "🎉 !!", MsgType.EDIT, target=1)  # no words left
    put(store, alice, lobby, "third and final", MsgType.EDIT, target=1)
    assert texts(find(store, "second", [lobby])) == []
    assert texts(find(store, "fin", [lobby])) == ["third and final"]


def test_deleted_messages_are_never_found(store: Store, alice: User) -> None:
    lobby = store.create_room("Lobby").id
    put(store, alice, lobby, "forget this secret")
    put(store, alice, lobby, "forget this edited secret", MsgType.EDIT, target=1)
    put(store, alice, lobby, "keep this")
    put(store, alice, lobby, None, MsgType.DELETE, target=1)
    assert texts(find(store, "forget", [lobby])) == []
    assert texts(find(store, "secret", [lobby])) == []
    assert texts(find(store, "this", [lobby])) == ["keep this"]
    other = store.create_room("Other").id
    put(store, alice, other, "forget me with my room")
    store.delete_room(other)
    assert texts(find(store, "forget", [other])) == []
    count = store.db.execute_sql('SELECT COUNT(*) FROM "message_search"').fetchone()[0]
    assert count == 1  # "keep this": nothing else is left in the index


def _index_holds(store: Store, *needles: bytes) -> bool:
    blobs = store.db.execute_sql('SELECT "block" FROM "message_fts_data"').fetchall()
    return any(n in bytes(row[0]) for row in blobs if row[0] is not None for n in needles)


def test_the_index_keeps_no_deleted_words_in_the_file(tmp_path: Path) -> None:
    """Not only unfound: the words leave the database file and its WAL, FTS5's older
    segments too: at once by secure-delete (SQLite 3.42+), else once the writer's purge
    thread has merged the index, in steps, after the deletion."""
    store = Store.open_data_dir(tmp_path)
    commits = threading.Event()
    purger = SearchPurger(store, commits, pages=2, check_interval=0.01)
    try:
        alice = store.create_user("alice", "h")
        lobby = store.create_room("Lobby").id
        for n in range(30):  # several FTS5 segments, one transaction each
            put(store, alice, lobby, f"filler message number {n}")
        put(store, alice, lobby, "zanzibarquux original words")  # seq 31
        put(store, alice, lobby, "zanzibarquux edited xylophonequux", MsgType.EDIT, target=31)
        put(store, alice, lobby, "kept wordsworthquux")
        store.checkpoint()
        data = (tmp_path / DATABASE_FILENAME).read_bytes()
        assert b"zanzibarquux" in data and b"xylophonequux" in data  # the test can see them
        put(store, alice, lobby, None, MsgType.DELETE, target=31)
        assert texts(find(store, "zanzibarquux", [lobby])) == []  # at once, either way
        if sqlite3.sqlite_version_info < search_index.SECURE_DELETE_SQLITE:
            # The deletion did not rewrite the index (a 1.5 s write lock at 1M messages):
            # the words wait in an older segment, and the deletion is counted.
            assert _index_holds(store, b"zanzibarquux")
            assert store.deleted_words_pending() == 1
        purger.start()
        commits.set()
        deadline = time.monotonic() + 30
        while store.deleted_words_pending() and time.monotonic() < deadline:
            commits.set()
            time.sleep(0.01)
        assert store.deleted_words_pending() == 0
        assert not _index_holds(store, b"zanzibarquux", b"xylophonequux")
        assert _index_holds(store, b"wordsworthquux")
        assert texts(find(store, "wordsworthquux", [lobby])) == ["kept wordsworthquux"]
    finally:
        purger.stop()
        store.close()
    data = b"".join(path.read_bytes() for path in tmp_path.iterdir()
                    if path.name.startswith(DATABASE_FILENAME))
    assert b"wordsworthquux" in data
    assert b"zanzibarquux" not in data and b"xylophonequux" not in data


def test_a_deletion_costs_the_same_in_a_small_and_a_big_room(sqlite_store: Store) -> None:
    """A deletion holds the write lock: its work must not grow with the index or the room
    (optimize rewrote the whole index; the text's erasure walked the room's messages).
    Counted in SQLite's virtual machine steps, not in time."""
    store = sqlite_store
    alice = store.create_user("alice", "h")
    steps = {}
    for size in (100, 3000):
        room = store.create_room(f"Room of {size}").id
        store.append_messages([NewMessage(room, alice.id, "alice", MsgType.MESSAGE,
                                          f"filler words number {n}", None, n)
                               for n in range(size)])
        put(store, alice, room, "doomed words here")
        connection = store.db.connection()
        counted = [0]

        def count(counted: list[int] = counted) -> int:
            counted[0] += 1
            return 0

        connection.set_progress_handler(count, 100)
        try:
            put(store, alice, room, None, MsgType.DELETE, target=size + 1)
        finally:
            connection.set_progress_handler(None, 0)
        steps[size] = counted[0]
        assert texts(find(store, "doomed", [room])) == []
    assert steps[3000] < steps[100] * 1.5 + 20, steps


def test_a_deleted_room_is_counted_and_merged_out_too(tmp_path: Path) -> None:
    store = Store.open_data_dir(tmp_path)
    try:
        alice = store.create_user("alice", "h")
        doomed = store.create_room("Doomed").id
        kept = store.create_room("Kept").id
        for n in range(5):
            put(store, alice, doomed, f"quokkaquux number {n}")
            put(store, alice, kept, f"filler {n}")
        store.delete_room(doomed)
        old = sqlite3.sqlite_version_info < search_index.SECURE_DELETE_SQLITE
        assert store.deleted_words_pending() == (1 if old else 0)
        start = True
        while store.merge_search_index(1, start=start):  # by hand, a page a step
            start = False
        assert store.deleted_words_purged(store.deleted_words_pending())
        assert store.deleted_words_pending() == 0
        assert not _index_holds(store, b"quokkaquux")
        assert texts(find(store, "filler", [kept])) == [f"filler {n}" for n in range(4, -1, -1)]
    finally:
        store.close()


def test_a_deletion_during_a_merge_keeps_the_count(tmp_path: Path) -> None:
    """The counter is zeroed only for the deletions the finished merge began after."""
    store = Store.open_data_dir(tmp_path)
    try:
        alice = store.create_user("alice", "h")
        lobby = store.create_room("Lobby").id
        put(store, alice, lobby, "one")
        put(store, alice, lobby, "two")
        put(store, alice, lobby, None, MsgType.DELETE, target=1)
        pending = store.deleted_words_pending()
        put(store, alice, lobby, None, MsgType.DELETE, target=2)
        if sqlite3.sqlite_version_info < search_index.SECURE_DELETE_SQLITE:
            assert not store.deleted_words_purged(pending)
            assert store.deleted_words_pending() == 2
    finally:
        store.close()


def test_pages_go_back_with_the_cursor(store: Store, alice: User) -> None:
    lobby = store.create_room("Lobby").id
    other = store.create_room("Other").id
    for n in range(1, 8):
        put(store, alice, lobby, f"page item {n}")
        put(store, alice, other, f"page elsewhere {n}")
    first = find(store, "page item", [lobby], limit=3)
    assert texts(first) == ["page item 7", "page item 6", "page item 5"]
    assert first.more and first.next_before == first.ids[-1]
    second = find(store, "page item", [lobby], before=first.next_before, limit=3)
    assert texts(second) == ["page item 4", "page item 3", "page item 2"]
    last = find(store, "page item", [lobby], before=second.next_before, limit=3)
    assert texts(last) == ["page item 1"] and not last.more and last.next_before is None
    both = find(store, "page", [lobby, other], limit=100)
    assert len(both.messages) == 14 and not both.more
    assert both.ids == sorted(both.ids, reverse=True)  # newest first across rooms
    exact = find(store, "page item", [lobby], limit=7)
    assert len(exact.messages) == 7 and not exact.more


def test_query_words_are_quoted_never_syntax(store: Store, alice: User) -> None:
    """Words reach the engine as quoted prefixes: FTS5 and tsquery operators in them are
    letters to match, and never an error."""
    lobby = store.create_room("Lobby").id
    put(store, alice, lobby, 'quotes " and * stars: NEAR(x y) AND OR NOT -minus ^caret')
    assert texts(find(store, 'NEAR AND "not" -minus ^caret star*', [lobby])) == [
        'quotes " and * stars: NEAR(x y) AND OR NOT -minus ^caret']
    # Tokens no tokenizer would give, straight to the store: the store cuts them into
    # words again, so they find what their words find, and never raise.
    for raw in ('a"b', "a'b", "x*", "near(", "-", ":", "^", "\\", "a & b", "s | !c", "''"):
        assert store.search([raw], [lobby], None, 5, budget=BUDGET).messages == \
            find(store, raw, [lobby], limit=5).messages, raw
    assert texts(find(store, "x* -minus", [lobby])) == texts(find(store, "x minus", [lobby]))
    assert len(find(store, "x* -minus", [lobby]).messages) == 1


def test_a_search_past_its_budget_is_stopped(sqlite_store: Store) -> None:
    store = sqlite_store
    alice = store.create_user("alice", "h")
    lobby = store.create_room("Lobby").id
    quiet = store.create_room("Quiet").id
    store.append_messages([NewMessage(lobby, alice.id, "alice", MsgType.MESSAGE,
                                      f"common word {n}", None, n) for n in range(3000)])
    # Every match lies in a room not searched: the whole list is read, past a budget of 0.
    with pytest.raises(SearchTooLong):
        store.search(["common"], [quiet], None, 20, budget=0.0)
    assert store.search(["common"], [quiet], None, 20, budget=BUDGET).messages == []


def test_a_version_5_database_gets_its_messages_indexed(store_url: str) -> None:
    make_old_database(store_url, 5)  # "message 1" to "message 3" in room 1
    db = open_database(store_url)
    try:
        with db.atomic():
            rows = [(4, 0, "Réunion demain", None), (5, 6, "Réunion lundi", 4),
                    (6, 0, "secret gone", None), (7, 7, None, 6), (8, 1, "Alerte serveur", None),
                    (9, 0, "Réunion annulée", None), (10, 6, "🎉", 9)]
            for seq, kind, text, target in rows:
                db.execute_sql(
                    'INSERT INTO "message" ("room_id", "seq", "account_id", "username", '
                    '"msg_type", "text", "ts_ms", "target") VALUES (1, %s, 1, \'veteran\', '
                    '%s, %s, 1, %s)'.replace("%s", db.param), (seq, kind, text, target))
            db.execute_sql('UPDATE "room" SET "last_seq" = 10')
    finally:
        db.close()
    store = Store.open(store_url)
    try:
        veteran = store.user("veteran")
        assert veteran is not None
        rooms = visible_rooms(store, veteran)
        assert texts(find(store, "message", rooms)) == ["message 3", "message 2", "message 1"]
        assert texts(find(store, "reunion", rooms)) == ["Réunion lundi"]  # its edit
        assert texts(find(store, "demain", rooms)) == []  # its old text
        assert texts(find(store, "secret", rooms)) == []  # deleted
        assert texts(find(store, "ALERTE", rooms)) == ["Alerte serveur"]
        assert texts(find(store, "annul", rooms)) == []  # edited to no words
        # And it keeps in step from then on.
        put(store, veteran, rooms[0], "Réunion mardi")
        assert texts(find(store, "reu", rooms)) == ["Réunion mardi", "Réunion lundi"]
    finally:
        store.close()


def test_a_version_5_database_upgrades_to_the_schema_a_new_one_has(tmp_path: Path) -> None:
    """Main's final version 5 (old_databases runs its steps), not a copy of it."""
    (tmp_path / "old").mkdir()
    make_old_database("sqlite:///" + str(tmp_path / "old" / DATABASE_FILENAME), 5)
    Store.open_data_dir(tmp_path / "old").close()
    Store.open_data_dir(tmp_path / "fresh").close()
    upgraded, fresh = (schema_of(tmp_path / name / DATABASE_FILENAME)
                       for name in ("old", "fresh"))
    assert upgraded == fresh and any("message_fts" in sql for sql in fresh)
    store = Store.open_data_dir(tmp_path / "old")
    try:
        assert store.deleted_words_pending() == 0
        assert texts(find(store, "mess", [1])) == ["message 3", "message 2", "message 1"]
    finally:
        store.close()


def test_sqlite_index_tables_are_the_ones_the_schema_names(sqlite_store: Store) -> None:
    names = {row[0] for row in sqlite_store.db.execute_sql(
        "SELECT name FROM sqlite_master WHERE name LIKE 'message_%'").fetchall()}
    assert {"message_search", "message_fts", "message_search_added",
            "message_search_removed", "message_search_changed"} <= names
    with sqlite3.connect(":memory:") as probe:  # FTS5 is compiled into this SQLite
        probe.execute("CREATE VIRTUAL TABLE t USING fts5(x)")


def test_a_small_recent_window_finds_the_same_pages(
    store: Store, alice: User, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL reads the newest rows first, then asks the GIN index below them: the
    same results whichever step finds them (SQLite has one step)."""
    lobby = store.create_room("Lobby").id
    for n in range(1, 13):
        put(store, alice, lobby, f"{'rare' if n % 4 == 0 else 'common'} entry {n}")
    expected = {query: [texts(find(store, query, [lobby], limit=limit))
                        for limit in (1, 2, 5, 20)] for query in ("rare", "common", "entry")}
    monkeypatch.setattr("multichat.server.store.search_index.RECENT_WINDOW", 3)
    for query, pages in expected.items():
        assert [texts(find(store, query, [lobby], limit=limit))
                for limit in (1, 2, 5, 20)] == pages, query
    assert texts(find(store, "rare", [lobby])) == ["rare entry 12", "rare entry 8",
                                                   "rare entry 4"]
    second = find(store, "rare", [lobby], before=find(store, "rare", [lobby], limit=1)
                  .next_before, limit=5)
    assert texts(second) == ["rare entry 8", "rare entry 4"] and not second.more
