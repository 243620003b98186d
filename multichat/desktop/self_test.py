"""``multichat --self-test``: the whole app, end to end, on this machine.

It drives the real app as a person would, through the controller: the connect
window shows, the app hosts a server as "Host a chat on this computer" does
(on 127.0.0.1 and a free port), logs in as the administrator it created, makes
and opens a room, sends a message from the room's input and waits for the server's
stored copy of it to come back. Exit 0 when all of that happened; otherwise
one line on stderr saying which step failed and why, and exit 1.

Its data (database, settings) lives in a temporary directory removed at the
end, and the keyring is keyring's null backend: the person's data dir,
settings and saved logins are never read or written. Made for installs and
frozen builds, it also checks that the keyring backends of this platform are
bundled. Each step prints a line with the seconds since the self-test began;
``packaging/measure.py`` times the "first window" line from outside.
"""

from __future__ import annotations

import asyncio
import importlib
import secrets
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import keyring
import qasync
from keyring.backends import null
from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QFont, QIcon, QTextLayout
from PySide6.QtWidgets import QApplication

from multichat.desktop.controller import AppController, StartOptions
from multichat.desktop.services.credentials import CredentialStore
from multichat.desktop.services.settings import AppSettings
from multichat.protocol.commands import CreateRoom

# Seconds one step may take. Generous: a cold one-file start on a slow machine
# unpacks ~100 MB first, and Argon2 hashing takes its time on purpose.
STEP_TIMEOUT = 60.0
# How often a waiting step looks again at what it waits for.
POLL_SECONDS = 0.02
ROOM_TITLE = "Self-test"
ADMIN_NAME = "selftest"

# The keyring backend each platform needs, and the modules it imports lazily.
KEYRING_NEEDS = {
    "linux": ("SecretService", ("keyring.backends.SecretService", "secretstorage", "jeepney")),
    "win32": ("Windows", ("keyring.backends.Windows", "win32ctypes.core")),
    "darwin": ("macOS", ("keyring.backends.macOS",)),
}


class SelfTestFailed(Exception):
    """A step did not happen; the message says which and why, in one line."""


Say = Callable[[str], None]


def _print(line: str) -> None:
    if sys.stdout is not None:  # a windowed build has no stdout
        print(line, flush=True)


async def _until(condition: Callable[[], object], failure: str,
                 broken: Callable[[], str | None] = lambda: None) -> None:
    """Wait until ``condition()`` holds; fail with ``broken()``'s words, or ``failure``."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while not condition():
        reason = broken()
        if reason:
            raise SelfTestFailed(f"{failure}: {reason}")
        if time.monotonic() > deadline:
            raise SelfTestFailed(f"{failure} within {STEP_TIMEOUT:.0f} s")
        await asyncio.sleep(POLL_SECONDS)


def check_keyring_backends(platform: str = sys.platform) -> None:
    """The keyring backend this platform uses must be bundled, with its entry point."""
    needs = KEYRING_NEEDS.get("linux" if platform.startswith("linux") else platform)
    if needs is None:
        return
    name, modules = needs
    found = {point.name for point in entry_points(group="keyring.backends")}
    if name not in found:
        raise SelfTestFailed(f"keyring backend {name} is not registered (keyring's metadata "
                             f"is missing; found: {', '.join(sorted(found)) or 'none'})")
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise SelfTestFailed(f"keyring backend {name} cannot load: {exc}") from exc


def emoji_font(emoji: str = "\N{PARTY POPPER}") -> str | None:
    """The font Qt falls back to for an emoji, as it would draw it; None without one.

    The .deb depends on fonts-noto-color-emoji and the one-file binary reads the
    system's fontconfig: this says whether that font is actually found.
    """
    layout = QTextLayout(emoji, QFont())
    layout.beginLayout()
    layout.createLine()
    layout.endLayout()
    for run in layout.glyphRuns():
        family = run.rawFont().familyName()
        if run.glyphIndexes() and any(run.glyphIndexes()) and "emoji" in family.casefold():
            return family
    return None


async def run_self_test(app: QApplication, data_dir: Path, *, icon: QIcon | None = None,
                        say: Say = _print) -> None:
    """Run every step against the real app; raise SelfTestFailed at the first that fails."""
    started = time.monotonic()

    def step(words: str) -> None:
        say(f"self-test: {words} ({time.monotonic() - started:.2f} s)")

    hosted = data_dir / "hosted"
    controller = AppController(
        app,
        settings=AppSettings(data_dir / "settings.json"),
        credentials=CredentialStore(),
        icon=icon,
        options=StartOptions(data_dir=hosted, host_interface="127.0.0.1", discover=False),
    )
    finished = asyncio.Event()
    controller.finished.connect(finished.set)
    try:
        controller.start()
        await _until(controller.connect_window.isVisible, "the connect window did not show")
        step("first window shown")
        # The checks of this install come after the first window, as the app's own
        # keyring discovery does: "first window shown" times what a person waits for.
        check_keyring_backends()
        backend = type(keyring.get_keyring())
        step(f"keyring backends bundled ({backend.__module__}.{backend.__name__} in use)")
        step(f"emoji drawn with "
             f"{emoji_font() or 'no emoji font: install fonts-noto-color-emoji'}")
        await _host_and_log_in(controller, step)
        await _join_and_send(controller, step)
    finally:
        failing = sys.exc_info()[1] is not None
        controller.quit()
        try:
            await _until(finished.is_set, "the app did not shut down")
        except SelfTestFailed:
            if not failing:  # else the first failure is the one to tell
                raise
        for window in (controller.main_window, controller.connect_window):
            window.hide()
            window.deleteLater()


async def _host_and_log_in(controller: AppController, step: Say) -> None:
    """Host as the connect window's "Host a chat" does; the app logs in to its server."""
    form = controller.connect_window.host
    controller.start_hosting(0, ADMIN_NAME, secrets.token_urlsafe(16))
    if controller.host is None or not controller.host.running:
        raise SelfTestFailed(f"cannot host a server: {form.error.text() or 'no reason'}")
    step(f"hosting on {controller.client.url or 'wss://127.0.0.1'} "
         f"(certificate {controller.host.fingerprint or 'none: plain ws://'})")

    join_form = controller.connect_window.join
    await _until(
        lambda: controller.client.account is not None and controller.main_window.isVisible(),
        "did not log in to the hosted server",
        lambda: None if join_form.error.isHidden() else join_form.error.text(),
    )
    step(f"logged in as {ADMIN_NAME}, main window shown")


