"""Uploads over the WebSocket: the bytes stored exactly, and everything that goes wrong
leaves nothing served and nothing stored."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from multichat.server.chat.files import UPLOAD_CHUNK_BYTES
from multichat.server.chat.passwords import Passwords
from multichat.server.net import ChatServer
from multichat.server.store.files import CHUNK_BYTES
from tests.conftest import ClientFactory
from tests.helpers.client import ProtocolClient
from tests.helpers.files import fetch, send_bytes, start_upload, upload
from tests.helpers.servers import ALICE, BOB, loopback_config, seeded_server
from tests.helpers.timing import TIMEOUT
from tests.server.files.conftest import UPLOAD_TIMEOUT


def token_of(client: ProtocolClient) -> str:
    """The login token a client logged in with (its first frame's)."""
    return str(client.seen[0]["login"]["token"])


async def stored_file_ids(server: ChatServer) -> set[str]:
    """Every file row the database holds, complete or not (the admin's listing)."""
    assert server.store is not None
    uses = await asyncio.to_thread(server.store.files.largest, 1000)
    return {use.record.id for use in uses}


async def until_gone(server: ChatServer, file_id: str) -> None:
    """Wait until the database holds no row of ``file_id`` (the server deleted it)."""
    async def wait() -> None:
        # Rows in a database: no event exists to await, so poll.
        while file_id in await stored_file_ids(server):  # noqa: ASYNC110
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), TIMEOUT)


async def test_the_bytes_come_back_exactly_with_their_sha256(
    server: ChatServer, connect: ClientFactory
) -> None:
    alice = await connect(ALICE)
    data = os.urandom(2 * CHUNK_BYTES + 12_345)  # three chunk rows, the last one short
    reply = await start_upload(alice, "notes.bin", len(data), ref="u1")
    assert reply["upload"]["chunk"] == UPLOAD_CHUNK_BYTES and reply["ref"] == "u1"
    await send_bytes(alice, data, UPLOAD_CHUNK_BYTES)
    done = await alice.expect_key("file")
    file = done["file"]
    assert done["ref"] == "u1"
    assert file == {"id": reply["upload"]["id"], "name": "notes.bin", "size": len(data),
                    "type": "application/octet-stream",
                    "sha256": hashlib.sha256(data).hexdigest()}
    got = await fetch(server.port, f"/files/{file['id']}", token_of(alice))
    assert got.status == 200 and got.body == data
    assert got.headers["content-length"] == str(len(data))


async def test_an_empty_file_is_complete_at_once(connect: ClientFactory) -> None:
    alice = await connect(ALICE)
    reply = await start_upload(alice, "empty.txt", 0, "text/plain")
    assert "upload" in reply
    done = await alice.expect_key("file")
    assert done["file"]["size"] == 0
    assert done["file"]["sha256"] == hashlib.sha256(b"").hexdigest()


async def test_a_file_over_the_limit_is_refused_before_a_byte(
    server: ChatServer, connect: ClientFactory
) -> None:
    alice = await connect(ALICE)
    reply = await start_upload(alice, "big.iso", server.config.max_file_bytes + 1, ref="b")
    assert reply["error"] == "FILE_TOO_LARGE" and reply["ref"] == "b"
    assert await stored_file_ids(server) == set()
    # 25 MiB by default; the limit itself is allowed
    assert server.config.max_file_bytes == 25 * 2**20
    assert "upload" in await start_upload(alice, "ok.iso", server.config.max_file_bytes)


async def test_the_daily_quota_holds_across_connections(tmp_path: Path,
                                                        passwords: Passwords) -> None:
    config = loopback_config(tmp_path / "q", max_upload_bytes_per_day=1000)
    async with seeded_server(config, passwords) as server:
        url = f"ws://127.0.0.1:{server.port}/"
        first, second = await ProtocolClient.open(url), await ProtocolClient.open(url)
        try:
            await first.login(*ALICE)
            await second.login(*ALICE)
            assert "file" in await upload(first, "a", b"x" * 600)
            refused = await start_upload(second, "b", 600)
            assert refused["error"] == "QUOTA_EXCEEDED"
            assert "upload" in await start_upload(second, "c", 400)  # what is left of it
            bob = await ProtocolClient.open(url)
            await bob.login(*BOB)
            assert "upload" in await start_upload(bob, "d", 600)  # a quota per user
            await bob.close()
        finally:
            await first.close()
            await second.close()


async def test_a_binary_frame_outside_an_upload_is_still_bad_request(
    connect: ClientFactory
) -> None:
    alice = await connect(ALICE)
    await alice.connection.send(b"\x00\x01")
    assert (await alice.recv())["error"] == "BAD_REQUEST"
    assert "file" in await upload(alice, "x", b"abc")
    await alice.connection.send(b"more")  # after the upload ended
    assert (await alice.recv())["error"] == "BAD_REQUEST"


