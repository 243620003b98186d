"""The screenshot script runs the whole app stack against a hosted server: keep it working."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

from tests.helpers.process import cli_env
from tests.helpers.timing import TIMEOUT

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "screenshots.py"


def test_the_screenshots_render(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)],
        capture_output=True, text=True, timeout=TIMEOUT * 6, check=False,
        env=cli_env(tmp_path, QT_QPA_PLATFORM="offscreen"),
    )
    assert result.returncode == 0, result.stderr
    for suffix in ("", "-dark"):
        for name, least_width in (("connect", 500), ("main-window", 1000),
                                  ("main-window-narrow", 480), ("admin-dialog", 500),
                                  ("conversation", 1000), ("context-menu", 1000),
                                  ("direct-message", 1000), ("search", 1000),
                                  ("search-narrow", 480), ("files", 1000),
                                  ("files-narrow", 480), ("image-viewer", 600)):
            image = QImage(str(tmp_path / f"{name}{suffix}.png"))
            assert not image.isNull() and image.width() >= least_width, name + suffix
    # The narrow one is what a 480 px wide window shows: nothing forced it wider.
    assert QImage(str(tmp_path / "main-window-narrow.png")).width() == 480
    assert QImage(str(tmp_path / "search-narrow.png")).width() == 480
    assert QImage(str(tmp_path / "files-narrow.png")).width() == 480
