"""The seed's page, served the way its users can put it in front of Multichat.

The seed's script connects to ``ws(s)://<its page's own host>/chat/stream/``:
in the seed, Daphne served the page and the WebSocket on one port. In front of
Multichat that takes a web server of the page's own that serves it and relays
``/chat/stream/`` to the chat server, as an nginx ``location`` with
``proxy_pass`` would (docs/protocol.md, "Compatibility with the seed web
client"). This is that web server, small and on a free loopback port:

- ``GET /``: the seed's ``index.html`` rendered as its Django view did (every
  room by title), from the verbatim templates in ``seed/``;
- ``GET /static/...``: the seed's style sheet, jQuery and ReconnectingWebSocket;
- a WebSocket upgrade to ``/chat/stream/``: relayed byte for byte to the chat
  server, its ``Host`` rewritten to the upstream's (nginx's default), its
  ``Origin`` and ``Cookie`` passed on as the browser sent them.

A browser that logged in at the chat server's own page (``http://127.0.0.1:P``)
sends the session cookie here too: cookies are per host, not per port, and a
page on another port of the same host is the same site for ``SameSite=Strict``.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

SEED = Path(__file__).resolve().parent / "seed"
_TYPES = {".css": "text/css", ".js": "application/javascript"}
_BLOCK = re.compile(r"{%\s*block\s+(\w+)\s*%}(.*?){%\s*endblock\s*%}", re.S)
_FOR_ROOMS = re.compile(r"{%\s*for room in rooms\s*%}(.*?){%\s*empty\s*%}(.*?){%\s*endfor\s*%}",
                        re.S)
_IF_LOGGED_IN = re.compile(r"{%\s*if user.is_authenticated\s*%}(.*?){%\s*endif\s*%}", re.S)

Rooms = Sequence[tuple[int, str]]


def render_index(rooms: Rooms) -> str:
    """The seed's ``index.html`` for a logged-in user, as Django renders it.

    Only the tags these two templates use, and it fails on any other: a
    fixture that rendered something else than the seed's page would prove
    nothing.
    """
    child = (SEED / "templates" / "index.html").read_text()
    extends = re.match(r'{%\s*extends\s+"([^"]+)"\s*%}', child)
    assert extends is not None
    blocks: dict[str, str] = dict(_BLOCK.findall(child))
    page = _BLOCK.sub(lambda m: blocks.get(m[1], m[2]),
                      (SEED / "templates" / extends[1]).read_text())
    page = re.sub(r"{%\s*load staticfiles\s*%}", "", page)
    page = re.sub(r'{%\s*static\s+"([^"]+)"\s*%}', r"/static/\1", page)
    page = _IF_LOGGED_IN.sub(lambda m: m[1], page)

    def each_room(match: re.Match[str]) -> str:
        if not rooms:
            return re.sub(r"{%\s*url 'admin:index'\s*%}", "/admin/", match[2])
        return "".join(match[1].replace("{{ room.id }}", html.escape(str(room_id)))
                       .replace("{{ room }}", html.escape(title)) for room_id, title in rooms)

    page = _FOR_ROOMS.sub(each_room, page)
    leftover = re.search(r"{[{%].*?[}%]}", page)
    assert leftover is None, f"a template tag this renderer does not know: {leftover[0]}"
    return page


class SeedSite:
    """The seed's web server (module docstring) on 127.0.0.1, a free port.

    ``upstream_port`` (the chat server's) and ``rooms`` are set once the chat
    server is up: its ``--allowed-origins`` needs this site's origin first.
    """

    def __init__(self) -> None:
        self.upstream_port: int | None = None
        self.rooms: Callable[[], Rooms] = list
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> SeedSite:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
            target = request_line.split(" ")[1]
            headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines]
            upgrade = any(name.lower() == "upgrade" and "websocket" in value.lower()
                          for name, value in headers)
            if upgrade and target == "/chat/stream/":
                await self._relay(headers, request_line, reader, writer)
            else:
                writer.write(self._answer(target))
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    def _answer(self, target: str) -> bytes:
        status, content_type, body = "404 Not Found", "text/plain", b"not found\n"
        if target == "/":
            status, content_type = "200 OK", "text/html; charset=utf-8"
            body = render_index(self.rooms()).encode()
        elif target.startswith("/static/") and ".." not in target:
            file = SEED / target.lstrip("/")
            if file.is_file():
                status, content_type, body = "200 OK", _TYPES[file.suffix], file.read_bytes()
        head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
        return head.encode() + body

    async def _relay(self, headers: list[tuple[str, ...]], request_line: str,
                     reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self.upstream_port is not None, "the chat server's port is not set"
        upstream = f"127.0.0.1:{self.upstream_port}"
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        lines = [request_line] + [f"Host: {upstream}" if name.lower() == "host"
                                  else f"{name}: {value}" for name, value in headers]
        up_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        pipes = [asyncio.create_task(_pipe(reader, up_writer)),
                 asyncio.create_task(_pipe(up_reader, writer))]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            up_writer.close()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    while chunk := await source.read(65536):
        sink.write(chunk)
        await sink.drain()
