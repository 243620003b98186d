"""Files in the page: an image goes up with its progress, the others see it as a
thumbnail; any other file is a card whose link downloads its bytes; markup in a
name stays text; a cancelled upload leaves no trace and no error."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from pathlib import Path

from PIL import Image
from playwright.async_api import FilePayload, Page, expect

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from tests.helpers.servers import ALICE, STAFF, seeded_server
from tests.helpers.timing import TIMEOUT
from tests.web.conftest import PageFactory, bob_in_lobby, dialogs, log_in, open_room

BIG = 24 * 2**20
HOSTILE_NAME = '<img src=x onerror="alert(1)"><b id=xss>b</b>.txt'


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(out, "PNG")
    return out.getvalue()


def payload(name: str, mime_type: str, data: bytes) -> FilePayload:
    """A file for the page's file input, as if the person had chosen it."""
    return {"name": name, "mimeType": mime_type, "buffer": data}


async def choose_zeros(page: Page, name: str, size: int) -> None:
    """Choose a file of `size` zero bytes made in the page (not carried over from here)."""
    await page.locator("#file-input").evaluate(
        """(input, [name, size]) => {
             const data = new DataTransfer();
             data.items.add(new File([new Uint8Array(size)], name));
             input.files = data.files;
             input.dispatchEvent(new Event("change"));
           }""", [name, size])


async def natural_width(page: Page, selector: str) -> int:
    await expect(page.locator(selector)).to_have_count(1)
    await page.wait_for_function(
        "s => { const i = document.querySelector(s); return i && i.complete; }", arg=selector)
    return int(await page.locator(selector).evaluate("img => img.naturalWidth"))


async def test_an_image_goes_up_and_shows_as_a_thumbnail_to_everyone(
    server: ChatServer, open_page: PageFactory
) -> None:
    image = png(900, 600)
    bob = await bob_in_lobby(server)
    try:
        page = await open_page(server)
        await log_in(page, *ALICE)
        await open_room(page, "Lobby")
        await page.locator("#file-input").set_input_files(
            payload("cat.png", "image/png", image))
        upload = page.locator(".upload", has_text="cat.png")
        await expect(upload.locator(".upload-state")).to_have_text("ready")
        bar = upload.locator("progress")
        assert await bar.evaluate("p => [p.value, p.max]") == [len(image), len(image)]
        await page.get_by_label("Message").fill("a cat")
        await page.get_by_label("Message").press("Enter")
        await expect(page.locator("#upload-tray")).to_be_hidden()

        event = await bob.expect(lambda f: f.get("message") == "a cat")
        [sent] = event["files"]
        assert sent["sha256"] == hashlib.sha256(image).hexdigest()
        assert (sent["name"], sent["size"], sent["type"]) == ("cat.png", len(image), "image/png")
        assert (sent["width"], sent["height"]) == (900, 600)

        thumbnail = f".message[data-seq='{event['seq']}'] .file-image img"
        assert await natural_width(page, thumbnail) == 320
        link = page.locator(f".message[data-seq='{event['seq']}'] .file-image")
        assert await link.get_attribute("href") == f"/files/{sent['id']}"
        assert await link.get_attribute("rel") == "noopener noreferrer"

        # Someone else, in a browser of their own: the cookie fetches it for them too.
        other = await open_page(server)
        await log_in(other, *STAFF)
        await open_room(other, "Lobby")
        assert await natural_width(other, thumbnail) == 320
        full = await other.request.get(f"http://127.0.0.1:{server.port}/files/{sent['id']}")
        assert full.status == 200 and await full.body() == image
        assert dialogs(page) == [] and dialogs(other) == []
    finally:
        await bob.close()


async def test_another_file_is_a_card_that_downloads_its_bytes_and_its_markup_name_stays_text(
    server: ChatServer, open_page: PageFactory, tmp_path: Path
) -> None:
    content = b"<html><script>alert(3)</script></html>\x00\x01 plain bytes"
    bob = await bob_in_lobby(server)
    try:
        page = await open_page(server)
        await log_in(page, *ALICE)
        await open_room(page, "Lobby")
        await expect(page.get_by_role("button", name="Attach files")).to_be_enabled()
        await page.locator("#file-input").set_input_files(
            payload(HOSTILE_NAME, "text/html", content))
        await expect(page.locator(".upload .upload-state")).to_have_text("ready")
        await page.get_by_label("Message").press("Enter")  # files alone, no words

        event = await bob.expect(lambda f: bool(f.get("files")))
        assert event["message"] == ""
        assert event["files"][0]["sha256"] == hashlib.sha256(content).hexdigest()
        card = page.locator(f".message[data-seq='{event['seq']}'] .file-card")
        await expect(card.locator(".file-name")).to_have_text(HOSTILE_NAME)
        await expect(card.locator(".file-size")).to_have_text(f"{len(content)} bytes")
        assert await page.locator("#xss, #messages img, #upload-tray img").count() == 0
        link = card.get_by_role("link", name="Download")
        assert await link.get_attribute("href") == f"/files/{event['files'][0]['id']}"
        assert await link.get_attribute("rel") == "noopener noreferrer"
        async with page.expect_download() as waiting:
            await link.click()
        download = await waiting.value
        saved = tmp_path / "downloaded"
        await download.save_as(saved)
        assert saved.read_bytes() == content
        assert dialogs(page) == []
    finally:
        await bob.close()


