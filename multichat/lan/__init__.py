"""LAN discovery (DNS-SD over multicast): servers advertise, apps and the CLI browse.

A server publishes one ``_multichat._tcp.local.`` record while it runs
(``Advertiser``, on the server's own loop); ``Browser`` follows the records on
the network on whichever loop starts it (the app's qasync loop, or
``multichat discover``'s). ``record.py`` says what a record holds, and why each
server's record names a host of its own.

Imports nothing of Multichat's but the version; the server, the app and the
CLI import it.
"""

from multichat.lan.advertiser import Advertiser, interfaces_for
from multichat.lan.browser import RECHECK_INTERVAL, Browser, browse
from multichat.lan.record import (
    RECORD_TTL,
    SERVICE_TYPE,
    Announcement,
    FoundServer,
    instance_name,
    server_host_name,
    url_host,
)

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
