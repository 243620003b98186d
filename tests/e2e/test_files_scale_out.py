"""Files with three server processes on one PostgreSQL and one Redis: uploaded through
one process, sent through it, fetched through the others; the quota is the database's."""

from __future__ import annotations

import hashlib
import os

import pytest

from tests.e2e.test_scale_out import (  # noqa: F401 - the fixtures come with it
    Cluster,
    cluster,
    seeded,
    unstarted,
)
from tests.helpers.client import ProtocolClient
from tests.helpers.files import fetch, image_bytes, start_upload, uploaded

pytestmark = pytest.mark.slow


def token(client: ProtocolClient) -> str:
    return str(client.seen[0]["login"]["token"])


async def test_a_file_uploaded_through_one_process_is_served_by_the_others(
    cluster: Cluster,  # noqa: F811 - the fixture imported above
) -> None:
    alice = await cluster.client(0, "alice")
    bob = await cluster.client(2, "bob")
    carol = await cluster.client(1, "carol")
    await alice.join(1)
    await bob.join(1)
    data = os.urandom(600_000)
    file = await uploaded(alice, "big.bin", data)
    picture = await uploaded(alice, "p.png", image_bytes(640, 480), "image/png")
    await alice.send(command="send", room=1, message="files", files=[file["id"],
                                                                      picture["id"]])
    event = await bob.expect(lambda f: f.get("message") == "files")  # through process 2
    assert event["files"] == [file, picture]
    for process, client in ((1, carol), (2, bob)):
        port = cluster.servers[process].port
        got = await fetch(port, f"/files/{file['id']}", token(client))
        assert got.status == 200 and hashlib.sha256(got.body).hexdigest() == file["sha256"]
        part = await fetch(port, f"/files/{file['id']}", token(client), Range="bytes=-10")
        assert part.status == 206 and part.body == data[-10:]
        thumb = await fetch(port, f"/files/{picture['id']}/thumbnail", token(client))
        assert thumb.status == 200 and thumb.headers["content-type"] == "image/png"


async def test_the_quota_holds_across_processes(
    unstarted: Cluster,  # noqa: F811 - the fixture imported above
) -> None:
    unstarted.start(env={"MULTICHAT_MAX_UPLOAD_BYTES_PER_DAY": "1000"})
    first = await unstarted.client(0, "alice")
    second = await unstarted.client(1, "alice")
    assert (await uploaded(first, "a", b"x" * 700))["size"] == 700
    refused = await start_upload(second, "b", 700)
    assert refused["error"] == "QUOTA_EXCEEDED"
    assert "upload" in await start_upload(second, "c", 300)