async def _join_and_send(controller: AppController, step: Say) -> None:
    """Make a room as its admin, open it from the list, type a message, wait for its copy."""
    listed = controller.workspace.rooms
    controller.client.admin(CreateRoom(title=ROOM_TITLE))  # over the protocol, as anyone
    await _until(lambda: listed.room_titled(ROOM_TITLE) is not None,
                 "the room list did not arrive")
    room = listed.room_titled(ROOM_TITLE)
    assert room is not None
    controller.workspace.open_room(room, ROOM_TITLE)
    views = controller.main_window.views
    await _until(lambda: room in views and controller.client.rooms[room].joined,
                 f"did not join {ROOM_TITLE}")
    step(f"joined {ROOM_TITLE}")

    text = f"self-test {secrets.token_hex(4)}"
    view = views[room]
    view.input.setPlainText(text)
    view.send_button.click()
    model = controller.workspace.messages[room]

    def came_back() -> bool:
        rows = (model.row_at(position) for position in range(model.rowCount()))
        return any(row.text == text and not row.pending and row.seq for row in rows)

    await _until(came_back, "the message did not come back from the server")
    step("message sent and came back")


def _quiet_offscreen(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's messages as usual, less the offscreen plugin's note on every window."""
    if "propagateSizeHints" not in message and sys.stderr is not None:
        print(message, file=sys.stderr)


def main(app: QApplication, icon: QIcon | None = None) -> int:
    """Run the self-test on a qasync loop; 0 when it passed, 1 with a reason when not."""
    # keyring's null backend: the person's saved logins are never read or written.
    keyring.set_keyring(null.Keyring())  # type: ignore[no-untyped-call]
    qInstallMessageHandler(_quiet_offscreen)
    data_dir = Path(tempfile.mkdtemp(prefix="multichat-self-test-"))
    failure: list[str] = []

    async def run() -> None:
        try:
            await run_self_test(app, data_dir, icon=icon)
        except SelfTestFailed as exc:
            failure.append(str(exc))
        except Exception as exc:  # a bug: its traceback, then the one line
            if sys.stderr is not None:
                traceback.print_exc()
            failure.append(f"unexpected {type(exc).__name__}: {exc}")

    try:
        qasync.run(run())
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    if failure:
        if sys.stderr is not None:
            print(f"multichat: self-test failed: {failure[0]}", file=sys.stderr, flush=True)
        return 1
    _print("multichat: self-test passed")
    return 0
