"""main() of the desktop app: QApplication, the qasync loop, the controller. Nothing else."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

import qasync
from PySide6.QtWidgets import QApplication

from multichat import __version__
from multichat.desktop import theme
from multichat.desktop.controller import AppController, StartOptions
from multichat.desktop.resources import app_icon
from multichat.desktop.services.credentials import CredentialStore
from multichat.desktop.services.settings import AppSettings


def main(*, server: str | None = None, username: str | None = None,
         join: Sequence[str] = (), self_test: bool = False) -> int:
    """Run the app until it quits, or ``--self-test``; the flags are parsed by multichat.cli."""
    if self_test and _no_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName("Multichat")
    app.setApplicationVersion(__version__)
    app.setQuitOnLastWindowClosed(False)  # qasync #39; closing is the controller's call
    icon = app_icon()
    app.setWindowIcon(icon)
    if self_test:
        from multichat.desktop.self_test import main as self_test_main  # noqa: PLC0415

        theme.install(app)
        return self_test_main(app, icon)
    settings = AppSettings()
    theme.install(app, settings.theme())  # Fusion and the saved choice, before any window
    options = StartOptions(
        server=server,
        username=username,
        password=os.environ.get("MULTICHAT_PASSWORD"),
        join=list(join),
    )

    async def run() -> None:
        controller = AppController(
            app, settings=settings, credentials=CredentialStore(check_now=False), icon=icon,
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
