"""Activity coalescing (chat/activity.py) on a schedule the test fires by hand; and who
gets a folded frame, decided when it goes out (the chat rules with recording peers)."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from multichat.server.chat.activity import Activity, ActivityCoalescer, Burst
from tests.conftest import ALICE, BOB, STAFF
from tests.server.chat.conftest import ChatHarness

LOBBY = 1


class FakeTimer:
    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeSchedule:
    """``call_later`` whose timers go off only when the test says (``fire``)."""

    def __init__(self) -> None:
        self.timers: list[FakeTimer] = []

    def __call__(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(callback)
        self.timers.append(timer)
        return timer

    def fire(self) -> None:
        """Every window open now ends (the ones they open in turn wait for the next call)."""
        due, self.timers = self.timers, []
        for timer in due:
            if not timer.cancelled:
                timer.callback()


def coalescer() -> tuple[ActivityCoalescer, FakeSchedule, list[tuple[int, int, str, set[str]]]]:
    emitted: list[tuple[int, int, str, set[str]]] = []
    schedule = FakeSchedule()

    def emit(due: list[tuple[int, Burst]]) -> None:
        emitted.extend((room_id, burst.seq, burst.username, set(burst.names))
                       for room_id, burst in due)

    return ActivityCoalescer(emit, schedule=schedule), schedule, emitted


def test_a_quiet_rooms_first_event_goes_out_at_once_and_the_rest_fold_into_one() -> None:
    activity, schedule, emitted = coalescer()
    activity.add(LOBBY, 1, "alice")
    assert emitted == [(LOBBY, 1, "alice", set())]
    for seq, who in ((2, "bob"), (3, "carol"), (4, "bob")):
        activity.add(LOBBY, seq, who)
    assert len(emitted) == 1  # folded until the window ends
    schedule.fire()
    assert emitted[1:] == [(LOBBY, 4, "bob", set())]  # the newest seq and who sent it
    schedule.fire()  # a window with nothing in it: the room is quiet again
    assert len(emitted) == 2 and activity.busy_rooms == 0
    activity.add(LOBBY, 5, "alice")
    assert emitted[2:] == [(LOBBY, 5, "alice", set())]


def test_rooms_are_coalesced_apart() -> None:
    activity, schedule, emitted = coalescer()
    activity.add(1, 1, "alice")
    activity.add(2, 1, "bob")
    activity.add(1, 2, "alice")
    assert emitted == [(1, 1, "alice", set()), (2, 1, "bob", set())]
    schedule.fire()
    assert emitted[2:] == [(1, 2, "alice", set())]


def test_the_rooms_folded_by_a_tick_go_out_together() -> None:
    """One batch per tick, so a connection gets all its rooms' frames in one write."""
    batches: list[list[int]] = []
    schedule = FakeSchedule()
    activity = ActivityCoalescer(lambda due: batches.append([r for r, _ in due]),
                                 schedule=schedule)
    for room in (1, 2, 3):
        activity.add(room, 1, "alice")
        activity.add(room, 2, "alice")
    assert batches == [[1], [2], [3]]  # each quiet room at once
    schedule.fire()
    assert batches[3:] == [[1, 2, 3]]
    assert len(schedule.timers) == 1  # one clock for every room


def test_a_mention_anywhere_in_a_folded_frame_counts() -> None:
    activity, schedule, emitted = coalescer()
    activity.add(LOBBY, 1, "alice", frozenset({"hi"}))
    activity.add(LOBBY, 2, "alice", frozenset({"bob"}))
    activity.add(LOBBY, 3, "alice", frozenset({"carol"}))
    activity.add(LOBBY, 4, "alice")
    schedule.fire()
    assert emitted[1] == (LOBBY, 4, "alice", {"bob", "carol"})
    activity.add(LOBBY, 5, "alice")
    schedule.fire()
    assert emitted[2] == (LOBBY, 5, "alice", set())  # names do not carry over


def test_a_late_event_never_takes_the_seq_back_but_its_mention_counts() -> None:
    """Between processes a room's events may arrive slightly out of order."""
    activity, schedule, emitted = coalescer()
    activity.add(LOBBY, 6, "bob")
    activity.add(LOBBY, 5, "alice", frozenset({"carol"}))
    schedule.fire()
    assert emitted == [(LOBBY, 6, "bob", set()), (LOBBY, 6, "bob", {"carol"})]
    schedule.fire()
    activity.add(LOBBY, 4, "alice")  # later still, in a quiet room
    assert emitted[2] == (LOBBY, 6, "bob", set())


def test_forget_and_close_cancel_what_waits() -> None:
    activity, schedule, emitted = coalescer()
    activity.add(1, 1, "alice")
    activity.add(1, 2, "alice")
    activity.add(2, 1, "alice")
    activity.add(2, 2, "alice")
    activity.forget(1)
    schedule.fire()
    assert [(room, seq) for room, seq, _, _ in emitted] == [(1, 1), (2, 1), (2, 2)]
    activity.close()
    assert activity.busy_rooms == 0 and all(t.cancelled for t in schedule.timers)


# Each step: an event of room 1 or 2, or every window open now ends.
_STEPS = st.lists(st.one_of(st.sampled_from([1, 2]), st.none()), max_size=60)


@given(_STEPS)
def test_the_last_event_always_goes_out_and_never_more_frames_than_events(
    steps: list[int | None],
) -> None:
    activity, schedule, emitted = coalescer()
    last: dict[int, int] = {}
    windows = 0
    for step in steps:
        if step is None:
            schedule.fire()
            windows += 1
        else:
            last[step] = last.get(step, 0) + 1
            activity.add(step, last[step], "alice")
    while activity.busy_rooms:
        schedule.fire()
        windows += 1
    for room, newest in last.items():
        mine = [seq for r, seq, _, _ in emitted if r == room]
        assert mine[-1] == newest  # the last is never lost
        assert mine == sorted(set(mine))  # rising, no repeats
        assert len(mine) <= min(newest, 2 + windows)  # at most one frame a window after the first


# -- who gets a folded frame: decided when it goes out ----------------------------------


async def test_a_frame_folded_before_a_join_goes_to_no_one_who_joined(
    harness: ChatHarness,
) -> None:
    """A join puts the room in ``session.rooms`` (holding its events) before any await: the
    joiner gets the events themselves, not activity for them too."""
    chat = harness.chat
    schedule = FakeSchedule()
    chat.activity.close()
    chat.activity = Activity(chat, schedule=schedule)
    alice, alice_peer = await harness.joined(ALICE)
    bob, bob_peer = await harness.session(BOB)
    _, sam_peer = await harness.session(STAFF)
    for text in ("one", "two", "three"):
        assert await harness.run(alice, command="send", room=LOBBY, message=text) is None
    await alice_peer.expect(lambda f: f.get("message") == "three")
    assert await bob_peer.expect_key("activity") == {
        "activity": "1", "seq": 1, "username": "alice", "mention": False, "count": 1}
    assert await harness.run(bob, command="join", room=LOBBY, since=1) is None
    schedule.fire()  # the folded frame (seq 3) is due now
    assert [f["seq"] for f in (await sam_peer.expect_key("activity"),
                               await sam_peer.expect_key("activity"))] == [1, 3]
    caught_up = [f["seq"] for f in bob_peer.take() if f.get("msg_type") == 0]
    assert caught_up == [2, 3]
    assert not [f for f in bob_peer.frames if "activity" in f and f["seq"] > 1]
    assert [f for f in alice_peer.frames if "activity" in f] == []
