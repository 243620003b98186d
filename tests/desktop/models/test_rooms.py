"""The room list's kinds, titles and server-side unread counts; the user picker's model.
Each checked by qtmodeltester."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from multichat.desktop.models import RoomListModel, RoomRole
from multichat.desktop.models.rooms import direct_title
from multichat.desktop.models.users import UserChoiceModel, UserRole
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent, RoomInfo


def titles(model: RoomListModel) -> list[tuple[str, str]]:
    return [(model.index(r).data(RoomRole.Kind), model.index(r).data())
            for r in range(model.rowCount())]


def message(seq: int, who: str = "bob", text: str = "hi",
            msg_type: MsgType = MsgType.MESSAGE) -> RoomEvent:
    return RoomEvent(room=1, message=text, username=who, msg_type=msg_type, seq=seq)


def direct(room: int, *members: str, last: int = 0, read: int = 0) -> RoomInfo:
    return RoomInfo(room, "dm", False, kind="direct", members=tuple(sorted(members)),
                    last_seq=last, read_seq=read)


def test_direct_conversations_are_titled_by_the_others_and_listed_after_rooms(
    qtmodeltester: ModelTester,
) -> None:
    model = RoomListModel()
    qtmodeltester.check(model)
    model.set_me("alice")
    model.set_rooms([RoomInfo(1, "Lobby", False), direct(7, "alice", "zoe"),
                     direct(8, "alice", "bob", "carol"), direct(9, "alice"),
                     RoomInfo(2, "Annex", False)])
    qtmodeltester.check(model)
    assert titles(model) == [("room", "Annex"), ("room", "Lobby"), ("direct", "bob, carol"),
                             ("direct", "Deleted user"), ("direct", "zoe")]
    assert model.is_direct("7") and not model.is_direct("1")
    assert model.members("8") == ["alice", "bob", "carol"]
    assert model.index(2).data(RoomRole.IsDirect) is True
    assert "bob, carol" in model.index(2).data(Qt.ItemDataRole.ToolTipRole)
    assert direct_title(("alice", "Bob", "carol"), "carol") == "alice, Bob"
    model.set_me("bob")  # the same list seen as bob
    qtmodeltester.check(model)
    assert model.title("8") == "alice, carol" and model.title("9") == "alice"


def test_unread_comes_from_the_servers_marker_and_what_is_seen_after(
    qtmodeltester: ModelTester, qtbot: QtBot
) -> None:
    model = RoomListModel()
    model.set_me("alice")
    model.set_rooms([RoomInfo(1, "Lobby", False, last_seq=10, read_seq=4),
                     direct(2, "alice", "bob", last=3, read=3)])
    qtmodeltester.check(model)
    assert (model.unread("1"), model.unread("2")) == (6, 0)  # 5..10, one each at best
    totals: list[tuple[int, int]] = []
    model.totalsChanged.connect(lambda unread, mentions: totals.append((unread, mentions)))

    # A page of history tells what 5..10 were: 7 an edit (absent), 8 alice's own.
    model.note_history("1", [message(5), message(6, text="hey @alice"), message(8, "alice"),
                             message(9, msg_type=MsgType.MUTED), message(10)], "alice")
    assert (model.unread("1"), model.mention_count("1")) == (3, 1)  # 5, 6, 10
    model.note_event("1", message(11), in_view=False, own_username="alice")
    model.note_event("1", RoomEvent(1, "fixed", "bob", MsgType.EDIT, 12, target=11),
                     in_view=False, own_username="alice")
    assert model.unread("1") == 4
    model.note_activity("2", 5, "bob", True)  # 4 went by unseen (coalesced): one too
    assert (model.unread("2"), model.mention_count("2")) == (2, 1)
    model.note_activity("2", 6, "alice", False)  # alice on her phone
    assert model.unread("2") == 2
    qtmodeltester.check(model)

    model.set_read("1", 6)  # another device read up to 6
    assert (model.unread("1"), model.mention_count("1")) == (2, 0)
    model.set_rooms([RoomInfo(1, "Lobby", False, last_seq=12, read_seq=5),  # a stale list
                     direct(2, "alice", "bob", last=6, read=3)])
    assert model.unread("1") == 2 and model.read_seq("1") == 6  # never taken back
    model.set_muted("2", True)
    assert (model.unread("2"), model.mention_count("2")) == (0, 1)  # mentions beat mute
    model.mark_read("2")
    assert totals[-1] == (2, 0)
    model.set_joined("1", False)  # left, still counted: activity keeps it right
    assert model.unread("1") == 2


def test_the_user_picker_model_checks_people_in_the_order_chosen(
    qtmodeltester: ModelTester, qtbot: QtBot
) -> None:
    model = UserChoiceModel()
    qtmodeltester.check(model)
    model.set_users(["carol", "Bob", "alice", "bob"])
    qtmodeltester.check(model)
    assert model.usernames() == ["alice", "Bob", "bob", "carol"]
    chosen: list[list[str]] = []
    model.chosenChanged.connect(chosen.append)
    assert model.setData(model.index(3), Qt.CheckState.Checked.value,
                         Qt.ItemDataRole.CheckStateRole)
    model.add("dave")  # typed: listed and checked
    model.add("alice")
    qtmodeltester.check(model)
    assert model.chosen() == ["carol", "dave", "alice"] and chosen[-1] == model.chosen()
    assert model.index(0).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert model.index(1).data(UserRole.Chosen) is False
    assert model.flags(model.index(0)) & Qt.ItemFlag.ItemIsUserCheckable
    model.set_chosen("carol", False)
    assert model.chosen() == ["dave", "alice"]


def test_the_servers_unread_leaves_out_changes_and_activity_adds_its_count(
    qtmodeltester: ModelTester,
) -> None:
    """Read to 10, five reactions (11-15) and bob's message (16): one unread, not six."""
    model = RoomListModel()
    qtmodeltester.check(model)
    model.set_me("alice")
    model.set_rooms([RoomInfo(1, "Lobby", False, last_seq=16, read_seq=10, unread=1)])
    assert model.unread("1") == 1
    model.note_activity("1", 20, "bob", False, 3)  # 17-20: three messages and a reaction
    assert model.unread("1") == 4
    model.note_activity("1", 21, "alice", False, 1)  # her own, on another device
    assert model.unread("1") == 4
    # Another device read to 18, where the server counts two left (19 and 20).
    model.set_read("1", 18, 2)
    assert model.unread("1") == 2
    # A list from before that read never takes it back.
    model.set_rooms([RoomInfo(1, "Lobby", False, last_seq=16, read_seq=10, unread=1)])
    assert model.unread("1") == 2
    model.mark_read("1")
    assert model.unread("1") == 0
    # A live message of a joined room, a change after it: one more, not two.
    model.note_event("1", message(22), in_view=False, own_username="alice")
    model.note_event("1", message(23, msg_type=MsgType.REACTION), in_view=False,
                     own_username="alice")
    assert model.unread("1") == 1
    # An older server's list (no unread): seqs known to nothing count, as before.
    model.set_rooms([RoomInfo(2, "Annex", False, last_seq=5, read_seq=1)])
    assert model.unread("2") == 4
