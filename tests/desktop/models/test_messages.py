"""The message model offers how each row is presented, and keeps it right as rows come."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pytestqt.modeltest import ModelTester

from multichat.desktop.models import MemberListModel, MessageListModel, MessageRole
from multichat.desktop.theme import DARK, LIGHT, set_current
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent

NOW = datetime.now(UTC)


def event(seq: int | None, who: str = "bob", minutes: float = 0,
          msg_type: MsgType = MsgType.MESSAGE) -> RoomEvent:
    ts = (NOW + timedelta(minutes=minutes)).isoformat() if seq is not None else None
    return RoomEvent(room=1, seq=seq, username=who, msg_type=msg_type, message="hi", ts=ts)


def column(model: MessageListModel, role: int) -> list[object]:
    return [model.index(row).data(role) for row in range(model.rowCount())]


def test_grouping_dates_and_membership_lines_as_roles(qtmodeltester: ModelTester) -> None:
    model = MessageListModel(lambda _before: None)
    qtmodeltester.check(model)
    model.prepend_history([event(1, minutes=-24 * 60), event(2, minutes=-1), event(3)])
    for who in ("carol", "dave", "erin", "frank"):
        model.append_live(event(None, who, msg_type=MsgType.ENTER))
    model.append_live(event(4, minutes=0.5))
    qtmodeltester.check(model)
    assert column(model, MessageRole.DateLabel) == [
        "Yesterday", "Today", None, None, None, None, None, None
    ]
    assert column(model, MessageRole.Continued) == [
        False, False, True, False, False, False, False, False
    ]
    assert column(model, MessageRole.Summary)[3] == "carol, dave and 2 others joined"
    assert column(model, MessageRole.Hidden) == [False] * 4 + [True] * 3 + [False]


def test_the_divider_stays_once_shown_and_new_reading_moves_it_before(
    qtmodeltester: ModelTester,
) -> None:
    model = MessageListModel(lambda _before: None)
    model.prepend_history([event(seq) for seq in range(1, 6)])
    model.show_from(3)
    assert model.divider_row() == 3
    model.note_read(5)
    assert model.divider_row() == 3  # shown: stays until the room is shown again
    model.show_from(5)
    assert model.divider_row() is None
    model.note_read(5)
    model.append_live(event(6))
    model.note_read(6)
    assert model.divider_row() is None  # read as it came
    qtmodeltester.check(model)


def test_members_are_shown_present_with_the_theme_colour() -> None:
    model = MemberListModel()
    model.set_me("bob")
    model.set_members(["alice", "bob"])
    assert model.index(1).data() == "bob (you)"
    for theme in (LIGHT, DARK):
        set_current(theme)
        icon = model.index(0).data(0x1)  # DecorationRole
        image = icon.pixmap(10, 10).toImage()
        assert image.pixelColor(5, 5).name() == theme.online
    set_current(LIGHT)
