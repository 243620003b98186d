"""Uploading and fetching files as a client does: binary frames out, HTTP GETs back."""

from __future__ import annotations

import asyncio
import http.client
import io
from dataclasses import dataclass
from typing import Any

from PIL import Image

from tests.helpers.client import Frame, ProtocolClient
from tests.helpers.timing import TIMEOUT


@dataclass
class Fetched:
    status: int
    headers: dict[str, str]  # lower-case names; Date left out (it is the time)
    body: bytes


async def fetch(port: int, path: str, token: str | None = None, **headers: str) -> Fetched:
    """GET ``path`` from the server, with ``token`` as the bearer if given."""
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"

    def get() -> Fetched:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            found = {name.lower(): value for name, value in response.getheaders()
                     if name.lower() != "date"}
            return Fetched(response.status, found, body)
        finally:
            conn.close()

    return await asyncio.to_thread(get)


async def start_upload(client: ProtocolClient, name: str, size: int,
                       mime_type: str = "application/octet-stream", **extra: Any) -> Frame:
    """Send ``upload``; the reply (``upload`` or an error)."""
    await client.send(command="upload", name=name, size=size, type=mime_type, **extra)
    return await client.expect(lambda f: "upload" in f or "error" in f)


async def send_bytes(client: ProtocolClient, data: bytes, chunk: int) -> None:
    for start in range(0, len(data), chunk):
        await client.connection.send(data[start : start + chunk])


async def upload(client: ProtocolClient, name: str, data: bytes,
                 mime_type: str = "application/octet-stream") -> Frame:
    """Upload ``data`` whole; the frame that ends it (``file``, or an error)."""
    reply = await start_upload(client, name, len(data), mime_type)
    assert "upload" in reply, reply
    await send_bytes(client, data, reply["upload"]["chunk"])
    return await client.expect(lambda f: "file" in f or "error" in f)


async def uploaded(client: ProtocolClient, name: str, data: bytes,
                   mime_type: str = "application/octet-stream") -> dict[str, Any]:
    """Upload ``data``; its FILE_OBJ."""
    done = await upload(client, name, data, mime_type)
    assert "file" in done, done
    file: dict[str, Any] = done["file"]
    return file


def image_bytes(width: int, height: int, fmt: str = "PNG", **save: Any) -> bytes:
    """An image of that size, with something in it (a gradient), in ``fmt``."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()
