"""``multichat``: the one entry point. The desktop app, ``serve``, ``admin``, ``discover``.

One parser holds every flag: the app's own (``--server``, ``--username``,
``--join``, ``--self-test``) and each command's. Each part is imported only
when it runs, so ``serve`` and ``admin`` never load Qt, and the app gets its
options as arguments rather than a command line to parse again.

The app is what starts most often and a person waits for its window, so a
command line that names no command (nor ``--help``) is read by a parser of the
app's flags alone: the commands' parsers import the server (the store, peewee,
the database drivers) and zeroconf, a third of a second the app does not need
before its first window. Anything that parser refuses is read again by the
whole one, so every error and usage message is the same as before.

Bytes that are not UTF-8 in an argument or a ``MULTICHAT_*`` variable are a
usage error (exit 2) before anything runs: no name, title, path or URL may hold
them. Other errors a person can fix are one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from multichat import __version__

# The commands' names, as the whole parser knows them (tests/desktop/test_start_up.py
# checks the two agree): an argument spelled like one needs the whole parser.
COMMAND_NAMES = frozenset({"serve", "admin", "discover"})
HELP_FLAGS = frozenset({"-h", "--help"})


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"multichat: error: {message}\n")


class _NotTheApp(Exception):
    """The app-only parser cannot read this command line; the whole parser will."""


class _AppOnlyParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _NotTheApp(message)


def build_parser() -> argparse.ArgumentParser:
    """The whole parser: the app's flags and every command's (imports the server's CLI)."""
    from multichat.lan import discover  # noqa: PLC0415
    from multichat.server.cli import commands as server_commands  # noqa: PLC0415

    parser = _Parser(prog=PROGRAM, description=DESCRIPTION)
    _add_app_flags(parser)
    commands = parser.add_subparsers(dest="command", metavar="{serve,admin,discover}",
                                     parser_class=_Parser)
    server_commands.add_parsers(commands)
    discover.add_parser(commands)
    return parser


def build_app_parser() -> argparse.ArgumentParser:
    """The app's flags alone: raises _NotTheApp on anything else (see the module's doc)."""
    # No -h of its own: help (even "--he") is the whole parser's.
    parser = _AppOnlyParser(prog=PROGRAM, description=DESCRIPTION, add_help=False)
    _add_app_flags(parser)
    parser.set_defaults(command=None)
    return parser


PROGRAM = "multichat"
DESCRIPTION = ("Multichat: a desktop chat for a team or a LAN. Without a command it opens "
               "the desktop app.")


def _add_app_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action="version", version=f"multichat {__version__}")
    app = parser.add_argument_group("desktop app")
    app.add_argument("--server", metavar="URL", help="connect to this server at start, e.g. "
                     "ws://192.168.1.20:8765 (with --username)")
    app.add_argument("--username", metavar="NAME", help="log in as this user at start "
                     "(password from the keyring, else MULTICHAT_PASSWORD, else asked)")
    app.add_argument("--join", metavar="ROOM", action="append", default=[],
                     help="open this room (title or id) at start; repeatable; the last one "
                     "gets the keyboard focus")
    app.add_argument("--self-test", action="store_true",
                     help="check this install end to end: host a server in a temporary "
                     "directory, log in, join a room, send a message; exit 0, or 1 with the "
                     "reason (offscreen where there is no display)")


def parse(arguments: Sequence[str]) -> argparse.Namespace:
    """What the command line says: read by the app-only parser when it can."""
    if not any(argument in COMMAND_NAMES or argument in HELP_FLAGS for argument in arguments):
        try:
            return build_app_parser().parse_args(arguments)
        except _NotTheApp:
            pass  # the whole parser says what is wrong, as it always did
    return build_parser().parse_args(arguments)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    unreadable = _not_text(arguments, os.environ)
    if unreadable is not None:
        return _fail(unreadable, 2)
    args = parse(arguments)
    try:
        if args.command in ("serve", "admin"):
            from multichat.server.cli import commands as server_commands  # noqa: PLC0415

            return server_commands.run(args)
        if args.command == "discover":
            from multichat.lan import discover  # noqa: PLC0415

            try:
                return discover.main(args)
            except OSError as exc:  # no interface to browse on
                return _fail(f"cannot browse: {exc.strerror or exc}")
        if bool(args.server) != bool(args.username):
            build_parser().error("--server and --username go together")
        # Imported here so `serve` and `admin` never load Qt.
        from multichat.desktop.app import main as app_main  # noqa: PLC0415

        return app_main(server=args.server, username=args.username, join=args.join,
                        self_test=args.self_test)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


def _fail(message: str, code: int = 1) -> int:
    """The commands' one line on stderr (imported only when something failed)."""
    from multichat.server.cli.commands import fail  # noqa: PLC0415

    return fail(message, code)


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


def _as_bytes(text: str) -> str:
    """How a string that holds undecodable bytes (lone surrogates) came in, for a message."""
    try:
        return repr(os.fsencode(text))
    except UnicodeError:
        return repr(text)
