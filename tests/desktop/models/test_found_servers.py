"""The LAN list keeps the person's selection while servers announce themselves again."""

from __future__ import annotations

from PySide6.QtWidgets import QListView
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from multichat.desktop.models.found_servers import FoundServerModel, FoundServerRole
from multichat.lan import FoundServer


def server(key: str, name: str, port: int = 8765) -> FoundServer:
    return FoundServer(key, name, ("192.0.2.7",), port, True, "AB:CD", "0.1.0", "/")


def test_the_selected_row_stays_selected_across_upserts(
    qtbot: QtBot, qtmodeltester: ModelTester
) -> None:
    model = FoundServerModel()
    view = QListView()
    qtbot.addWidget(view)
    view.setModel(model)
    for key, name in (("a", "Alpha"), ("b", "Bravo"), ("c", "Charlie")):
        model.upsert(server(key, name))
    view.setCurrentIndex(model.index(1))  # Bravo
    changed: list[int] = []
    model.dataChanged.connect(lambda first, last, roles: changed.append(first.row()))
    removed: list[int] = []
    model.rowsRemoved.connect(lambda parent, first, last: removed.append(first))

    model.upsert(server("b", "Bravo"))  # the same record again: nothing happens
    model.upsert(server("b", "Bravo", port=9000))  # restarted on another port
    model.upsert(server("a", "Alpha", port=9001))
    model.upsert(server("b", "Zulu"))  # renamed: moves to the end, still selected
    assert removed == [] and changed == [1, 0, 2]
    assert [s.name for s in model.servers()] == ["Alpha", "Charlie", "Zulu"]
    assert view.currentIndex().data(FoundServerRole.Server).key == "b"
    assert view.selectionModel().isSelected(model.index(2))
    qtmodeltester.check(model)
