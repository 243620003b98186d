"""Messages that carry files: sent, listed, found, and deleted with their files."""

from __future__ import annotations

from typing import Any

from multichat.server.net import ChatServer
from tests.conftest import ClientFactory
from tests.helpers.client import Frame, ProtocolClient
from tests.helpers.files import fetch, start_upload, uploaded
from tests.helpers.servers import ADMIN, ALICE, BOB


def token_of(client: ProtocolClient) -> str:
    return str(client.seen[0]["login"]["token"])


async def send_files(client: ProtocolClient, room: int | str, files: list[str],
                     message: str = "", **extra: Any) -> Frame:
    """Send a message with files; its stored event, or the error."""
    await client.send(command="send", room=room, message=message, files=files, **extra)
    return await client.expect(lambda f: ("seq" in f and f.get("username") == "alice"
                                          and f.get("msg_type") == 0) or "error" in f)


async def test_a_message_carries_its_files_live_in_history_and_catch_up(
    connect: ClientFactory,
) -> None:
    alice, bob = await connect(ALICE), await connect(BOB)
    await bob.join(1)
    await alice.join(1)
    one = await uploaded(alice, "one.txt", b"1", "text/plain")
    two = await uploaded(alice, "two.txt", b"22", "text/plain")
    event = await send_files(alice, 1, [two["id"], one["id"]], "here they are")
    assert event["files"] == [two, one]  # in the order sent
    live = await bob.expect(lambda f: f.get("seq") == event["seq"])
    assert live["files"] == [two, one]
    history = await bob.request(command="history", room=1)
    assert history["messages"][-1]["files"] == [two, one]
    late = await connect(BOB)
    await late.join(1, since=event["seq"] - 1)
    caught_up = await late.expect(lambda f: f.get("seq") == event["seq"])
    assert caught_up["files"] == [two, one]
    found = await bob.request(command="search", query="here they")
    assert found["results"][0]["files"] == [two, one]


async def test_only_ones_own_complete_uploads_may_be_sent(connect: ClientFactory) -> None:
    alice, bob = await connect(ALICE), await connect(BOB)
    await alice.join(1)
    await bob.join(1)
    bobs = await uploaded(bob, "bob.txt", b"b")
    refused = await send_files(alice, 1, [bobs["id"]], ref="r1")
    missing = await send_files(alice, 1, ["nothing-like-it"], ref="r1")
    assert refused["error"] == missing["error"] == "FILE_INVALID"
    assert refused["ref"] == "r1"
    reply = await start_upload(alice, "half", 10)
    unfinished = await send_files(alice, 1, [reply["upload"]["id"]])
    assert unfinished["error"] == "FILE_INVALID"
    await alice.connection.send(b"0123456789")
    done = await alice.expect_key("file")
    event = await send_files(alice, 1, [done["file"]["id"]])
    assert event["files"] == [done["file"]] and event["message"] == ""
    empty = await alice.request(command="send", room=1, message="")  # no files: no message
    assert empty["error"] == "BAD_REQUEST"


async def test_deleting_a_message_deletes_its_files_unless_another_carries_them(
    server: ChatServer, connect: ClientFactory,
) -> None:
    alice = await connect(ALICE)
    await alice.join(1)
    shared = await uploaded(alice, "shared.txt", b"shared")
    alone = await uploaded(alice, "alone.txt", b"alone")
    first = await send_files(alice, 1, [shared["id"], alone["id"]])
    second = await send_files(alice, 1, [shared["id"]])
    token = token_of(alice)

    async def status(file: dict[str, Any]) -> int:
        return (await fetch(server.port, f"/files/{file['id']}", token)).status

    await alice.send(command="delete", room=1, seq=first["seq"])
    await alice.expect(lambda f: f.get("msg_type") == 7)
    assert await status(alone) == 404 and await status(shared) == 200
    history = await alice.request(command="history", room=1)
    deleted, kept = history["messages"][-2:]
    assert deleted["deleted"] and "files" not in deleted and kept["files"] == [shared]
    await alice.send(command="delete", room=1, seq=second["seq"])
    await alice.expect(lambda f: f.get("msg_type") == 7 and f.get("target") == second["seq"])
    assert await status(shared) == 404
    assert server.store is not None and server.store.files.largest(10) == []


async def test_deleting_a_room_deletes_its_files(server: ChatServer,
                                                 connect: ClientFactory) -> None:
    admin, alice = await connect(ADMIN), await connect(ALICE)
    await admin.send(command="room.create", title="Doomed")
    created = await admin.expect_key("room.created")
    room = created["room.created"]["id"]
    await alice.join(room)
    file = await uploaded(alice, "doomed.txt", b"doomed")
    await send_files(alice, room, [file["id"]])
    assert (await fetch(server.port, f"/files/{file['id']}", token_of(admin))).status == 200
    await admin.send(command="room.delete", room=room)
    await admin.expect_key("room.deleted")
    assert (await fetch(server.port, f"/files/{file['id']}", token_of(alice))).status == 404
