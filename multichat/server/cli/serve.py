"""``multichat serve``: run the server until SIGINT or SIGTERM, then shut down cleanly.

Its log never holds a password, a token or any part of one, a hash, or a
message's text, at any verbosity: ``-v`` adds Multichat's own debug lines and
websockets' connection lines, never the loggers of libraries that write what
passes through them (websockets' frames and headers, peewee's queries with their
parameters); and a formatter blanks what would still look like a secret in an
exception's words (a hash, a token, a row PostgreSQL quotes back).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys

from multichat.server.cli.event_loop import loop_factory
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from multichat.server.net.heap import freeze_start_up

if sys.platform != "win32":
    import resource

log = logging.getLogger("multichat.serve")

# Libraries whose DEBUG lines carry what passes through them: websockets logs every
# frame (passwords at login, tokens, message text), peewee every query with its
# parameters (hashes, message text), psycopg and redis their traffic. They stay at
# INFO or above whatever -v says, and whatever level the root logger is given.
QUIET_LIBRARIES = ("websockets", "peewee", "psycopg", "redis", "asyncio")

# Shapes of secrets that an exception's words can still carry: an Argon2 hash, a
# SHA-256 in hex (a token's hash), a token (32 bytes in URL-safe base64: 43
# characters), and the row or key PostgreSQL quotes back in a constraint error's
# DETAIL ("Failing row contains (...)", "Key (col)=(...)").
_SECRET_SHAPES = re.compile(
    r"\$argon2(?:id|i|d)\$\S*"
    r"|(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])"
    r"|(?<![\w-])[\w-]{43}(?![\w-])"
    r"|(?<=Failing row contains )\(.*"
    r"|(?<=\)=)\(.*",
    re.ASCII,
)
REDACTED = "[not logged]"


class RedactingFormatter(logging.Formatter):
    """A formatter that blanks whatever looks like a secret in the finished line."""

    def format(self, record: logging.LogRecord) -> str:
        return _SECRET_SHAPES.sub(REDACTED, super().format(record))


def configure_logging(verbose: bool) -> None:
    """Log to stderr: INFO, or with ``verbose`` Multichat's DEBUG too; never a secret."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)-7s %(message)s",
                                            datefmt="%Y-%m-%d %H:%M:%S"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("multichat").setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.INFO)
    # websockets' INFO lines say "connection open" with no address and repeat the
    # listening line: -v writes Multichat's own connection lines (net/server.py) instead.
    logging.getLogger("websockets").setLevel(logging.WARNING)


async def serve(config: ServerConfig) -> None:
    """Serve until a signal; then close connections (1001) and commit what was accepted."""
    allow_open_files()
    server = ChatServer(config)
    await server.start()
    freeze_start_up()  # before the first client: no full collection walks start-up again
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _on_signal, stop, signum)
    try:
        await stop.wait()
        log.info("stopping: closing connections and committing pending messages")
    finally:
        try:
            await server.stop()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)


def _on_signal(stop: asyncio.Event, signum: int) -> None:
    """The first signal stops cleanly; a second, while that waits (a peer slow to close,
    a database slow to commit), ends the process at once, as a second Ctrl-C should.

    What was committed stays committed; a message not yet committed was not confirmed
    to its sender, whose app sends it again. (Before, the second signal interrupted the
    clean stop halfway and the process then hung on the threads it had left running.)
    """
    if not stop.is_set():
        stop.set()
        return
    log.warning("a second %s: stopping now, without waiting", signal.Signals(signum).name)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(128 + signum)


def allow_open_files() -> None:
    """Raise this process's soft limit of open files to its hard limit.

    Each connection is an open file, and processes start with a soft limit of
    1,024 on most systems (systemd's default, under a hard limit of 524,288):
    held to it, the server could not accept its thousandth client (EMFILE).
    """
    if sys.platform == "win32":  # no such limit
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == hard:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):  # macOS refuses an unlimited soft limit: leave it
        log.info("open files limited to %d (the hard limit could not be taken)", soft)


def run(config: ServerConfig) -> int:
    """Serve on the event loop ``config.loop`` picks (uvloop where it can)."""
    name, factory = loop_factory(config.loop)
    log.info("event loop: %s", name)
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(serve(config))
    return 0
