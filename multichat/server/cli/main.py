"""``multichat``: the desktop app, ``serve`` and ``admin``, behind one entry point.

Errors a person can fix (a taken title, an unknown user, a database that
cannot be opened, a bad setting) are one line on stderr and a non-zero exit:
1 for a refusal, 2 for a usage error (bytes that are not UTF-8 in an argument,
a ``MULTICHAT_*`` variable or a password on stdin among them). Tracebacks are
for bugs only.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from multichat import __version__
from multichat.protocol.names import escape_for_terminal
from multichat.server.cli import admin, discover, serve
from multichat.server.cli.settings import SettingsError, add_setting_flags, load_config
from multichat.server.net.tls import TlsError
from multichat.server.store.errors import StoreError

SERVE_EPILOG = """\
Every setting can also come from the environment (MULTICHAT_<NAME>, e.g.
MULTICHAT_PORT=9000) or from a TOML file given with --config, in a [server]
table (port = 9000). Flags win over the environment, which wins over the file.

On start the server logs one line:
  Multichat VERSION listening on HOST:PORT[, HOST:PORT] (on this network:
  ws://ADDRESS:PORT ...; database URL)
SIGINT (Ctrl-C) or SIGTERM closes every connection with code 1001, commits
the messages it accepted, and exits 0.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"multichat: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="multichat",
        description="Multichat: a desktop chat for a team or a LAN. Without a command it "
        "opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"multichat {__version__}")
    app = parser.add_argument_group("desktop app")
    app.add_argument("--server", metavar="URL", help="connect to this server at start")
    app.add_argument("--username", metavar="NAME", help="log in as this user at start "
                     "(password from the keyring, else MULTICHAT_PASSWORD, else asked)")
    app.add_argument("--join", metavar="ROOM", action="append", default=[],
                     help="open this room (title or id) at start; repeatable")
    app.add_argument("--self-test", action="store_true",
                     help="check this install end to end: host a server in a temporary "
                     "directory, log in, join a room, send a message; exit 0, or 1 with the "
                     "reason (offscreen where there is no display)")
    commands = parser.add_subparsers(dest="command", metavar="{serve,admin,discover}",
                                     parser_class=_Parser)
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
    discover.add_parser(commands)
    return parser


def _fail(message: str, code: int = 1) -> int:
    # Escaped: the words may quote a stored name or an argument, whatever it holds.
    print(f"multichat: error: {escape_for_terminal(message, backslash=False)}", file=sys.stderr)
    return code


def _as_bytes(text: str) -> str:
    """How a string that holds undecodable bytes (lone surrogates) came in, for a message."""
    try:
        return repr(os.fsencode(text))
    except UnicodeError:
        return repr(text)


def _not_text(arguments: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """Why the command line or a MULTICHAT_* variable cannot be read as text, if it cannot.

    On POSIX, Python hands bytes that are not UTF-8 over as lone surrogates
    (surrogateescape); no name, title, path or URL may hold one.
    """
    for number, argument in enumerate(arguments, 1):
        if not _encodes(argument):
            return f"argument {number} is not valid UTF-8 text: {_as_bytes(argument)}"
    for name, value in environ.items():
        if name.startswith("MULTICHAT_") and not (_encodes(name) and _encodes(value)):
            return f"the environment variable {_as_bytes(name)} is not valid UTF-8 text"
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    unreadable = _not_text(arguments, os.environ)
    if unreadable is not None:
        return _fail(unreadable, 2)
    args = build_parser().parse_args(arguments)
    try:
        if args.command == "serve":
            config = load_config(vars(args), os.environ, args.config)
            serve.configure_logging(args.verbose)
            return serve.run(config)
        if args.command == "admin":
            flags = {"data_dir": args.data_dir, "database": args.database}
            config = load_config(flags, os.environ)
            config.ensure_data_dir()
            return admin.main(config.database_url(), args)
        if args.command == "discover":
            return discover.main(args)
        # Imported here so `serve` and `admin` never load Qt.
        from multichat.desktop.app import main as desktop_main  # noqa: PLC0415

        desktop_args = [*(["--server", args.server] if args.server else []),
                        *(["--username", args.username] if args.username else [])]
        for room in args.join:
            desktop_args += ["--join", room]
        if args.self_test:
            desktop_args.append("--self-test")
        return desktop_main(desktop_args)
    except (SettingsError, admin.UnreadableInput) as exc:
        return _fail(str(exc), 2)
    except (StoreError, admin.AdminError, TlsError) as exc:
        return _fail(str(exc))
    except OSError as exc:  # e.g. the port is taken
        return _fail(f"cannot serve: {exc.strerror or exc}")
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
