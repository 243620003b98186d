"""The main and connect windows under a real X server and window manager, at 1x and 2x.

Offscreen has no window manager to place, frame or clamp a window: whether a
restored geometry fits the screen, and whether 480 px is really reachable,
is a question for Xvfb with openbox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.timing import TIMEOUT
from tests.helpers.x11 import x_display

CHILD = Path(__file__).with_name("geometry_child.py")
ROOT = Path(__file__).resolve().parents[3]


def inside(frame: list[int], available: list[int]) -> bool:
    x, y, width, height = frame
    left, top, room_width, room_height = available
    return (left <= x and top <= y and x + width <= left + room_width
            and y + height <= top + room_height)


@pytest.mark.parametrize("scale", ["1", "2"])
def test_the_main_window_fits_480_px_and_the_screen(scale: str, tmp_path: Path) -> None:
    with x_display(1280, 1024) as display:
        result = subprocess.run(
            [sys.executable, str(CHILD)], capture_output=True, text=True, timeout=TIMEOUT * 3,
            check=False, cwd=ROOT,
            env={**os.environ, **display, "QT_SCALE_FACTOR": scale,
                 "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")},
        )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert inside(report["restored"]["frame"], report["restored"]["available"]), report
    assert report["width"] <= 480, report
    assert report["minimum"][0] <= 480, report
    assert inside(report["frame"], report["available"]), report
    assert not report["sidebar"]  # narrow: the room list gave its room to the messages
    assert len(report["tabs"]) == 2


def test_the_connect_window_fits_a_screen_scaled_to_640_by_400(tmp_path: Path) -> None:
    """QT_SCALE_FACTOR=2 on 1280x800: the window once opened 560x640 and Log in was lost."""
    with x_display(1280, 800) as display:
        result = subprocess.run(
            [sys.executable, str(CHILD), "connect"], capture_output=True, text=True,
            timeout=TIMEOUT * 3, check=False, cwd=ROOT,
            env={**os.environ, **display, "QT_SCALE_FACTOR": "2",
                 "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")},
        )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["available"][2:] <= [640, 400], report  # the scale took effect
    assert inside(report["frame"], report["available"]), report
    assert inside(report["submit"], report["available"]), report  # scrolled into reach
    assert report["submit_visible"], report
