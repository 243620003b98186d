"""Hosting a Multichat server inside the app, on a thread and event loop of its own.

The GUI's loop (qasync) and the server's loop never wait on each other: a busy
window cannot delay deliveries to the LAN, and a busy server cannot freeze the
window. The app talks to its own server over the protocol, like anyone else.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer

T = TypeVar("T")
# What makes the server: ChatServer itself, or (tests) one with cheaper password hashing.
ServerFactory = Callable[[ServerConfig], ChatServer]

# Seconds to wait for the server thread to start or stop before reporting failure.
START_TIMEOUT = 30.0


class ServerThread:
    """A ChatServer running on its own thread until ``stop()``."""

    def __init__(self, config: ServerConfig, *, make_server: ServerFactory = ChatServer) -> None:
        self.config = config
        self._make_server = make_server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ChatServer | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        """Start serving; raise the server's own error (port in use, bad database) if it fails."""
        self._thread = threading.Thread(target=self._run, name="multichat-server", daemon=True)
        self._thread.start()
        if not self._started.wait(START_TIMEOUT):
            raise TimeoutError("the server did not start in time")
        if self._error is not None:
            self._thread.join()
            raise self._error

    def _run(self) -> None:
        # A plain asyncio loop, whatever policy the GUI installed (qasync's would try
        # to make a Qt loop here, on a thread that has no Qt event loop).
        with asyncio.Runner(loop_factory=_plain_loop) as runner:
            runner.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = self._make_server(self.config)
        try:
            await server.start()
        except BaseException as exc:
            self._error = exc
            self._started.set()
            return
        self._server = server
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            await server.stop()

    def call(self, fn: Callable[[ChatServer], Awaitable[T]]) -> T:
        """Run ``fn(server)`` on the server's loop and wait for its result."""
        if self._loop is None or self._server is None:
            raise RuntimeError("the server is not running")
        server = self._server
        future = asyncio.run_coroutine_threadsafe(_call(fn, server), self._loop)
        try:
            return future.result(START_TIMEOUT)
        except concurrent.futures.TimeoutError as exc:
            raise TimeoutError("the server did not answer in time") from exc

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not running")
        return self._server.port

    def urls(self) -> list[str]:
        return self._server.urls() if self._server else []

    def page_urls(self) -> list[str]:
        """Where anyone on the network opens the chat in a browser."""
        return self._server.page_urls() if self._server else []

    @property
    def fingerprint(self) -> str | None:
        """With TLS, the certificate's fingerprint (the app pins its own server's at once)."""
        certificate = self._server.certificate if self._server else None
        return certificate.fingerprint if certificate else None

    def connection_count(self) -> int:
        """Logged-in people connected right now (for the 'close while hosting' warning)."""

        async def count(server: ChatServer) -> int:
            return server.people_connected()

        return self.call(count) if self.running else 0

    def has_users(self) -> bool:
        """Whether the hosted database has any account (if not, ask for the admin's)."""
        return self.call(ChatServer.has_users)

    def create_admin(self, username: str, password: str) -> None:
        """Create the first account, a superuser, by the server's rules of names and passwords.

        Raises ServerError, whose words the form shows, when they refuse it.
        """

        async def create(server: ChatServer) -> None:
            await server.create_first_admin(username, password)

        self.call(create)

    def stop(self) -> None:
        """Close every connection (1001), commit, and end the thread."""
        if self._loop is not None and self._stop is not None and self._thread is not None:
            if self._thread.is_alive():
                self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(START_TIMEOUT)
        self._server = None


def _plain_loop() -> asyncio.AbstractEventLoop:
    return asyncio.DefaultEventLoopPolicy().new_event_loop()


async def _call(fn: Callable[[ChatServer], Awaitable[T]], server: ChatServer) -> T:
    return await fn(server)