async def test_cancel_midway_leaves_no_error_and_refusals_are_told_in_words(
    server_config: ServerConfig, passwords: Passwords, open_page: PageFactory
) -> None:
    # Slow uploads (the server takes 2 MiB a second, a big file 12 s) so Cancel comes
    # midway, past the megabytes the browser and the kernel hold on their way.
    config = dataclasses.replace(server_config, upload_bytes_per_second=2 * 2**20,
                                 max_file_bytes=BIG + 2**20)
    async with seeded_server(config, passwords) as server:
        page = await open_page(server)
        await log_in(page, *ALICE)
        await open_room(page, "Lobby")
        await choose_zeros(page, "big.bin", BIG)
        upload = page.locator(".upload", has_text="big.bin")
        await expect(upload.locator(".upload-state")).to_have_text("uploading…")
        await upload.get_by_role("button", name="Cancel big.bin").click()
        await expect(page.locator(".upload")).to_have_count(0)

        # The connection goes on: the next file goes up once the server has read the
        # bytes already on their way (at most the whole file: 12 s at this rate), and
        # no error was shown. Nothing of the cancelled one is kept.
        await page.locator("#file-input").set_input_files(
            payload("small.txt", "text/plain", b"small"))
        await expect(page.locator(".upload", has_text="small.txt").locator(".upload-state")
                     ).to_have_text("ready", timeout=(TIMEOUT + 12) * 1000)
        await expect(page.locator("#connection-status")).to_be_hidden()
        assert server.store is not None
        kept = [use.record.name for use in server.store.files.largest(10)]
        assert kept == ["small.txt"], kept

        await choose_zeros(page, "huge.bin", BIG + 2**20 + 1)
        refused = page.locator(".upload", has_text="huge.bin")
        await expect(refused.locator(".upload-state")).to_have_text("Too large for this server.")
        await expect(refused).to_have_class("upload failed")
        # Sending takes the finished file and drops the refused one.
        await page.get_by_label("Message").press("Enter")
        await expect(page.locator(".message .file-card .file-name")).to_have_text("small.txt")
        await expect(page.locator(".upload")).to_have_count(0)


async def test_an_image_pasted_or_dropped_goes_up_too(
    server: ChatServer, open_page: PageFactory
) -> None:
    page = await open_page(server)
    await log_in(page, *ALICE)
    await open_room(page, "Lobby")
    image = list(png(40, 30))
    # What the browser hands the page for a paste, and for a drop of a file.
    await page.get_by_label("Message").evaluate(
        """(box, bytes) => {
             const data = new DataTransfer();
             data.items.add(new File([new Uint8Array(bytes)], "pasted.png", {type: "image/png"}));
             box.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true,
                                                            cancelable: true}));
           }""", image)
    await page.locator("#conversation").evaluate(
        """(area, bytes) => {
             const data = new DataTransfer();
             data.items.add(new File([new Uint8Array(bytes)], "dropped.png", {type: "image/png"}));
             for (const type of ["dragover", "drop"]) {
               area.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true,
                                                       cancelable: true}));
             }
           }""", image)
    states = page.locator(".upload .upload-state")
    await expect(states).to_have_text(["ready", "ready"])
    await page.get_by_label("Message").fill("two pictures")
    await page.get_by_label("Message").press("Enter")
    message = page.locator(".message:not(.pending)", has_text="two pictures")
    thumbnails = message.locator(".file-image img")
    await expect(thumbnails).to_have_count(2)
    assert [await thumbnails.nth(i).get_attribute("alt") for i in range(2)] == [
        "pasted.png", "dropped.png"]


async def test_an_upload_past_the_daily_quota_is_told_in_words(
    server_config: ServerConfig, passwords: Passwords, open_page: PageFactory
) -> None:
    config = dataclasses.replace(server_config, max_upload_bytes_per_day=1000)
    async with seeded_server(config, passwords) as server:
        page = await open_page(server)
        await log_in(page, *ALICE)
        await open_room(page, "Lobby")
        await choose_zeros(page, "a.bin", 600)
        await expect(page.locator(".upload-state")).to_have_text("ready")
        await choose_zeros(page, "b.bin", 600)
        await expect(page.locator(".upload", has_text="b.bin").locator(".upload-state")
                     ).to_have_text(
            "You have uploaded as much as this server allows in a day: try later.")
