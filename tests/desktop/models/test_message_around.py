"""A ``history around`` page far back lands above what is loaded, also when the newest row
is a notice (someone came in): the jump to a search result or a quote finds it in place."""

from __future__ import annotations

from pytestqt.modeltest import ModelTester

from multichat.desktop.models import MessageListModel
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent


def event(seq: int | None, who: str = "bob", msg_type: MsgType = MsgType.MESSAGE) -> RoomEvent:
    ts = "2026-12-06T10:00:00+00:00" if seq is not None else None
    return RoomEvent(room=1, seq=seq, username=who, msg_type=msg_type, message=f"m{seq}", ts=ts)


def test_an_around_page_goes_above_the_loaded_rows_past_a_notice_at_the_end(
    qtmodeltester: ModelTester,
) -> None:
    model = MessageListModel(lambda _before: None)
    qtmodeltester.check(model)
    model.prepend_history([event(seq) for seq in range(102, 152)])
    model.append_live(event(None, "alice", MsgType.ENTER))  # the newest row: a notice
    model.insert_around([event(seq) for seq in range(1, 27)])
    seqs = [model.row_at(row).seq for row in range(model.rowCount())]
    assert seqs == [*range(1, 27), *range(102, 152), None]
    assert model.index_of(1).row() == 0
    model.append_live(event(152))  # a live message still goes last, after the notice
    assert model.row_at(model.rowCount() - 1).seq == 152
