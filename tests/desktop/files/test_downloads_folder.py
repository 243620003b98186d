"""Where Save puts files: the Downloads folder until the person picks another, which stays."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QFileDialog

from multichat.desktop.controller import AppController
from multichat.desktop.services.downloads import default_folder
from multichat.desktop.services.settings import AppSettings
from tests.desktop.test_controller import controllers, make

__all__ = ["controllers"]  # the fixture, used by name below


def test_the_folder_picked_is_where_save_goes_and_it_stays(
        qapp: QApplication, tmp_path: Path, controllers: list[AppController],
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = make(controllers, qapp, tmp_path)
    files = app.main_window.files
    assert files.folder is None  # the Downloads folder (services/downloads.py)
    picked = tmp_path / "Saved here"
    picked.mkdir()
    offered: list[str] = []

    def the_os_folder_dialog(_parent: object, _title: str, start: str) -> str:
        offered.append(start)  # the one edge we don't own: the platform's folder dialog
        return str(picked)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", the_os_folder_dialog)
    assert app.main_window.downloads_action.text() == "Save files &to…"
    app.main_window.downloads_action.trigger()
    assert offered == [str(default_folder())]
    assert app.main_window.files.folder == picked
    assert AppSettings(tmp_path / "settings.json").downloads_folder() == picked

    restarted = make(controllers, qapp, tmp_path)  # the same settings file, read anew
    assert restarted.main_window.files.folder == picked
