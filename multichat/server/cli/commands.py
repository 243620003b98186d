"""``multichat serve`` and ``multichat admin ...``: their parsers, and running them.

Errors a person can fix (a taken title, an unknown user, a database that
cannot be opened, a bad setting) are one line on stderr and a non-zero exit:
1 for a refusal, 2 for a usage error (a bad ``MULTICHAT_*`` setting or a
password on stdin that is not UTF-8 among them). Tracebacks are for bugs only.
The one ``multichat`` entry point (``multichat/cli.py``) adds these commands to
its parser and hands them here.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from multichat.protocol.names import escape_for_terminal
from multichat.server.cli import admin, serve
from multichat.server.cli.event_loop import LoopUnavailable
from multichat.server.cli.settings import SettingsError, add_setting_flags, load_config
from multichat.server.net import ServerError
from multichat.server.net.tls import TlsError
from multichat.server.store.errors import StoreError

COMMANDS = ("serve", "admin")

SERVE_EPILOG = """\
Every setting can also come from the environment (MULTICHAT_<NAME>, e.g.
MULTICHAT_PORT=9000) or from a TOML file given with --config, in a [server]
table (port = 9000). Flags win over the environment, which wins over the file.

On start the server logs one line:
  Multichat VERSION listening on HOST:PORT[, HOST:PORT] (on this network:
  ws://ADDRESS:PORT ...; database URL)
SIGINT (Ctrl-C) or SIGTERM closes every connection with code 1001, commits
the messages it accepted, and exits 0. A second one while that waits ends the
process at once (exit 128 + the signal's number).
"""


def add_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    """``serve`` and ``admin``, on the ``multichat`` parser's commands."""
    serve_parser = commands.add_parser(
        "serve", help="run the chat server", description="Run the Multichat server until "
        "interrupted.", epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve_parser.add_argument("--config", metavar="FILE", type=Path,
                              help="TOML file with a [server] table of settings")
    serve_parser.add_argument("-v", "--verbose", action="store_true",
                              help="log more: connections, and Multichat's debug lines (never "
                              "a password, token, hash or message text)")
    add_setting_flags(serve_parser)
    admin.add_parser(commands)


def fail(message: str, code: int = 1) -> int:
    """One line on stderr, escaped (it may quote a stored name or an argument); ``code``."""
    print(f"multichat: error: {escape_for_terminal(message, backslash=False)}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    """Run ``serve`` or ``admin`` as parsed; errors a person can fix become one line."""
    try:
        if args.command == "serve":
            config = load_config(vars(args), os.environ, args.config)
            serve.configure_logging(args.verbose)
            return serve.run(config)
        flags = {"data_dir": args.data_dir, "database": args.database}
        config = load_config(flags, os.environ)
        config.ensure_data_dir()
        return admin.main(config.database_url(), args)
    except (SettingsError, LoopUnavailable, admin.UnreadableInput) as exc:
        return fail(str(exc), 2)
    except (ServerError, StoreError, admin.AdminError, TlsError) as exc:
        return fail(str(exc))
    except OSError as exc:  # e.g. the port is taken
        return fail(f"cannot serve: {exc.strerror or exc}")
