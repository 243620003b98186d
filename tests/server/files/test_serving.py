"""GET /files/ID and /files/ID/thumbnail: who gets what, ranges, and headers that keep a
file from ever being a page of this origin."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from multichat.server.net import ChatServer
from multichat.server.net.files import content_disposition, parse_range
from multichat.server.store.files import CHUNK_BYTES
from tests.conftest import ClientFactory
from tests.helpers.client import ProtocolClient
from tests.helpers.files import Fetched, fetch, image_bytes, upload, uploaded
from tests.helpers.servers import ALICE, BOB, STAFF


def token_of(client: ProtocolClient) -> str:
    return str(client.seen[0]["login"]["token"])


def same_answer(a: Fetched, b: Fetched) -> bool:
    return (a.status, a.headers, a.body) == (b.status, b.headers, b.body)


async def dm_with_file(alice: ProtocolClient, data: bytes, name: str = "secret.txt",
                       mime_type: str = "text/plain") -> tuple[dict[str, object], str]:
    """Alice uploads ``data`` and sends it to Bob in their direct conversation."""
    file = await uploaded(alice, name, data, mime_type)
    await alice.send(command="dm.open", users=["bob"])
    dm = await alice.expect_key("dm")
    room = dm["dm"]["id"]
    await alice.join(room)
    await alice.send(command="send", room=room, message="", files=[file["id"]])
    event = await alice.expect(lambda f: f.get("room") == room and "seq" in f)
    assert event["files"] == [file]
    return file, room


async def test_a_file_is_an_attachment_of_bytes_with_headers_that_run_nothing(
    server: ChatServer, connect: ClientFactory
) -> None:
    alice = await connect(ALICE)
    page = b"<html><script>alert(document.cookie)</script></html>"
    for name, mime_type in (("page.html", "text/html"), ("logo.svg", "image/svg+xml"),
                            ("fake.png", "image/png")):
        file = await uploaded(alice, name, page, mime_type)
        got = await fetch(server.port, f"/files/{file['id']}", token_of(alice))
        assert got.status == 200 and got.body == page
        assert got.headers["content-type"] == "application/octet-stream"
        assert got.headers["content-disposition"].startswith("attachment;")
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert got.headers["accept-ranges"] == "bytes"


async def test_ranges_read_what_they_ask(server: ChatServer, connect: ClientFactory) -> None:
    alice = await connect(ALICE)
    data = os.urandom(CHUNK_BYTES * 2 + 100)
    file = await uploaded(alice, "r.bin", data)
    path, token, size = f"/files/{file['id']}", token_of(alice), len(data)
    across = f"bytes={CHUNK_BYTES - 10}-{CHUNK_BYTES + 9}"  # across two chunk rows
    for header, first, last in ((across, CHUNK_BYTES - 10, CHUNK_BYTES + 9),
                                ("bytes=0-0", 0, 0), ("bytes=-5", size - 5, size - 1),
                                (f"bytes={size - 3}-", size - 3, size - 1),
                                (f"bytes=10-{size * 2}", 10, size - 1)):
        got = await fetch(server.port, path, token, Range=header)
        assert got.status == 206, header
        assert got.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert got.body == data[first : last + 1]
    for header in (f"bytes={size}-", f"bytes={size + 100}-{size + 200}", "bytes=-0"):
        got = await fetch(server.port, path, token, Range=header)
        assert got.status == 416 and got.headers["content-range"] == f"bytes */{size}"
        assert got.body == b""
    for ignored in ("bytes=0-1,5-6", "lines=1-2", "bytes=9-3", "bytes=x"):
        got = await fetch(server.port, path, token, Range=ignored)
        assert got.status == 200 and got.body == data


async def test_outsiders_get_the_404_of_a_missing_file(
    server: ChatServer, connect: ClientFactory
) -> None:
    alice, bob, sam = await connect(ALICE), await connect(BOB), await connect(STAFF)
    file, _ = await dm_with_file(alice, b"between us")
    path = f"/files/{file['id']}"
    assert (await fetch(server.port, path, token_of(alice))).body == b"between us"
    assert (await fetch(server.port, path, token_of(bob))).body == b"between us"
    outsider = await fetch(server.port, path, token_of(sam))
    missing = await fetch(server.port, "/files/AAAAAAAAAAAAAAAAAAAAAA", token_of(sam))
    malformed = await fetch(server.port, "/files/..%2f..%2fetc", token_of(sam))
    assert outsider.status == 404
    assert same_answer(outsider, missing) and same_answer(outsider, malformed)
    for thumb in (await fetch(server.port, f"{path}/thumbnail", token_of(sam)),
                  await fetch(server.port, f"{path}/thumbnail", token_of(alice))):
        assert same_answer(thumb, missing)  # no thumbnail of a text file either


async def test_an_unsent_file_is_its_uploaders_alone(
    server: ChatServer, connect: ClientFactory
) -> None:
    alice, bob = await connect(ALICE), await connect(BOB)
    file = await uploaded(alice, "draft.txt", b"draft")
    assert (await fetch(server.port, f"/files/{file['id']}", token_of(alice))).status == 200
    assert (await fetch(server.port, f"/files/{file['id']}", token_of(bob))).status == 404


async def test_without_a_live_token_it_is_401_whatever_the_id(
    server: ChatServer, connect: ClientFactory
) -> None:
    alice = await connect(ALICE)
    file = await uploaded(alice, "a.txt", b"a")
    for token in (None, "not-a-token"):
        real = await fetch(server.port, f"/files/{file['id']}", token)
        fake = await fetch(server.port, "/files/nothing", token)
        assert real.status == 401 and same_answer(real, fake)
    await alice.request(command="logout")
    assert (await fetch(server.port, f"/files/{file['id']}", token_of(alice))).status == 401


async def test_the_browser_cookie_fetches_too(server: ChatServer, connect: ClientFactory) -> None:
    alice = await connect(ALICE)
    file = await uploaded(alice, "c.txt", b"cookie")
    ticket = (await alice.request(command="session.ticket", token=token_of(alice)))
    got = await fetch(server.port, f"/session?ticket={ticket['session.ticket']}")
    cookie = got.headers["set-cookie"].split(";")[0]
    assert (await fetch(server.port, f"/files/{file['id']}", Cookie=cookie)).body == b"cookie"


async def test_an_image_is_measured_served_inline_and_thumbnailed(
    server: ChatServer, connect: ClientFactory
) -> None:
    alice = await connect(ALICE)
    data = image_bytes(1000, 500)
    file = await uploaded(alice, "wide.png", data, "application/octet-stream")
    assert (file["width"], file["height"], file["type"]) == (1000, 500, "image/png")
    got = await fetch(server.port, f"/files/{file['id']}", token_of(alice))
    assert got.body == data and got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith("inline;")
    thumb = await fetch(server.port, f"/files/{file['id']}/thumbnail", token_of(alice))
    assert thumb.status == 200 and thumb.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(thumb.body)) as small:
        assert small.format == "PNG" and small.size == (320, 160)


def exif_photo() -> bytes:
    """A JPEG 400 wide and 200 high, whose EXIF says to turn it (orientation 6: 90°
    clockwise) and where it was taken."""
    image = Image.linear_gradient("L").resize((400, 200)).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


async def test_exif_orientation_is_applied_and_the_location_stripped(
    server: ChatServer, connect: ClientFactory
) -> None:
    alice = await connect(ALICE)
    photo = exif_photo()
    with Image.open(io.BytesIO(photo)) as original:
        assert original.getexif().get_ifd(0x8825)  # the upload carries a location
    file = await uploaded(alice, "photo.jpg", photo, "image/jpeg")
    assert (file["width"], file["height"]) == (200, 400)  # as shown: upright
    thumb = await fetch(server.port, f"/files/{file['id']}/thumbnail", token_of(alice))
    with Image.open(io.BytesIO(thumb.body)) as small:
        assert small.format == "JPEG" and small.size == (160, 320)
        exif = small.getexif()
        assert not exif.get_ifd(0x8825) and 0x0112 not in exif and "exif" not in small.info


async def test_a_decompression_bomb_is_refused_and_nothing_stored(
    server: ChatServer, connect: ClientFactory
) -> None:
    """A PNG of a few kilobytes whose header claims more pixels than the server decodes
    (--max-image-pixels, 4 million in these tests)."""
    alice = await connect(ALICE)
    bomb = io.BytesIO()
    Image.new("1", (3000, 3000)).save(bomb, "PNG")  # 9 Mpx, one bit each: ~2 KB
    assert len(bomb.getvalue()) < 50_000
    done = await upload(alice, "bomb.png", bomb.getvalue(), "image/png")
    assert done["error"] == "FILE_TOO_LARGE" and "pixels" in done["detail"]
    assert server.store is not None
    assert server.store.files.largest(10) == []


def test_the_name_is_quoted_so_no_name_breaks_the_header() -> None:
    assert content_disposition("report.pdf", inline=False) == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf")
    evil = 'a"; filename="x.html\r\nSet-Cookie: s=1\\.txt'
    header = content_disposition(evil, inline=False)
    assert "\r" not in header and "\n" not in header
    assert header.count('"') == 2  # the fallback's own quotes only
    assert header.startswith('attachment; filename="a_; filename=_x.html__Set-Cookie: s=1_.txt"')
    assert header.endswith("filename*=UTF-8''a%22%3B%20filename%3D%22x.html%0D%0ASet-Cookie"
                           "%3A%20s%3D1%5C.txt")
    assert content_disposition("résumé.txt", inline=True) == (
        "inline; filename=\"r_sum_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt")


@pytest.mark.parametrize(("header", "size", "expected"), [
    (None, 10, None), ("bytes=2-4", 10, (2, 4)), ("bytes=-3", 10, (7, 9)),
    ("bytes=-30", 10, (0, 9)), ("bytes=5-", 10, (5, 9)), ("bytes=5-100", 10, (5, 9)),
    ("bytes=1-2,4-5", 10, None), ("items=1-2", 10, None), ("bytes=-", 10, None),
    ("bytes=4-2", 10, None), ("bytes=" + "1" * 200 + "-", 10, None),
])
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected
