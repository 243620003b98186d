"""main() of the desktop app: QApplication, the qasync loop, the controller. Nothing else."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

import qasync
from PySide6.QtWidgets import QApplication

from multichat import __version__
from multichat.desktop import self_test
from multichat.desktop.controller import AppController, StartOptions
from multichat.desktop.resources import app_icon, style_sheet
from multichat.desktop.services.credentials import CredentialStore
from multichat.desktop.services.settings import AppSettings


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="multichat",
        description="Open the Multichat desktop app. With --server and --username it logs "
        "in at once (password from the keyring, else MULTICHAT_PASSWORD, else it asks).",
    )
    parse.add_argument("--server", metavar="URL", help="server to connect to, e.g. "
                       "ws://192.168.1.20:8765")
    parse.add_argument("--username", metavar="NAME", help="log in as this user")
    parse.add_argument("--join", metavar="ROOM", action="append", default=[],
                       help="open this room (title or id) after logging in; repeatable; "
                       "the last one gets the keyboard focus")
    parse.add_argument("--self-test", action="store_true",
                       help="check this install end to end (host, log in, join, send) and exit "
                       "0, or 1 with the reason; offscreen where there is no display")
    parse.add_argument("--version", action="version", version=f"multichat {__version__}")
    return parse


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if bool(args.server) != bool(args.username):
        parser().error("--server and --username go together")
    if args.self_test and _no_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName("Multichat")
    app.setApplicationVersion(__version__)
    app.setQuitOnLastWindowClosed(False)  # qasync #39; closing is the controller's call
    app.setStyleSheet(style_sheet())
    icon = app_icon()
    app.setWindowIcon(icon)
    if args.self_test:
        return self_test.main(app, icon)
    options = StartOptions(
        server=args.server,
        username=args.username,
        password=os.environ.get("MULTICHAT_PASSWORD"),
        join=list(args.join),
    )

    async def run() -> None:
        controller = AppController(
            app, settings=AppSettings(), credentials=CredentialStore(), icon=icon,
            options=options,
        )
        finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def done() -> None:
            if not finished.done():
                finished.set_result(None)

        controller.finished.connect(done)
        controller.start()
        await finished

    qasync.run(run())
    return 0


def _no_display() -> bool:
    """Linux and BSD without X11 or Wayland (a server, CI): Qt would refuse to start."""
    if sys.platform in ("win32", "darwin"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
