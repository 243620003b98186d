"""Search over real sockets (PROTOCOL.md Part 2, "Search"): what a user finds, what they
never find (others' direct conversations, staff rooms, deleted text), the cursor, and
queries the server refuses or reads as plain words."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.conftest import ADMIN, ALICE, BOB, STAFF, ClientFactory
from tests.helpers.client import Frame, ProtocolClient
from tests.helpers.servers import seeded_server
from tests.helpers.waiting import eventually

LOBBY, STAFF_ROOM, MISSING = 1, 2, 999


@pytest.fixture
async def server(server_config: ServerConfig,
                 passwords: Passwords) -> AsyncIterator[ChatServer]:
    config = dataclasses.replace(server_config, send_burst=100, command_burst=60)
    async with seeded_server(config, passwords) as chat_server:
        yield chat_server


async def search(client: ProtocolClient, query: str, **extra: Any) -> Frame:
    await client.send(command="search", query=query, ref="s", **extra)
    frame: Frame = await client.expect(lambda f: f.get("ref") == "s")
    return frame


async def say(client: ProtocolClient, room: int | str, text: str) -> Frame:
    await client.send(command="send", room=room, message=text, client_id=text[:100])
    frame: Frame = await client.expect(lambda f: f.get("client_id") == text[:100])
    return frame


def found(frame: Frame) -> list[str | None]:
    assert "results" in frame, frame
    return [event["message"] for event in frame["results"]]


async def open_dm(client: ProtocolClient, *users: str) -> str:
    await client.send(command="dm.open", users=list(users), ref="dm")
    frame = await client.expect(lambda f: f.get("ref") == "dm")
    room: str = frame["dm"]["id"]
    return room


async def test_a_user_finds_messages_as_history_gives_them(connect: ClientFactory) -> None:
    alice, bob = await connect(ALICE), await connect(BOB)
    await alice.join(LOBBY)
    await bob.join(LOBBY)
    await say(alice, LOBBY, "Mon Résumé est prêt")
    first = await say(bob, LOBBY, "the meeting is at noon")
    await say(bob, LOBBY, "MEETINGS again?")
    await alice.send(command="react", room=LOBBY, seq=first["seq"], emoji="👍")
    await alice.expect(lambda f: f.get("emoji") == "👍")
    page = await search(alice, "resume")
    assert page["search"] == "resume" and page["more"] is False and "next" not in page
    assert found(page) == ["Mon Résumé est prêt"]
    assert found(await search(alice, "meet")) == ["MEETINGS again?", "the meeting is at noon"]
    hit = (await search(alice, "Meeting NOON"))["results"]
    await alice.send(command="history", room=LOBBY, ref="h")
    history = await alice.expect(lambda f: f.get("ref") == "h")
    assert hit == [m for m in history["messages"] if m["seq"] == first["seq"]]
    assert hit[0]["room"] == "1" and hit[0]["reactions"] == {"👍": ["alice"]}
    assert found(await search(alice, "meet", room=LOBBY)) == found(await search(alice, "meet"))


async def test_edits_and_deletions_change_what_is_found(connect: ClientFactory) -> None:
    alice = await connect(ALICE)
    await alice.join(LOBBY)
    typo = await say(alice, LOBBY, "the quarterly numbres")
    secret = await say(alice, LOBBY, "the password is swordfish")
    await alice.send(command="edit", room=LOBBY, seq=typo["seq"],
                     message="the quarterly numbers")
    await alice.expect(lambda f: f.get("msg_type") == 6)
    await alice.send(command="delete", room=LOBBY, seq=secret["seq"])
    await alice.expect(lambda f: f.get("msg_type") == 7)
    assert found(await search(alice, "numbres")) == []
    (edited,) = (await search(alice, "quarterly numbers"))["results"]
    assert edited["edited"] is True and edited["seq"] == typo["seq"]
    assert found(await search(alice, "swordfish")) == []
    assert found(await search(alice, "the")) == ["the quarterly numbers"]


async def test_no_one_finds_a_direct_conversation_they_are_not_in(
    connect: ClientFactory,
) -> None:
    alice, bob = await connect(ALICE), await connect(BOB)
    sam, admin = await connect(STAFF), await connect(ADMIN)
    room = await open_dm(alice, "bob")
    await alice.join(room)
    await say(alice, room, "our secret rendezvous")
    await alice.join(LOBBY)
    await say(alice, LOBBY, "a public rendezvous")
    assert found(await search(bob, "rendez")) == ["a public rendezvous",
                                                  "our secret rendezvous"]
    for outsider in (sam, admin):  # staff and a superuser alike
        assert found(await search(outsider, "rendez")) == ["a public rendezvous"]
        answer = await search(outsider, "rendez", room=room)
        missing = await search(outsider, "rendez", room=MISSING)
        assert answer["error"] == missing["error"] == "ROOM_INVALID"
        assert not [f for f in outsider.seen if "our secret" in str(f)]
    assert found(await search(bob, "secret", room=room)) == ["our secret rendezvous"]


async def test_staff_rooms_are_searched_by_staff_only_and_as_they_are_now(
    connect: ClientFactory,
) -> None:
    alice, sam, admin = await connect(ALICE), await connect(STAFF), await connect(ADMIN)
    await sam.join(STAFF_ROOM)
    await say(sam, STAFF_ROOM, "budget figures for staff")
    await alice.join(LOBBY)
    await say(alice, LOBBY, "budget question from alice")
    assert found(await search(alice, "budget")) == ["budget question from alice"]
    assert (await search(alice, "budget", room=STAFF_ROOM))["error"] == "ROOM_ACCESS_DENIED"
    assert found(await search(sam, "budget")) == ["budget question from alice",
                                                  "budget figures for staff"]
    # The lobby made staff-only after alice spoke: her own message is out of her reach.
    await admin.send(command="room.update", room=LOBBY, staff_only=True, ref="u")
    await admin.expect(lambda f: f.get("ref") == "u")
    assert found(await search(alice, "budget")) == []
    assert (await search(alice, "budget", room=LOBBY))["error"] == "ROOM_ACCESS_DENIED"
    assert len(found(await search(sam, "budget"))) == 2


async def test_the_cursor_pages_back_to_the_oldest(connect: ClientFactory) -> None:
    alice = await connect(ALICE)
    await alice.join(LOBBY)
    for n in range(1, 6):
        await say(alice, LOBBY, f"item number {n}")
    seen: list[str | None] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await search(alice, "item", limit=2, **({"before": cursor} if cursor else {}))
        pages += 1
        seen += found(page)
        if not page["more"]:
            assert "next" not in page
            break
        cursor = page["next"]
        assert isinstance(cursor, str) and cursor.isdigit()
    assert seen == [f"item number {n}" for n in range(5, 0, -1)] and pages == 3
    assert len(found(await search(alice, "item", limit=1000))) == 5  # up to 100


@pytest.mark.parametrize("command", [
    {"query": ""},
    {"query": "   "},
    {"query": "!!! ... ???"},
    {"query": '"'},
    {"query": "*"},
    {"query": "x" * 201},
    {"query": "one two three four five six seven eight nine"},
    {"query": "x", "limit": 0},
    {"query": "x", "before": "not a cursor"},
    {"query": "x", "before": 0},
    {"query": 42},
    {},
])
async def test_ill_formed_searches_are_bad_requests(connect: ClientFactory,
                                                    command: dict[str, Any]) -> None:
    alice = await connect(ALICE)
    await alice.send(command="search", ref="s", **command)
    error = await alice.expect(lambda f: f.get("ref") == "s")
    assert error["error"] == "BAD_REQUEST"
    await alice.send(command="ping", ref="p")  # the connection stays
    await alice.expect(lambda f: f.get("pong") is True)


@pytest.mark.parametrize("query", ['"quoted', "star*", "NEAR(star quoted)", "AND", "-minus",
                                   "col:umn", "^caret", "OR NOT", "'quoted'", "star & !minus"])
async def test_query_language_characters_are_only_separators(connect: ClientFactory,
                                                             query: str) -> None:
    alice = await connect(ALICE)
    await alice.join(LOBBY)
    text = 'a "quoted" star* NEAR(x) AND OR NOT -minus col:umn ^caret'
    await say(alice, LOBBY, text)
    await say(alice, LOBBY, "unrelated words")
    assert found(await search(alice, query)) == [text]


async def test_searching_spends_the_command_bucket(
    server_config: ServerConfig, passwords: Passwords,
) -> None:
    config = dataclasses.replace(server_config, command_burst=3, command_rate=0.01)
    async with seeded_server(config, passwords) as chat_server:
        client = await ProtocolClient.open(f"ws://127.0.0.1:{chat_server.port}/")
        try:
            await client.login(*ALICE)  # one command of the burst
            answers = [await search(client, "x") for _ in range(3)]
        finally:
            await client.close()
    assert ["error" in a for a in answers] == [False, False, True]
    assert answers[-1]["error"] == "RATE_LIMITED"


async def test_a_result_is_the_history_event_with_its_reply_edit_and_reactions(
    connect: ClientFactory,
) -> None:
    """Each result is exactly what history gives for that message (which carries its
    room): reply_to, the edited text and flag, everyone's reactions; announcements too."""
    alice, bob, admin = await connect(ALICE), await connect(BOB), await connect(ADMIN)
    for client in (alice, bob):
        await client.join(LOBBY)
    question = await say(bob, LOBBY, "which pelican release?")
    await alice.send(command="send", room=LOBBY, message="pelican two, I think",
                     client_id="r", reply_to=question["seq"])
    answer = await alice.expect(lambda f: f.get("client_id") == "r")
    await alice.send(command="edit", room=LOBBY, seq=answer["seq"],
                     message="pelican three, surely")
    await alice.expect(lambda f: f.get("msg_type") == 6)
    for client, name, emoji in ((alice, "alice", "👍"), (bob, "bob", "👍"), (bob, "bob", "🎉")):
        await client.send(command="react", room=LOBBY, seq=answer["seq"], emoji=emoji)
        await client.expect(lambda f, e=emoji, n=name: (  # type: ignore[misc]
            f.get("emoji") == e and f.get("username") == n))
    await admin.send(command="announce", room=LOBBY, message="pelican maintenance",
                     msg_type=1, ref="a")
    assert "announced" in await admin.expect(lambda f: f.get("ref") == "a")
    await alice.send(command="history", room=LOBBY, ref="h")
    history = {m["seq"]: m for m in (await alice.expect(lambda f: f.get("ref") == "h"))
               ["messages"]}
    results = (await search(alice, "pelican"))["results"]
    assert [r["seq"] for r in results] == sorted(
        (s for s, m in history.items() if "pelican" in (m.get("message") or "").lower()),
        reverse=True) and len(results) == 3
    assert results == [history[r["seq"]] for r in results]
    reply = next(r for r in results if r["seq"] == answer["seq"])
    assert reply["reply_to"] == question["seq"] and reply["edited"] is True
    assert reply["message"] == "pelican three, surely" and reply["room"] == str(LOBBY)
    assert reply["reactions"] == {"👍": ["alice", "bob"], "🎉": ["bob"]}
    assert found(await search(alice, "pelican two")) == []  # the edit's old text