async def test_one_upload_at_a_time(connect: ClientFactory) -> None:
    alice = await connect(ALICE)
    assert "upload" in await start_upload(alice, "a", 10)
    second = await start_upload(alice, "b", 10, ref="2")
    assert second["error"] == "BAD_REQUEST" and second["ref"] == "2"
    await alice.connection.send(b"0123456789")  # the bytes still go to the first
    assert (await alice.expect_key("file"))["file"]["name"] == "a"


async def test_a_frame_over_the_chunk_or_past_the_size_discards_the_upload(
    server: ChatServer, connect: ClientFactory
) -> None:
    alice = await connect(ALICE)
    for data, size in ((b"x" * (UPLOAD_CHUNK_BYTES + 1), 10 * UPLOAD_CHUNK_BYTES),
                       (b"y" * 11, 10)):
        reply = await start_upload(alice, "f", size, ref="r")
        await alice.connection.send(data)
        error = await alice.expect_key("error")
        assert error["error"] == "FILE_INVALID" and error["ref"] == "r"
        got = await fetch(server.port, f"/files/{reply['upload']['id']}", token_of(alice))
        assert got.status == 404
    assert await stored_file_ids(server) == set()
    await alice.connection.send(b"z")  # the upload is over: bytes are out of place again
    assert (await alice.recv())["error"] == "BAD_REQUEST"


async def test_a_disconnect_midway_leaves_nothing(
    server: ChatServer, connect: ClientFactory
) -> None:
    alice = await connect(ALICE)
    watcher = await connect(ALICE)
    data = os.urandom(CHUNK_BYTES + 1000)
    reply = await start_upload(alice, "half", 2 * len(data))
    file_id = reply["upload"]["id"]
    await send_bytes(alice, data, UPLOAD_CHUNK_BYTES)
    await watcher.request(command="ping")  # the rows of the first chunk are being written
    assert (await fetch(server.port, f"/files/{file_id}", token_of(watcher))).status == 404
    await alice.close()
    await until_gone(server, file_id)
    assert (await fetch(server.port, f"/files/{file_id}", token_of(watcher))).status == 404


async def test_a_silent_upload_is_discarded_after_the_timeout(
    server: ChatServer, connect: ClientFactory
) -> None:
    assert server.config.upload_timeout == UPLOAD_TIMEOUT
    alice = await connect(ALICE)
    reply = await start_upload(alice, "stalled", 1000, ref="s")
    await alice.connection.send(b"a" * 500)
    error = await alice.expect_key("error")  # the server's timer, not the test's
    assert error["error"] == "FILE_INVALID" and error["ref"] == "s"
    assert "no bytes for" in error["detail"]
    assert await stored_file_ids(server) == set()
    got = await fetch(server.port, f"/files/{reply['upload']['id']}", token_of(alice))
    assert got.status == 404
    await alice.connection.send(b"a" * 500)  # too late
    assert (await alice.recv())["error"] == "BAD_REQUEST"


async def test_an_upload_of_a_process_that_died_is_swept_by_another(server: ChatServer) -> None:
    """Rows of an upload nobody is receiving (its process killed): any process deletes
    them once they are silent for a few timeouts."""
    store = server.store
    assert store is not None
    alice = await asyncio.to_thread(store.user, ALICE[0])
    assert alice is not None

    def orphan() -> None:
        store.files.begin_upload("orphan", alice.id, "x", 10, "text/plain", now_ms=1,
                                 quota_bytes=10**9)
        store.files.write_chunk("orphan", 0, b"01234", now_ms=1)

    await asyncio.to_thread(orphan)
    assert "orphan" in await stored_file_ids(server)
    await until_gone(server, "orphan")


async def test_an_upload_and_messages_go_on_together(connect: ClientFactory) -> None:
    """Text frames between the bytes are commands as ever; the bytes still add up."""
    alice = await connect(ALICE)
    await alice.join(1)
    data = os.urandom(3 * UPLOAD_CHUNK_BYTES)
    reply = await start_upload(alice, "mixed", len(data))
    await alice.connection.send(data[:UPLOAD_CHUNK_BYTES])
    await alice.send(command="send", room=1, message="while uploading")
    await alice.connection.send(data[UPLOAD_CHUNK_BYTES:])  # over the chunk: refused
    error = await alice.expect_key("error")
    assert error["error"] == "FILE_INVALID"
    if not any(f.get("message") == "while uploading" for f in alice.seen):
        await alice.expect(lambda f: f.get("message") == "while uploading")
    reply = await start_upload(alice, "mixed", len(data))
    assert "upload" in reply
    await send_bytes(alice, data, UPLOAD_CHUNK_BYTES)
    assert (await alice.expect_key("file"))["file"]["sha256"] == hashlib.sha256(data).hexdigest()
