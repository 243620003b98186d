"""Every server setting, declared once: its type, default and help.

The CLI turns each field into a ``--flag``, reads ``MULTICHAT_<NAME>`` from the
environment and ``[server]`` from a TOML file, in that order of precedence
(flags first). Code that needs a setting takes a ``ServerConfig``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "multichat"
DEFAULT_PORT = 8765


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _setting(default: Any, help: str, *, metavar: str | None = None) -> Any:
    return field(default=default, metadata={"help": help, "metavar": metavar})


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = _setting(
        "", "interface to listen on; empty means every interface (a LAN server)", metavar="HOST"
    )
    port: int = _setting(DEFAULT_PORT, "TCP port to listen on; 0 picks a free one", metavar="PORT")
    unix: Path | None = _setting(
        None, "listen on this Unix socket instead of TCP, for a reverse proxy on this machine "
        "(nginx 'server unix:PATH;'): created 0660, so only the server's user and group may "
        "connect, and removed at exit; every connection on it is taken as from a trusted "
        "proxy (its X-Forwarded-For or, with --proxy-protocol, its PROXY header names the "
        "client). --host, --port and --advertise do not apply; not with TLS (the proxy "
        "terminates it)", metavar="PATH",
    )
    listen_backlog: int = _setting(
        4096, "connections the kernel holds for the server to accept (listen's backlog; "
        "Linux caps it at net.core.somaxconn): when every client comes back at once (a "
        "restart, a network outage) those past it lose their SYN and wait 1 s, 3 s, 7 s "
        "... to retry"
    )
    data_dir: Path | None = _setting(
        None, "directory of the SQLite database (default: the user data dir)", metavar="DIR"
    )
    database: str | None = _setting(
        None, "database URL, e.g. sqlite:///path/db.sqlite3; overrides --data-dir", metavar="URL"
    )
    broker: str | None = _setting(
        None,
        "Redis URL (redis://host:6379/0) to run as one of several processes sharing a "
        "PostgreSQL database; default: this process alone",
        metavar="URL",
    )
    presence_ttl: float = _setting(
        15.0,
        "with --broker: seconds after which a process that stopped answering (killed, cut "
        "off) has its members counted out of their rooms",
    )
    sqlite_synchronous: str = _setting(
        "normal",
        "SQLite sync mode: 'normal' survives a crash of the server, "
        "'full' also a power loss (slower)",
        metavar="MODE",
    )
    max_frame_bytes: int = _setting(
        2**20, "largest frame a client may send; larger ones close the connection (1009)"
    )
    max_message_chars: int = _setting(
        10_000, "longest message text; longer ones get MESSAGE_TOO_LONG"
    )
    max_file_bytes: int = _setting(
        25 * 2**20, "largest file a client may upload (25 MiB); a larger upload gets "
        "FILE_TOO_LARGE and nothing is stored"
    )
    max_upload_bytes_per_day: int = _setting(
        500 * 2**20, "bytes one user may upload in 24 hours (500 MiB), over all their "
        "connections and every process (counted in the database); past it an upload gets "
        "QUOTA_EXCEEDED. Deleting files does not give the day's bytes back"
    )
    upload_timeout: float = _setting(
        60.0, "seconds an upload may go without a byte before it is discarded (its bytes "
        "are never served); uploads of a process that died are deleted by the others "
        "after 4 times this"
    )
    upload_bytes_per_second: int = _setting(
        16 * 2**20, "bytes a second all uploads to this process take in together (16 MiB, "
        "about 130 Mbit/s), so that uploads never take the time of message delivery; 0 for "
        "no limit"
    )
    max_download_bytes_in_flight: int = _setting(
        256 * 2**20, "bytes of file downloads this process holds at once while they are "
        "sent (256 MiB): websockets answers with a whole body, so each download of a file "
        "is in memory until it is written out; past this a download gets 503 and "
        "Retry-After, so slow readers cannot make the server hold more"
    )
    max_image_pixels: int = _setting(
        40_000_000, "most pixels (width x height) of an image the server decodes to make "
        "its thumbnail; an image with more (a decompression bomb, or just huge) gets "
        "FILE_TOO_LARGE and nothing is stored"
    )
    send_burst: int = _setting(100, "sends a connection may make in a burst")
    send_rate: float = _setting(20.0, "sends per second a connection may keep up after a burst")
    user_send_burst: int = _setting(
        200, "sends a user may make in a burst, over all their connections together"
    )
    user_send_rate: float = _setting(
        40.0, "sends per second a user may keep up after a burst, over all their connections"
    )
    max_connections_per_address: int = _setting(
        32, "connections open at once from one client address, past which the handshake gets "
        "HTTP 429; 0 for no limit. Loopback clients are not limited (see --limit-loopback); "
        "behind a reverse proxy the client's address is the one the proxy reports (see "
        "--trusted-proxies)",
    )
    limit_loopback: bool = _setting(
        False, "apply --max-connections-per-address to loopback clients (127.0.0.0/8, ::1) "
        "too; by default this machine's own programs (tests, benchmarks) are not limited",
    )
    trusted_proxies: str = _setting(
        "", "reverse proxies whose word on the client's address is believed: comma-separated "
        "addresses or networks (127.0.0.1, 10.0.0.0/8); the per-address limits then count "
        "the client's address, taken from X-Forwarded-For or, with --proxy-protocol, from "
        "the PROXY header",
        metavar="ADDRESSES",
    )
    proxy_protocol: bool = _setting(
        False, "the --trusted-proxies send a PROXY protocol header (v1 or v2: nginx stream "
        "'proxy_protocol on', HAProxy 'send-proxy-v2') first on each connection; one that "
        "does not is closed, and X-Forwarded-For is ignored. Not with this server's own TLS",
    )
    max_rooms_per_connection: int = _setting(
        100, "rooms one connection may have joined at once; one more gets LIMIT_REACHED"
    )
    max_new_direct_per_hour: int = _setting(
        30, "direct conversations one user may start in an hour (dm.open of people not yet "
        "in one together); more get RATE_LIMITED. Counted in the database: on every "
        "process, across reconnects"
    )
    allowed_origins: str = _setting(
        "", "web pages whose scripts may connect: comma-separated Origin values "
        "(https://chat.example.com), or * for any; clients that send no Origin (the app, "
        "scripts) always may, browsers from other pages get HTTP 403",
        metavar="ORIGINS",
    )
    max_output_bytes: int = _setting(
        4 * 2**20,
        "unsent output a connection may pile up (its reader stalled) before it is dropped",
    )
    ping_interval: float = _setting(20.0, "seconds between pings that detect dead peers")
    ping_timeout: float = _setting(20.0, "seconds to wait for a pong before dropping a peer")
    close_timeout: float = _setting(
        5.0, "seconds to wait for a peer to answer a close before cutting the connection"
    )
    token_ttl_days: float = _setting(30.0, "days a login token stays good")
    command_burst: int = _setting(
        100, "other commands than sends (join, leave, history, rooms, login, logout) a "
        "connection may make in a burst; admin commands are not counted"
    )
    command_rate: float = _setting(
        5.0, "such commands per second a connection may keep up after a burst"
    )
    user_join_burst: int = _setting(
        200, "joins and leaves (each tells the room's members) a user may make in a burst, "
        "over all their connections together"
    )
    user_join_rate: float = _setting(
        2.0, "joins and leaves per second a user may keep up after a burst, over all their "
        "connections"
    )
    login_free_failures: int = _setting(
        5, "failed password logins for one name from one address before that address waits "
        "1, 2, 4 ... s per failure on it; a name failed this often from anywhere is under "
        "attack and gives no free failures"
    )
    login_max_delay: float = _setting(300.0, "longest lock-out after failed logins, in seconds")
    login_spray_names: int = _setting(
        10, "different names an address may fail to log in as before it is locked out of "
        "password logins altogether (tokens still work)"
    )
    activity: bool = _setting(
        True, "tell each connection of new events in the rooms it may see but has not joined "
        "(activity frames: live unread counts); off only to measure what they cost (bench/)",
    )
    poll_interval: float = _setting(
        2.0, "seconds between checks for changes made by the admin CLI or other servers"
    )
    loop: str = _setting(
        "auto", "event loop of `serve`: 'auto' (uvloop where installed, not on Windows), "
        "'uvloop' (fail without it) or 'asyncio' (the standard library's)", metavar="LOOP",
    )
    compression: bool = _setting(
        False, "permessage-deflate compression (costs memory and CPU per connection)"
    )
    tls: bool = _setting(
        False,
        "serve wss:// with a self-signed certificate made on first run and kept in the data "
        "dir (its fingerprint is printed at start for clients to pin)",
    )
    cert: Path | None = _setting(
        None, "PEM certificate (chain) to serve wss:// with, instead of a self-signed one; "
        "needs --key", metavar="FILE",
    )
    key: Path | None = _setting(None, "PEM private key of --cert", metavar="FILE")
    advertise: bool = _setting(
        True, "advertise this server on the LAN (DNS-SD over multicast, _multichat._tcp) so "
        "apps list it by themselves",
    )
    name: str = _setting(
        "", "the name people browsing the LAN see (default: this computer's name)",
        metavar="NAME",
    )

    def database_url(self) -> str:
        if self.database:
            return self.database
        # The store (peewee, the drivers) is imported when a server needs it, not by
        # whoever reads a setting: the desktop app reads DEFAULT_PORT before its window.
        from multichat.server.store.database import url_for_data_dir  # noqa: PLC0415

        return url_for_data_dir(self.data_dir or default_data_dir())

    def ensure_data_dir(self) -> None:
        """Create the data directory 0700 (or tighten an older, looser one).

        Nothing is made when the database is given by URL.
        """
        if not self.database:
            from multichat.server.store.database import make_private_dir  # noqa: PLC0415

            make_private_dir(self.data_dir or default_data_dir())

    @property
    def uses_tls(self) -> bool:
        return self.tls or self.cert is not None or self.key is not None

    def tls_dir(self) -> Path:
        """Where the self-signed certificate lives: beside the database."""
        return (self.data_dir or default_data_dir()) / "tls"

    def replace(self, **changes: Any) -> ServerConfig:
        return dataclasses.replace(self, **changes)