async def test_a_cursor_made_before_a_room_was_taken_away_finds_nothing_there(
    connect: ClientFactory,
) -> None:
    """The cursor is a position, not a permission: a staff member demoted, a room made
    staff-only and a stranger to a direct conversation find nothing of them with a
    cursor they got (or forged) while they could, or could not, see them."""
    alice, bob = await connect(ALICE), await connect(BOB)
    sam, admin = await connect(STAFF), await connect(ADMIN)
    await sam.join(STAFF_ROOM)
    for n in range(4):
        await say(sam, STAFF_ROOM, f"walrus figure {n}")
    first = await search(sam, "walrus", limit=2)
    assert found(first) == ["walrus figure 3", "walrus figure 2"] and first["more"]
    await admin.send(command="user.update", username="sam", is_staff=False, ref="u")
    await admin.expect(lambda f: f.get("ref") == "u")
    # Sam is signed out or searches as a non-staff user: either way, nothing is found.
    sam = await connect(STAFF)
    assert found(await search(sam, "walrus", before=first["next"])) == []
    assert found(await search(sam, "walrus")) == []

    await alice.join(LOBBY)
    for n in range(4):
        await say(alice, LOBBY, f"narwhal note {n}")
    page = await search(alice, "narwhal", limit=2)
    assert page["more"]
    await admin.send(command="room.update", room=LOBBY, staff_only=True, ref="l")
    await admin.expect(lambda f: f.get("ref") == "l")
    assert found(await search(alice, "narwhal", before=page["next"])) == []

    room = await open_dm(alice, "bob")
    await alice.join(room)
    for n in range(4):
        await say(alice, room, f"otter secret {n}")
    mine = await search(bob, "otter", limit=2)
    assert found(mine) == ["otter secret 3", "otter secret 2"]
    carol = await connect(STAFF)  # sam, now a plain user and no member
    for cursor in (mine["next"], str(2**62)):
        assert found(await search(carol, "otter", before=cursor)) == []
        assert (await search(carol, "otter", room=room, before=cursor))["error"] == \
            "ROOM_INVALID"


