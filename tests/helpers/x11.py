"""A real X display with a window manager, for what the offscreen platform cannot show.

    with x_display(width=1280, height=800) as env:
        subprocess.run([...], env={**os.environ, **env})

Starts Xvfb on a free display (``-displayfd``: no guessing, no clash with
another test or a desktop) and openbox on it. Where either is missing the
test skips with the reason; under CI (``CI=true``) it fails instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import typing
from collections.abc import Iterator

import pytest

from tests.helpers.timing import TIMEOUT


def _missing(what: str) -> None:
    words = f"{what} is not installed (apt-get install xvfb openbox xdotool)"
    if os.environ.get("CI"):
        pytest.fail(f"under CI: {words}")
    pytest.skip(words)


def require(*programs: str) -> None:
    """Skip (or under CI fail) unless every program is on PATH."""
    for program in programs:
        if shutil.which(program) is None:
            _missing(program)


@contextlib.contextmanager
def x_display(width: int = 1280, height: int = 800, *,
              window_manager: bool = True) -> Iterator[dict[str, str]]:
    """An X server (and openbox) for the block; yields the environment to run clients in."""
    require("Xvfb", *(["openbox"] if window_manager else []))
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24",
         "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    window_manager_process: subprocess.Popen[bytes] | None = None
    try:
        with os.fdopen(read_end, "rb") as numbers:
            number = numbers.readline().strip().decode()
        if not number:
            pytest.fail("Xvfb did not start")
        env = {"DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb"}
        if window_manager:
            with tempfile.TemporaryFile() as said:
                window_manager_process = subprocess.Popen(
                    ["openbox", "--sm-disable"], env={**os.environ, **env},
                    stdout=said, stderr=subprocess.STDOUT,
                )
                _wait_for_window_manager(env, window_manager_process, said)
        yield env
    finally:
        for process in (window_manager_process, xvfb):
            if process is not None:
                process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(TIMEOUT)
                if process.poll() is None:
                    process.kill()
                    process.wait()


def _wait_for_window_manager(env: dict[str, str], process: subprocess.Popen[bytes],
                             said: typing.IO[bytes]) -> None:
    """openbox is up once the root window names a supporting WM (xprop).

    A loaded machine (other tests, other X servers) can take seconds: the wait is
    generous, and a failure says what openbox said.
    """
    require("xprop")
    deadline = time.monotonic() + 3 * TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        result = subprocess.run(["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"],
                                env={**os.environ, **env}, capture_output=True, text=True,
                                check=False)
        if "window id" in result.stdout:
            return
        time.sleep(0.05)
    said.seek(0)
    words = said.read().decode(errors="replace").strip() or "nothing"
    pytest.fail(f"openbox did not start on {env['DISPLAY']} (exit {process.poll()}): {words}")
