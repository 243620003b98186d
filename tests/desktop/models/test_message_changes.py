"""Edits, deletions and reactions fold into their message; replies quote; jumps merge by seq."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pytestqt.modeltest import ModelTester

from multichat.desktop.models import MessageListModel, MessageRole
from multichat.desktop.models.messages import DELETED_WORDS, Quote, Reaction
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent

NOW = datetime.now(UTC) - timedelta(hours=1)


def message(seq: int, text: str = "", who: str = "bob", **folded: object) -> RoomEvent:
    ts = (NOW + timedelta(seconds=seq)).isoformat()
    return RoomEvent(room=1, seq=seq, username=who, msg_type=MsgType.MESSAGE,
                     message=text or f"message {seq}", ts=ts, **folded)  # type: ignore[arg-type]


def change(seq: int, target: int, msg_type: MsgType, who: str = "bob", text: str | None = None,
           emoji: str | None = None, on: bool | None = None) -> RoomEvent:
    ts = (NOW + timedelta(seconds=seq)).isoformat()
    return RoomEvent(room=1, seq=seq, username=who, msg_type=msg_type, message=text, ts=ts,
                     target=target, emoji=emoji, on=on)


def model_with(*events: RoomEvent, me: str = "alice") -> MessageListModel:
    model = MessageListModel(lambda _before: None)
    model.set_own_username(me)
    model.prepend_history(list(events))
    return model


def seqs(model: MessageListModel) -> list[object]:
    return [model.index(r).data(MessageRole.Seq) for r in range(model.rowCount())]


def test_live_edit_delete_and_reactions_fold_into_the_target(qtmodeltester: ModelTester) -> None:
    model = model_with(message(1, "first"), message(2, "second", "alice"))
    qtmodeltester.check(model)
    changed: list[int] = []
    model.dataChanged.connect(lambda top, _bottom: changed.append(top.row()))

    model.append_live(change(3, 1, MsgType.EDIT, text="first, fixed @alice"))
    first = model.index_of(1)
    assert first.data(MessageRole.Text) == "first, fixed @alice"
    assert first.data(MessageRole.Edited) is True
    assert first.data(MessageRole.MentionsMe) is True  # the edit named the reader
    assert 0 in changed
    assert model.rowCount() == 2  # no row for the edit itself

    model.append_live(change(4, 1, MsgType.REACTION, "alice", emoji="👍", on=True))
    model.append_live(change(5, 1, MsgType.REACTION, "carol", emoji="👍", on=True))
    model.append_live(change(6, 1, MsgType.REACTION, "carol", emoji="🎉", on=True))
    model.append_live(change(7, 1, MsgType.REACTION, "carol", emoji="🎉", on=False))
    model.append_live(change(8, 1, MsgType.REACTION, "carol", emoji="👍", on=True))  # again
    assert first.data(MessageRole.Reactions) == (Reaction("👍", ("alice", "carol"), mine=True),)

    model.append_live(change(9, 2, MsgType.DELETE, "alice"))
    second = model.index_of(2)
    assert second.data(MessageRole.Deleted) is True
    assert second.data(MessageRole.Text) == ""
    assert second.data() == DELETED_WORDS
    model.append_live(change(10, 2, MsgType.REACTION, "carol", emoji="👍", on=True))
    assert second.data(MessageRole.Reactions) == ()  # a deleted message takes none
    assert model.newest_seq() == 2 and model.newest_event_seq() == 10
    qtmodeltester.check(model)


def test_a_change_to_a_message_not_loaded_is_left_for_history() -> None:
    model = model_with(message(5))
    model.append_live(change(6, 2, MsgType.EDIT, text="an old one"))
    model.append_live(change(7, 2, MsgType.DELETE))
    assert seqs(model) == [5]
    assert model.index(0).data(MessageRole.Edited) is False


def test_history_pages_bring_messages_folded() -> None:
    model = model_with(
        message(1, "was edited", edited=True),
        message(2, "", deleted=True),
        message(3, "liked", reactions=(("👍", ("alice", "bob")), ("👀", ("carol",)))),
        message(4, "a reply", "carol", reply_to=3),
    )
    assert model.index(0).data(MessageRole.Edited) is True
    assert model.index(1).data(MessageRole.Deleted) is True
    assert model.index(2).data(MessageRole.Reactions) == (
        Reaction("👍", ("alice", "bob"), mine=True), Reaction("👀", ("carol",), mine=False))
    assert model.index(3).data(MessageRole.ReplyTo) == 3
    assert model.index(3).data(MessageRole.Quote) == Quote(3, loaded=True, username="bob",
                                                           text="liked")


def test_a_reply_quotes_its_original_once_loaded_and_as_it_changes(
    qtmodeltester: ModelTester,
) -> None:
    model = model_with(message(10, "answer", reply_to=4))
    reply = model.index_of(10)
    assert reply.data(MessageRole.Quote) == Quote(4, loaded=False)
    changed: list[int] = []
    model.dataChanged.connect(lambda top, bottom: changed.extend(range(top.row(),
                                                                       bottom.row() + 1)))
    model.insert_around([message(3), message(4, "the question", "carol"), message(5)])
    reply = model.index_of(10)
    assert model.index_of(10).row() in changed
    assert reply.data(MessageRole.Quote) == Quote(4, loaded=True, username="carol",
                                                  text="the question")
    model.append_live(change(11, 4, MsgType.DELETE, "carol"))
    assert reply.data(MessageRole.Quote) == Quote(4, loaded=True, username="carol", text="",
                                                  deleted=True)
    qtmodeltester.check(model)


def test_a_jump_far_back_leaves_a_gap_that_filling_closes(qtmodeltester: ModelTester) -> None:
    asked: list[int | None] = []
    model = MessageListModel(asked.append)
    qtmodeltester.check(model)
    model.prepend_history([message(seq) for seq in range(50, 60)])  # the newest page
    model.insert_around([message(seq) for seq in range(10, 15)])  # a jump to 12
    assert seqs(model) == [*range(10, 15), *range(50, 60)]
    gap_row = model.index_of(50)
    assert gap_row.data(MessageRole.GapAbove) is True
    assert [model.index(r).data(MessageRole.GapAbove) for r in range(model.rowCount())].count(
        True) == 1

    # Older at the top continues from the oldest row.
    model.want_older()
    model.fetchMore()
    assert asked == [10]
    model.prepend_history([message(seq) for seq in range(5, 10)])
    assert seqs(model)[:5] == [5, 6, 7, 8, 9]

    # The gap fills from the row below it, a page at a time, until it meets the rows above.
    model.fill_gap(model.index_of(50).row())
    assert asked == [10, 50]
    model.prepend_history([message(seq) for seq in range(30, 50)])
    assert model.index_of(30).data(MessageRole.GapAbove) is True
    assert model.index_of(50).data(MessageRole.GapAbove) is False
    model.fill_gap(model.index_of(30).row())
    assert asked == [10, 50, 30]
    model.prepend_history([message(seq) for seq in range(14, 30)])  # overlaps 14
    assert seqs(model) == list(range(5, 60))
    assert not any(model.index(r).data(MessageRole.GapAbove) for r in range(model.rowCount()))
    assert not model.history_complete
    qtmodeltester.check(model)


def test_an_around_page_overlapping_the_loaded_rows_merges_without_a_gap() -> None:
    model = model_with(*[message(seq) for seq in range(20, 30)])
    model.insert_around([message(seq) for seq in range(15, 25)])
    assert seqs(model) == list(range(15, 30))
    assert not any(model.index(r).data(MessageRole.GapAbove) for r in range(model.rowCount()))


def test_the_last_own_message_is_what_up_edits() -> None:
    model = model_with(message(1, "mine", "alice"), message(2, "mine too", "alice"),
                       message(3, "bob's"))
    assert model.last_own_message() == 2
    model.append_live(change(4, 2, MsgType.DELETE, "alice"))
    assert model.last_own_message() == 1
    model.set_pending([{"message": "on its way", "client_id": "c1"}])
    # Not the one before a message still being sent, nor the pending one: nothing.
    assert model.last_own_message() is None
    model.set_pending([])
    assert model.last_own_message() == 1