async def test_a_running_server_merges_deleted_words_out_of_its_index(
    server: ChatServer, connect: ClientFactory,
) -> None:
    """The writer's purge thread is running: a deletion over the wire leaves no entry of
    its words in FTS5's segments soon after (at once where SQLite has secure-delete)."""
    store = server.store
    assert store is not None
    alice = await connect(ALICE)
    await alice.join(LOBBY)
    for n in range(12):  # segments of their own, one commit each
        await say(alice, LOBBY, f"filler number {n}")
    doomed = await say(alice, LOBBY, "zanzibarquux is the password")
    await alice.send(command="delete", room=LOBBY, seq=doomed["seq"])
    await alice.expect(lambda f: f.get("msg_type") == 7)
    assert found(await search(alice, "zanzibarquux")) == []

    def index_holds(needle: bytes) -> bool:
        blobs = store.db.execute_sql('SELECT "block" FROM "message_fts_data"').fetchall()
        return any(needle in bytes(row[0]) for row in blobs if row[0] is not None)

    await eventually(lambda: store.deleted_words_pending() == 0
                     and not index_holds(b"zanzibarquux"))
    assert store.deleted_words_pending() == 0
    assert not index_holds(b"zanzibarquux") and index_holds(b"filler")
    assert found(await search(alice, "filler", limit=100)) == [
        f"filler number {n}" for n in range(11, -1, -1)]
