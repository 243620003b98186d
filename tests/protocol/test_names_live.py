"""Names that deceive, sent to a real server on port 0: refused, and nothing changes."""

from __future__ import annotations

import pytest

from multichat.protocol import ErrorCode
from tests.conftest import ADMIN, ALICE, ClientFactory
from tests.helpers.client import Frame, ProtocolClient

# The seeded server has admin, alice, bob and sam; rooms Lobby (1) and Staff room (2).
# (name, error, words the detail holds)
TAKEN, BAD = ErrorCode.USER_EXISTS, ErrorCode.BAD_REQUEST
LOOK_ALIKE_USERS = [
    ("\u0430dmin", TAKEN, "a user named 'admin' already exists"),  # Cyrillic a
    ("Alice", TAKEN, "a user named 'alice' already exists"),
    ("\uff41\uff4c\uff49\uff43\uff45", TAKEN, "'alice' already exists"),  # fullwidth
    ("b0b", TAKEN, "'bob' already exists"),  # 0 and o are one letter to UTS #39
    ("bob\u200b", BAD, "U+200B ZERO WIDTH SPACE"),
    ("ad\u202emin", BAD, "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("carol\x00", BAD, "control or format characters (U+0000)"),
    ("carol\x1b[2J", BAD, "control or format characters (U+001B)"),
    ("carol\nadmin", BAD, "control or format characters (U+000A)"),
]
DECEIVING_TITLES = [
    ("\u200b", BAD, "U+200B ZERO WIDTH SPACE"),  # only U+200B
    ("Lobby\u200b", BAD, "U+200B ZERO WIDTH SPACE"),
    ("lobby", ErrorCode.ROOM_TITLE_TAKEN, "a room titled 'Lobby' already exists"),
    ("L\u043ebby", ErrorCode.ROOM_TITLE_TAKEN, "'Lobby'"),  # Cyrillic o
    ("Lo\u202ebby", BAD, "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("Lobby\x00", BAD, "(U+0000)"),
    ("\x1b[2J\x1b[H", BAD, "(U+001B)"),
    ("Lobby\n   9  Forged  yes", BAD, "(U+000A)"),
]


async def answer(client: ProtocolClient, ref: str, **command: object) -> Frame:
    """The reply to one command (pushed frames in between are skipped)."""
    await client.send(ref=ref, **command)
    return await client.expect(lambda frame: frame.get("ref") == ref)


async def listing(admin: ProtocolClient) -> tuple[list[str], list[str]]:
    """The usernames and room titles the admin sees."""
    users = await answer(admin, "list-users", command="user.list")
    rooms = await answer(admin, "list-rooms", command="rooms")
    return ([u["username"] for u in users["users"]], [r["title"] for r in rooms["rooms"]])


@pytest.mark.parametrize(("username", "code", "words"), LOOK_ALIKE_USERS,
                         ids=[ascii(u) for u, _, _ in LOOK_ALIKE_USERS])
async def test_a_username_that_would_deceive_is_refused(
    connect: ClientFactory, username: str, code: ErrorCode, words: str
) -> None:
    admin = await connect(ADMIN)
    before = await listing(admin)
    reply = await answer(admin, "u1", command="user.create", username=username,
                         password="password-1")
    assert reply["error"] == code.value and words in reply["detail"], reply
    assert await listing(admin) == before


@pytest.mark.parametrize(("title", "code", "words"), DECEIVING_TITLES,
                         ids=[ascii(t) for t, _, _ in DECEIVING_TITLES])
async def test_a_title_that_would_deceive_is_refused_on_create_and_rename(
    connect: ClientFactory, title: str, code: ErrorCode, words: str
) -> None:
    admin = await connect(ADMIN)
    before = await listing(admin)
    reply = await answer(admin, "r1", command="room.create", title=title)
    assert reply["error"] == code.value and words in reply["detail"], reply
    reply = await answer(admin, "r2", command="room.update", room=2, title=title)
    assert reply["error"] == code.value and words in reply["detail"], reply
    assert await listing(admin) == before


async def test_a_login_finds_the_account_whatever_the_case(connect: ClientFactory) -> None:
    client = await connect()
    reply = await client.login("ALICE", ALICE[1])
    assert reply["login"]["username"] == "alice"
    wide = await connect()
    reply = await wide.login("\uff41\uff4c\uff49\uff43\uff45", ALICE[1])
    assert reply["login"]["username"] == "alice"


async def test_a_fullwidth_name_is_stored_as_the_letters_it_shows(
    connect: ClientFactory,
) -> None:
    admin = await connect(ADMIN)
    reply = await answer(admin, "c1", command="user.create",
                         username="\uff43\uff41\uff52\uff4f\uff4c", password="carol-password")
    assert reply["user.created"]["username"] == "carol"
    carol = await connect()
    assert (await carol.login("carol", "carol-password"))["login"]["username"] == "carol"
