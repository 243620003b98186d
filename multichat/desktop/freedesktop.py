"""Desktop notifications through the freedesktop service (``org.freedesktop.Notifications``).

Works without a tray: GNOME, KDE, XFCE, sway with mako or dunst all run this
service on the session bus. Spoken with jeepney (pure Python, already here on
Linux as keyring's Secret Service transport), not PySide6.QtDBus: PySide6 marshals
a Python int as int32 only, and ``Notify`` takes a uint32 ``replaces_id``, which
strict services (GDBus-based ones) refuse. Where there is no session bus, no
service, or no jeepney, ``available`` is False and the caller falls back.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any

try:  # Linux's Secret Service keyring needs it too; elsewhere there is no such bus
    from jeepney import DBusAddress, new_method_call  # type: ignore[import-untyped]
    from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]
    from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - not on Linux
    open_dbus_connection = None

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
# Short: the call runs on the GUI thread, and a service that exists answers in ms.
CALL_TIMEOUT = 1.0
EXPIRE_MS = 5000


class FreedesktopNotifications:
    """A connection to the session bus's notification service, or its absence."""

    def __init__(self, address: str | None = None, app_name: str = "Multichat") -> None:
        self.app_name = app_name
        self._connection: Any = None
        self._replaces: dict[str, int] = {}  # room -> id: a room's next notice replaces its last
        address = address if address is not None else os.environ.get(
            "DBUS_SESSION_BUS_ADDRESS", "")
        if address and open_dbus_connection is not None:
            self._connection = self._connect(address)

    @property
    def available(self) -> bool:
        return self._connection is not None

    def _connect(self, address: str) -> Any:
        try:
            connection = open_dbus_connection(bus=address)
            bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                              interface="org.freedesktop.DBus")
            reply = unwrap_msg(connection.send_and_get_reply(
                new_method_call(bus, "NameHasOwner", "s", (SERVICE,)), timeout=CALL_TIMEOUT))
            if reply and reply[0]:
                return connection
            connection.close()
        except Exception as exc:
            log.info("no desktop notification service: %s", exc)
        return None

    def notify(self, key: str, title: str, body: str) -> bool:
        """Show a notice; True when the service took it."""
        if self._connection is None:
            return False
        try:
            target = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
            message = new_method_call(
                target, "Notify", "susssasa{sv}i",
                (self.app_name, self._replaces.get(key, 0), "multichat", title, body, [], {},
                 EXPIRE_MS))
            reply = unwrap_msg(self._connection.send_and_get_reply(message,
                                                                   timeout=CALL_TIMEOUT))
            if reply:
                self._replaces[key] = int(reply[0])
            return True
        except Exception as exc:
            log.warning("desktop notification failed: %s", exc)
            self.close()
            return False

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(OSError):
                connection.close()
