"""The item models: rows, roles, paging, dedupe, counts; each checked by qtmodeltester."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from multichat.desktop.models import (
    MemberListModel,
    MemberRole,
    MessageListModel,
    MessageRole,
    RoomListModel,
    RoomRole,
)
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent, RoomInfo


def event(seq: int | None, text: str | None = "hi", username: str = "bob",
          msg_type: MsgType = MsgType.MESSAGE, client_id: str | None = None) -> RoomEvent:
    return RoomEvent(room=1, message=text, username=username, msg_type=msg_type, seq=seq,
                     ts="2026-11-24T12:00:00.000Z", client_id=client_id)


def column(model: MessageListModel, role: int) -> list[Any]:
    return [model.index(row).data(role) for row in range(model.rowCount())]


def test_messages_live_history_and_pending(qtmodeltester: ModelTester) -> None:
    asked: list[int | None] = []
    model = MessageListModel(asked.append)
    model.set_own_username("alice")
    qtmodeltester.check(model)
    assert not asked and not model.canFetchMore(QModelIndex())  # the first page is on its way
    model.prepend_history([event(3), event(4)])  # the newest page, sent on join
    model.append_live(event(5, "hello @alice"))
    model.append_live(event(None, None, "carol", MsgType.ENTER))
    model.append_live(event(5))  # a repeat: dropped
    model.set_pending([{"client_id": "c1", "message": "on its way"}])
    qtmodeltester.check(model)
    assert column(model, MessageRole.Seq) == [3, 4, 5, None, None]
    assert column(model, MessageRole.IsPending) == [False, False, False, False, True]
    assert column(model, MessageRole.MentionsMe) == [False, False, True, False, False]
    assert model.index(3).data() == "carol joined"

    model.fetchMore(QModelIndex())
    assert asked == []  # Qt's own calls at the bottom of the view load nothing
    model.want_older()  # the reader reached the top
    model.fetchMore(QModelIndex())
    model.fetchMore(QModelIndex())  # not twice while the first is outstanding
    assert asked == [3]
    model.prepend_history([event(1), event(2)])
    assert column(model, MessageRole.Seq)[:3] == [1, 2, 3]
    model.want_older()
    model.fetchMore(QModelIndex())
    model.prepend_history([])  # the start of the room
    model.want_older()
    assert asked == [3, 1] and not model.canFetchMore(QModelIndex())

    model.append_live(event(6, "on its way", "alice", client_id="c1"))  # confirmed
    qtmodeltester.check(model)
    assert column(model, MessageRole.Seq)[-2:] == [None, 6]  # the notice, then the message
    assert column(model, MessageRole.IsPending).count(True) == 0
    assert column(model, MessageRole.IsOwn)[-1] is True


def test_history_overlapping_live_events_is_merged_by_seq(qtmodeltester: ModelTester) -> None:
    model = MessageListModel(lambda _: None)
    model.append_live(event(10))
    model.prepend_history([event(8), event(9), event(10), event(11)])
    qtmodeltester.check(model)
    assert column(model, MessageRole.Seq) == [8, 9, 10, 11]


def test_role_names(qtmodeltester: ModelTester) -> None:
    names = {bytes(v.data()) for v in MessageListModel(lambda _: None).roleNames().values()}
    assert {b"username", b"mentionsMe", b"isPending"} <= names
    names = {bytes(v.data()) for v in RoomListModel().roleNames().values()}
    assert {b"roomId", b"unread", b"staffOnly"} <= names


def rooms(*titles: str, staff: tuple[str, ...] = ()) -> list[RoomInfo]:
    return [RoomInfo(i, t, t in staff) for i, t in enumerate(titles, start=1)]


def test_rooms_sorted_and_changed_in_place(qtmodeltester: ModelTester, qtbot: QtBot) -> None:
    model = RoomListModel()
    qtmodeltester.check(model)
    model.set_rooms(rooms("Lobby", "Garden", "Staff", staff=("Staff",)))
    qtmodeltester.check(model)
    assert [model.index(r).data() for r in range(3)] == ["Garden", "Lobby", "Staff"]
    assert model.index(2).data(RoomRole.StaffOnly) is True
    selected = QPersistentModelIndex(model.index(1))  # Lobby, as a selection holds it
    with qtbot.assertNotEmitted(model.modelReset):
        model.set_rooms([RoomInfo(1, "Lobby", False), RoomInfo(3, "Annex", True)])
    qtmodeltester.check(model)
    assert [model.index(r).data() for r in range(2)] == ["Annex", "Lobby"]
    assert selected.data(RoomRole.Title) == "Lobby"  # changed in place: the selection holds


def test_unread_and_mentions(qtbot: QtBot) -> None:
    model = RoomListModel()
    model.set_rooms(rooms("Lobby", "Garden"))
    totals: list[tuple[int, int]] = []
    model.totalsChanged.connect(lambda u, m: totals.append((u, m)))
    for e in (event(1), event(2, msg_type=MsgType.WARNING), event(None, msg_type=MsgType.ENTER),
              event(3, msg_type=MsgType.MUTED),
              event(4, "hey alice"), event(5, username="alice")):
        model.note_event("1", e, in_view=False, own_username="alice")
    assert (model.unread("1"), model.mention_count("1")) == (3, 1)
    model.note_event("1", event(6), in_view=True, own_username="alice")
    assert model.unread("1") == 3
    model.set_muted("2", True)
    model.note_event("2", event(1), in_view=False, own_username="alice")
    model.note_event("2", event(2, "@alice look"), in_view=False, own_username="alice")
    assert (model.unread("2"), model.mention_count("2")) == (0, 1)  # mentions beat mute
    assert (model.total_unread(), model.total_mentions()) == (3, 2)
    assert totals[-1] == (3, 2)
    model.mark_read("1")
    assert totals[-1] == (0, 1)


def test_members(qtmodeltester: ModelTester) -> None:
    model = MemberListModel()
    model.set_me("bob")
    qtmodeltester.check(model)
    model.set_members(["carol", "alice", "Bob".lower()])
    qtmodeltester.check(model)
    assert model.usernames() == ["alice", "bob", "carol"]
    assert model.index(1).data() == "bob (you)"
    assert model.index(1).data(MemberRole.IsMe) is True
    model.set_members(["bob", "dave"])
    qtmodeltester.check(model)
    assert model.usernames() == ["bob", "dave"]
