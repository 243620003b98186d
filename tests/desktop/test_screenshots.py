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
    for name in ("connect.png", "main-window.png", "admin-dialog.png"):
        image = QImage(str(tmp_path / name))
        assert not image.isNull() and image.width() >= 500, name
