"""LAN discovery (DNS-SD over multicast): servers advertise, apps and the CLI browse.

A server publishes one ``_multichat._tcp.local.`` record while it runs
(``Advertiser``, on the server's own loop); ``Browser`` follows the records on
the network on whichever loop starts it (the app's qasync loop, or
``multichat discover``'s). ``record.py`` says what a record holds, and why each
server's record names a host of its own.

Imports nothing of Multichat's but the version; the server, the app and the
CLI import it. The advertiser and the browser (zeroconf, ifaddr) are imported
on first use of their names: the desktop app lists ``FoundServer`` records from
its first window but browses only once that window is up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from multichat.lan.record import (
    RECORD_TTL,
    SERVICE_TYPE,
    Announcement,
    FoundServer,
    instance_name,
    server_host_name,
    url_host,
)

if TYPE_CHECKING:
    from multichat.lan.advertiser import Advertiser, interfaces_for
    from multichat.lan.browser import RECHECK_INTERVAL, Browser, browse

_LOADED_ON_USE = {
    "Advertiser": "multichat.lan.advertiser",
    "interfaces_for": "multichat.lan.advertiser",
    "RECHECK_INTERVAL": "multichat.lan.browser",
    "Browser": "multichat.lan.browser",
    "browse": "multichat.lan.browser",
}


def __getattr__(name: str) -> Any:
    module = _LOADED_ON_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "RECHECK_INTERVAL",
    "RECORD_TTL",
    "SERVICE_TYPE",
    "Advertiser",
    "Announcement",
    "Browser",
    "FoundServer",
    "browse",
    "instance_name",
    "interfaces_for",
    "server_host_name",
    "url_host",
]
