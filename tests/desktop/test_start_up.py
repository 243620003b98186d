"""Start-up: the app opens its first window without loading what it needs only later.

The guard is on what is imported, not on a time (nothing timing dependent): the
server (its store, peewee and the drivers, Argon2, the TLS code, Pillow), zeroconf
and keyring (with its backends' discovery) cost a third of a second and more
before the first window. They are loaded when the person hosts, once browsing
starts, and once the loop turns after the window (docs/packaging.md, "Size and
start-up").
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from multichat import cli
from multichat.desktop.controller import AppController, StartOptions
from multichat.desktop.services.credentials import CredentialStore
from multichat.desktop.services.settings import AppSettings
from tests.helpers.process import cli_env
from tests.helpers.timing import TIMEOUT

REPO = Path(__file__).resolve().parents[2]

# Loaded only after the first window, or never on a start that does not host.
NOT_BEFORE_THE_FIRST_WINDOW = (
    "multichat.server.net", "multichat.server.store", "multichat.server.chat",
    "multichat.server.cli", "multichat.lan.browser", "multichat.lan.advertiser",
    "peewee", "playhouse", "psycopg", "argon2", "PIL", "cryptography", "zeroconf",
    "websockets.asyncio.server", "keyring", "secretstorage",
)

# Runs `multichat` (no command: the app) through its real entry point; when the
# connect window's Show event arrives it notes the modules loaded, then closes the
# window, which quits the app. In a child process: the test suite's own imports
# would otherwise be in sys.modules already.
FIRST_WINDOW_PROBE = """
import json, sys
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from multichat import cli

seen = {}

class FirstShow(QObject):
    def eventFilter(self, watched, event):
        if (event.type() == QEvent.Type.Show and not seen
                and type(watched).__name__ == "ConnectWindow"):
            seen["modules"] = sorted(sys.modules)
            watched.close()  # nothing hosted: closing the connect window quits
        return False

app = QApplication([sys.argv[0]])
probe = FirstShow()
app.installEventFilter(probe)
code = cli.main([])
print(json.dumps({"code": code, "modules": seen.get("modules")}))
"""


def loaded(modules: list[str], name: str) -> bool:
    return any(module == name or module.startswith(name + ".") for module in modules)


def test_the_first_window_shows_before_the_server_zeroconf_and_keyring_load(
    tmp_path: Path,
) -> None:
    env = cli_env(tmp_path, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    env.pop("PYTHON_KEYRING_BACKEND", None)  # keyring finds its backend as on a desktop
    result = subprocess.run([sys.executable, "-c", FIRST_WINDOW_PROBE], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT * 6, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["code"] == 0
    modules = report["modules"]
    assert modules is not None, "the connect window never showed"
    # The probe saw the app itself: its window, the client and the Qt it runs on.
    assert "multichat.desktop.controller" in modules and "PySide6.QtWidgets" in modules
    assert [name for name in NOT_BEFORE_THE_FIRST_WINDOW if loaded(modules, name)] == []


def test_the_serve_command_still_reads_its_whole_command_line(tmp_path: Path) -> None:
    """The app-only parser never swallows a command: `serve --help` is the server's."""
    result = subprocess.run([sys.executable, "-m", "multichat", "serve", "--help"], cwd=REPO,
                            env=cli_env(tmp_path, PYTHONPATH=str(REPO)), capture_output=True,
                            text=True, timeout=TIMEOUT * 6, check=False)
    assert result.returncode == 0, result.stderr
    assert "usage: multichat serve" in result.stdout and "--data-dir" in result.stdout


def test_the_app_only_parser_knows_every_command_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An argument spelled like a command sends the line to the whole parser: the
    names the fast path looks for are the whole parser's commands, and the app's
    flags read the same in both."""
    whole = cli.build_parser()
    with pytest.raises(SystemExit):
        whole.parse_args(["no-such-command"])
    offered = re.search(r"choose from (.*)\)", capsys.readouterr().err)
    assert offered is not None
    assert set(re.findall(r"'([a-z]+)'", offered.group(1))) == cli.COMMAND_NAMES
    line = ["--server", "ws://h:1", "--username", "alice", "--join", "a", "--join", "b"]
    assert vars(cli.build_app_parser().parse_args(line)) == vars(whole.parse_args(line))


def test_a_missing_keyring_is_told_once_the_first_window_is_up(
    qtbot: QtBot, qapp: QApplication, qloop: object, tmp_path: Path,
) -> None:
    """The app finds its keyring after the first window: the notice still comes."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    controller = AppController(qapp, settings=AppSettings(tmp_path / "settings.json"),
                               credentials=CredentialStore(check_now=False),
                               options=StartOptions(discover=False))
    try:
        join = controller.connect_window.join
        assert join.remember.isEnabled()  # not looked for yet
        controller.start()
        assert controller.connect_window.isVisible()
        qtbot.waitUntil(lambda: "no working keyring" in join.remember_hint.text())
        assert not join.remember.isEnabled()
    finally:
        keyring.set_keyring(previous)
        for window in (controller.main_window, controller.connect_window):
            window.hide()
            window.deleteLater()
