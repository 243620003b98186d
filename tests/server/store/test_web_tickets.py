"""The browser's login tickets in the database: sealed at rest, good once across
processes, expiring, bounded per user; and the upgrade that adds their table."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from multichat.server.chat.tickets import TicketBook, seal, ticket_digest, unseal
from multichat.server.store import Store
from multichat.server.store.database import open_database
from multichat.server.store.executor import StoreExecutor
from multichat.server.store.migrations import SCHEMA_VERSION
from multichat.server.store.web_tickets import WebTicketStore
from tests.server.store.old_databases import make_old_database

TOKEN = "the-login-token-Zq8vX3"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def executor(store: Store) -> Iterator[StoreExecutor]:
    pool = StoreExecutor(store, threads=1)  # one thread: close() surely reaches it
    yield pool
    pool.close()


def rows(store: Store) -> list[tuple[bytes, ...]]:
    """Every ticket row as it lies in the database, each column as bytes."""
    found = store.db.execute_sql('SELECT * FROM "web_ticket"').fetchall()
    return [tuple(str(v).encode() if not isinstance(v, (bytes, memoryview)) else bytes(v)
                  for v in row) for row in found]


def user(store: Store, name: str) -> int:
    return store.create_user(name, "hash").id


async def test_a_ticket_is_good_once_and_only_until_it_expires(
    store: Store, executor: StoreExecutor
) -> None:
    clock = Clock()
    alice = user(store, "alice")
    book = TicketBook(executor, clock, ttl=60)
    ticket = await book.issue(TOKEN, alice)
    redeemed = await book.redeem(ticket)
    assert redeemed is not None and (redeemed.token, redeemed.user_id) == (TOKEN, alice)
    assert await book.redeem(ticket) is None  # replayed
    late = await book.issue(TOKEN, alice)
    clock.now += 60
    assert await book.redeem(late) is None  # expired
    assert await book.redeem("made-up") is None
    assert await book.redeem("x" * 10_000) is None


async def test_the_database_holds_no_token_and_a_row_opens_for_its_own_ticket_only(
    store: Store, executor: StoreExecutor
) -> None:
    alice = user(store, "alice")
    book = TicketBook(executor, Clock())
    ticket = await book.issue(TOKEN, alice)
    other = await book.issue(TOKEN, alice)
    stored = rows(store)
    assert len(stored) == 2
    for row in stored:
        for column in row:
            assert TOKEN.encode() not in column and ticket.encode() not in column
    sealed = {bytes(digest).decode(): bytes(blob) for digest, blob, *_ in stored}
    mine = sealed[ticket_digest(ticket)]
    assert unseal(ticket, mine, alice) == TOKEN
    # Another ticket, a guessed one, another owner, a flipped bit: nothing opens.
    assert unseal(other, mine, alice) is None
    assert unseal("guess", mine, alice) is None
    assert unseal(ticket, mine, alice + 1) is None
    assert unseal(ticket, mine[:-1] + bytes([mine[-1] ^ 1]), alice) is None
    # Nor does a row moved under another ticket's digest: the seal is bound to its own.
    assert unseal(other, sealed[ticket_digest(other)], alice) == TOKEN
    assert seal(ticket, TOKEN, alice) != seal(ticket, TOKEN, alice)  # a fresh nonce each


async def test_expired_rows_are_purged_and_a_user_holds_a_bounded_number(
    store: Store, executor: StoreExecutor
) -> None:
    clock = Clock()
    alice, bob = user(store, "alice"), user(store, "bob")
    book = TicketBook(executor, clock, ttl=60, per_user=3)
    bobs = await book.issue("bob-token", bob)
    first = await book.issue(TOKEN, alice)
    for _ in range(3):
        clock.now += 1  # "oldest" is by expiry: one issued in the same ms may go instead
        await book.issue(TOKEN, alice)
    assert store.web_tickets.count() == 4  # alice's three newest and bob's
    assert await book.redeem(first) is None  # her oldest went first
    assert (await book.redeem(bobs)) is not None  # a flood by one evicts no one else's
    clock.now += 61
    await book.issue(TOKEN, bob)
    assert store.web_tickets.count() == 1


def test_of_two_processes_redeeming_one_ticket_exactly_one_wins(
    store: Store, store_url: str
) -> None:
    """Two connections to one database (as two processes have) take the same row at
    the same moment, many times over: never both, never neither."""
    alice = user(store, "alice")
    others = [open_database(store_url) for _ in range(2)]
    stores = [WebTicketStore(db) for db in others]
    try:
        for attempt in range(30):
            digest = f"{attempt:064x}"
            store.web_tickets.add(digest, b"sealed", alice, 2**40, now_ms=0, per_user=100)
            barrier = threading.Barrier(2)
            won: list[bool] = []

            def take(rows: WebTicketStore, digest: str, barrier: threading.Barrier,
                     won: list[bool]) -> None:
                barrier.wait()
                won.append(rows.take(digest, 1) is not None)
                rows.db.close()  # this thread's connection

            threads = [threading.Thread(target=take, args=(rows, digest, barrier, won))
                       for rows in stores]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert sorted(won) == [False, True], attempt
    finally:
        for db in others:
            db.close()


def test_the_bound_per_user_holds_when_two_processes_issue_at_once(
    store: Store, store_url: str
) -> None:
    alice = user(store, "alice")
    others = [open_database(store_url) for _ in range(2)]
    stores = [WebTicketStore(db) for db in others]

    def add(rows: WebTicketStore, digest: str, barrier: threading.Barrier) -> None:
        barrier.wait()
        rows.add(digest, b"sealed", alice, 2**40, now_ms=0, per_user=1)
        rows.db.close()  # this thread's connection

    try:
        for attempt in range(20):
            barrier = threading.Barrier(2)
            threads = [threading.Thread(target=add, args=(rows, f"{attempt}-{n}", barrier))
                       for n, rows in enumerate(stores)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert store.web_tickets.count() == 1, attempt
    finally:
        for db in others:
            db.close()


def test_a_version_7_database_upgrades_and_holds_tickets(store_url: str) -> None:
    make_old_database(store_url, 7)
    opened = Store.open(store_url)
    try:
        assert opened.schema_version() == SCHEMA_VERSION
        opened.web_tickets.add("d" * 64, b"sealed", 1, 2_000, now_ms=1_000, per_user=4)
        taken = opened.web_tickets.take("d" * 64, 1_500)
        assert taken is not None and (taken.sealed, taken.user_id) == (b"sealed", 1)
        assert opened.web_tickets.take("d" * 64, 1_500) is None
    finally:
        opened.close()


def test_deleting_a_user_deletes_their_tickets(store: Store) -> None:
    user(store, "alice")
    store.web_tickets.add("e" * 64, b"sealed", store.user("alice").id,  # type: ignore[union-attr]
                          2**40, now_ms=0, per_user=4)
    store.delete_user("alice")
    assert store.web_tickets.count() == 0
