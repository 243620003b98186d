"""Desktop notifications through the freedesktop service (``org.freedesktop.Notifications``).

Works without a tray: GNOME, KDE, XFCE, sway with mako or dunst all run this
service on the session bus. Spoken with jeepney (pure Python, already here on
Linux as keyring's Secret Service transport), not PySide6.QtDBus: PySide6 marshals
a Python int as int32 only, and ``Notify`` takes a uint32 ``replaces_id``, which
strict services (GDBus-based ones) refuse.

Nothing here blocks the GUI thread: jeepney's asyncio integration runs on the
app's (qasync) loop, every call has a deadline, and ``notify`` is a coroutine
the caller awaits in a task. The connection is opened at the first notice. A
notice asks for the "default" action (a click on its body); the service's
``ActionInvoked`` signal for it comes back as ``clicked(key)``. Where there is
no session bus, no service, or no jeepney, ``notify`` answers False and the
caller falls back; after a failure ``available`` is False.

Signals:
    clicked(str key): the person clicked the notice sent with ``key``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

from PySide6.QtCore import QObject, Signal

try:  # Linux's Secret Service keyring needs it too; elsewhere there is no such bus
    from jeepney import (  # type: ignore[import-untyped]
        DBusAddress,
        MatchRule,
        message_bus,
        new_method_call,
    )
    from jeepney.io.asyncio import (  # type: ignore[import-untyped]
        DBusRouter,
        Proxy,
        open_dbus_connection,
    )
    from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - not on Linux
    open_dbus_connection = None

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
# A service that exists answers in milliseconds; a stuck bus must not hold a notice
# (nor, awaited at quit, the app) for long.
CALL_TIMEOUT = 1.0
EXPIRE_MS = 5000
DEFAULT_ACTION = "default"  # the spec's name for a click on the notice itself


class FreedesktopNotifications(QObject):
    """A connection to the session bus's notification service, opened when first needed."""

    clicked = Signal(str)

    def __init__(self, address: str | None = None, app_name: str = "Multichat",
                 parent: QObject | None = None, *, timeout: float = CALL_TIMEOUT) -> None:
        super().__init__(parent)
        self.app_name = app_name
        self.timeout = timeout
        self._address = address if address is not None else os.environ.get(
            "DBUS_SESSION_BUS_ADDRESS", "")
        self._failed = not self._address or open_dbus_connection is None
        self._connection: Any = None
        self._router: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._lock: asyncio.Lock | None = None
        self._replaces: dict[str, int] = {}  # key -> id: a room's next notice replaces its last
        self._keys: dict[int, str] = {}  # notice id -> the key it was sent with

    @property
    def available(self) -> bool:
        """Worth trying: a bus address, jeepney, and no failure so far."""
        return not self._failed

    async def notify(self, key: str, title: str, body: str) -> bool:
        """Show a notice; True when the service took it, False (and unavailable from
        now on) when it could not, within twice ``timeout`` (connecting, then the call)."""
        if self._failed:
            return False
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one at a time: each may replace the one before
            try:
                async with asyncio.timeout(self.timeout * 2):
                    if self._router is None:
                        await self._connect()
                    target = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
                    message = new_method_call(
                        target, "Notify", "susssasa{sv}i",
                        (self.app_name, self._replaces.get(key, 0), "multichat", title, body,
                         [DEFAULT_ACTION, "Open"], {}, EXPIRE_MS))
                    reply = unwrap_msg(await self._router.send_and_get_reply(message))
            except Exception as exc:  # no bus, no service, a refusal or a timeout alike
                log.warning("desktop notification failed: %s", str(exc) or type(exc).__name__)
                self._failed = True
                self.close()
                return False
        if reply:
            notice = int(reply[0])
            self._replaces[key] = notice
            self._keys[notice] = key
        return True

    async def _connect(self) -> None:
        connection = await open_dbus_connection(bus=self._address)
        try:
            router = DBusRouter(connection)
            rule = MatchRule(type="signal", interface=SERVICE, member="ActionInvoked",
                             path=PATH)
            await Proxy(message_bus, router).AddMatch(rule)
        except BaseException:
            await connection.close()
            raise
        self._connection, self._router = connection, router
        self._listener = asyncio.get_running_loop().create_task(self._listen(router, rule))

    async def _listen(self, router: Any, rule: Any) -> None:
        """Clicks on our notices, as ``clicked`` with the key each was sent with."""
        with router.filter(rule, bufsize=16) as queue:
            while True:
                message = await queue.get()
                notice, action = message.body[:2]
                key = self._keys.get(int(notice))
                if key is not None and action == DEFAULT_ACTION:
                    self.clicked.emit(key)

    def close(self) -> None:
        """Drop the connection (at once: the socket closes, nothing is awaited)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
        router, self._router = self._router, None
        if router is not None:
            router._rcv_task.cancel()  # jeepney's router has no close that does not await
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(OSError, RuntimeError):
                connection.writer.close()
