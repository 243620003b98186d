"""``multichat --self-test``: in process on the real app, and as the real command."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from multichat.desktop.self_test import (
    SelfTestFailed,
    check_keyring_backends,
    run_self_test,
)
from tests.desktop.conftest import MemoryKeyring
from tests.helpers.process import cli_env, run_cli
from tests.helpers.timing import TIMEOUT

WAIT_MS = int(TIMEOUT * 6 * 1000)


def run(qtbot: QtBot, qapp: QApplication, data_dir: Path, lines: list[str]) -> BaseException | None:
    task = asyncio.get_event_loop().create_task(run_self_test(qapp, data_dir, say=lines.append))
    qtbot.waitUntil(task.done, timeout=WAIT_MS)
    return task.exception()


def test_every_step_passes_on_the_real_app(
    qtbot: QtBot, qapp: QApplication, qloop: asyncio.AbstractEventLoop, tmp_path: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    lines: list[str] = []
    assert run(qtbot, qapp, tmp_path, lines) is None
    steps = [line.split(" (")[0] for line in lines]
    # The install's checks come after the first window, which times what a person waits for.
    assert steps[0] == "self-test: first window shown"
    assert steps[1].startswith("self-test: keyring backends bundled")
    assert steps[2].startswith("self-test: emoji drawn with ")
    assert steps[3:] == [
        f"self-test: hosting on wss://127.0.0.1:{steps[3].rsplit(':', 1)[1]}",
        "self-test: logged in as selftest, main window shown",
        "self-test: joined Self-test",
        "self-test: message sent and came back",
    ]
    assert re.search(r"\(certificate ([0-9A-F]{2}:){31}[0-9A-F]{2}\)", lines[3])  # TLS
    assert memory_keyring.secrets == {}  # nothing remembered
    assert (tmp_path / "hosted" / "multichat.sqlite3").is_file()  # its data, where told


def test_a_step_that_fails_says_which_and_why(
    qtbot: QtBot, qapp: QApplication, qloop: asyncio.AbstractEventLoop, tmp_path: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    (tmp_path / "hosted").write_text("a file where the database directory should be")
    lines: list[str] = []
    error = run(qtbot, qapp, tmp_path, lines)
    assert isinstance(error, SelfTestFailed)
    assert str(error).startswith("cannot host a server: Cannot host here: ")
    assert "\n" not in str(error)
    assert lines[0].startswith("self-test: first window shown")
    assert not any("hosting on" in line for line in lines)


def test_the_keyring_backend_of_each_platform_is_checked() -> None:
    check_keyring_backends("linux")  # secretstorage and jeepney are dependencies of keyring
    check_keyring_backends("sunos5")  # no known backend: nothing to check
    with pytest.raises(SelfTestFailed, match="keyring backend Windows cannot load"):
        check_keyring_backends("win32")  # pywin32-ctypes is not installed on Linux


@pytest.mark.slow
def test_the_command_passes_and_touches_no_user_data(tmp_path: Path) -> None:
    result = run_cli(["--self-test"], tmp_path, env=cli_env(tmp_path, QT_QPA_PLATFORM="offscreen"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "multichat: self-test passed"
    assert "propagateSizeHints" not in result.stderr
    assert not [path for path in tmp_path.rglob("*") if "multichat" in path.name.lower()]
