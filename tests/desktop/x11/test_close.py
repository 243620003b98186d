"""Under a real X display with openbox: closing the only window with the window manager quits.

Offscreen Qt has no window manager, so Alt+F4 on the connect window (which
once left a process running with no window and no tray) is tried for real here.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.process import cli_env
from tests.helpers.timing import TIMEOUT
from tests.helpers.x11 import require, x_display


def test_alt_f4_on_the_connect_window_ends_the_process(tmp_path: Path) -> None:
    require("xdotool")
    with x_display() as display:
        env = cli_env(tmp_path, **display,
                      # Never the person's keyring; none works here, as on a bare desktop.
                      PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        app = subprocess.Popen([sys.executable, "-m", "multichat"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            window = _wait_for_window(app, env)
            # Through openbox's own Alt+F4 binding: focus the window, then press the keys
            # as a person would (XTEST), not an event sent to the window alone.
            subprocess.run(["xdotool", "windowactivate", "--sync", window,
                            "key", "--clearmodifiers", "alt+F4"],
                           env=env, timeout=TIMEOUT, check=True)
            output, _ = app.communicate(timeout=TIMEOUT)  # it ends by itself, or fails
        finally:
            if app.poll() is None:
                app.kill()
                app.communicate()
        assert app.returncode == 0, output


def _wait_for_window(app: subprocess.Popen[str], env: dict[str, str]) -> str:
    """The app's visible window id, once it shows; a failure says what the app printed."""
    deadline = time.monotonic() + TIMEOUT * 6  # a cold start on a loaded machine is slow
    while time.monotonic() < deadline and app.poll() is None:
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Multichat$"],
                               env=env, capture_output=True, text=True, check=False)
        if found.stdout.split():
            return found.stdout.split()[0]
        time.sleep(0.1)
    if app.poll() is None:
        app.kill()
    output, _ = app.communicate()
    pytest.fail(f"no Multichat window appeared (exit {app.returncode}): {output}")
