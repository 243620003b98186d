"""How far each room was read: told by the settings, advanced by what is seen, never back."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient
from multichat.desktop.workspace import Workspace
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent


def event(seq: int, who: str = "bob") -> RoomEvent:
    return RoomEvent(room=1, seq=seq, username=who, msg_type=MsgType.MESSAGE,
                     message=f"m{seq}", ts="2026-11-24T12:00:00+00:00")


def test_the_divider_follows_the_saved_position_and_reading_moves_it_on(
    qtbot: QtBot, make_client: Callable[[], ChatClient]
) -> None:
    client = make_client()
    workspace = Workspace(client)
    workspace.read_positions_from({"1": 5}.get)
    client.roomJoined.emit("1", "Lobby")
    client.historyLoaded.emit("1", [event(seq) for seq in range(1, 11)])
    model = workspace.messages["1"]
    assert model.divider_row() is None  # not shown yet
    workspace.set_current("1")
    assert model.divider_row() == 5  # above seq 6
    saved: list[tuple[str, int]] = []
    workspace.readSeqChanged.connect(lambda room, seq: saved.append((room, seq)))

    workspace.set_window_active(False)
    model.set_seen(10)  # at the bottom, but nobody is looking
    assert saved == [] and workspace.read_seq("1") == 5
    workspace.set_window_active(True)  # looking now, still at the bottom
    assert saved == [("1", 10)]
    assert model.divider_row() == 5  # read past it, but it stays until the room is shown again

    client.messageReceived.emit("1", event(11))  # arrives as the person watches
    model.set_seen(11)
    assert saved[-1] == ("1", 11) and model.divider_row() == 5
    workspace.set_current(None)
    workspace.set_current("1")
    assert model.divider_row() is None  # everything was read
    client.messageReceived.emit("1", event(12))
    model.set_seen(12)
    assert model.divider_row() is None  # seen as it came: no divider
    model.set_seen(3)
    assert saved[-1] == ("1", 12) and workspace.read_seq("1") == 12  # never back


def test_a_room_never_read_opens_without_a_divider(
    qtbot: QtBot, make_client: Callable[[], ChatClient]
) -> None:
    client = make_client()
    workspace = Workspace(client)
    client.roomJoined.emit("2", "Other")
    workspace.set_current("2")
    client.historyLoaded.emit("2", [event(seq) for seq in range(1, 4)])
    assert workspace.messages["2"].divider_row() is None
