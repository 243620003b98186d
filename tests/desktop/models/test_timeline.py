"""The presentation rules, without Qt: dates, the divider, grouping, membership lines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from multichat.desktop.models.timeline import (
    Kind,
    Line,
    Presentation,
    date_label,
    membership_summary,
    present,
)

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC).astimezone()
TODAY = NOON.date()


def message(seq: int, who: str = "bob", minutes: float = 0, own: bool = False) -> Line:
    return Line(Kind.MESSAGE, who, NOON + timedelta(minutes=minutes), seq, own)


def notice(kind: Kind, who: str, minutes: float = 0, own: bool = False) -> Line:
    return Line(kind, who, NOON + timedelta(minutes=minutes), None, own)


def test_date_labels() -> None:
    today = date(2026, 11, 24)  # a Tuesday
    assert date_label(today, today) == "Today"
    assert date_label(date(2026, 11, 23), today) == "Yesterday"
    assert date_label(date(2026, 11, 20), today) == "Friday"
    assert date_label(date(2026, 3, 2), today) == "Monday, 2 March"
    assert date_label(date(2025, 3, 2), today) == "2 March 2025"


def test_a_separator_starts_each_day() -> None:
    lines = [message(1, minutes=-24 * 60), message(2, minutes=-24 * 60 + 1), message(3)]
    labels = [p.date_label for p in present(lines, None, TODAY)]
    assert labels == ["Yesterday", None, "Today"]


def test_messages_group_by_sender_within_a_few_minutes() -> None:
    lines = [message(1), message(2, minutes=1), message(3, minutes=20),
             message(4, "carol", minutes=21), message(5, minutes=22),
             Line(Kind.NOTICE, "bob", NOON + timedelta(minutes=22)), message(6, minutes=23)]
    assert [p.continued for p in present(lines, None, TODAY)] == [
        False, True, False, False, False, False, False
    ]


def test_the_divider_goes_above_the_first_unread_message_not_ones_own() -> None:
    lines = [message(1), message(2, "me", own=True), message(3, minutes=1), message(4, minutes=2)]
    shown = present(lines, 1, TODAY)
    assert [p.divider for p in shown] == [False, False, True, False]
    assert not shown[2].continued  # the divider starts a new group
    assert not any(p.divider for p in present(lines, 4, TODAY))
    assert not any(p.divider for p in present(lines, None, TODAY))  # never read: none


def test_joins_and_leaves_collapse_into_one_line() -> None:
    run = [notice(Kind.ENTER, name) for name in ("alice", "bob", "carol", "dave", "erin")]
    shown = present([message(1), *run, message(2, minutes=1)], None, TODAY)
    assert shown[1].summary == "alice, bob and 3 others joined"
    assert [p.hidden for p in shown] == [False, False, True, True, True, True, False]
    assert membership_summary([notice(Kind.ENTER, "a"), notice(Kind.LEAVE, "b"),
                               notice(Kind.ENTER, "c")]) == "a and c joined; b left"


def test_the_readers_own_coming_and_going_is_not_news_to_them() -> None:
    assert membership_summary([notice(Kind.ENTER, "me", own=True)]) is None
    assert membership_summary([notice(Kind.ENTER, "me", own=True),
                               notice(Kind.ENTER, "bob")]) == "bob joined"
    shown = present([message(1), notice(Kind.ENTER, "me", own=True)], None, TODAY)
    assert shown[1].hidden


def test_a_quick_reconnect_shows_nothing_a_slow_one_does() -> None:
    quick = [notice(Kind.LEAVE, "bob"), notice(Kind.ENTER, "bob", minutes=0.5)]
    shown = present([message(1, "carol"), *quick, message(2, "carol", minutes=1)], None, TODAY)
    assert [p.hidden for p in shown] == [False, True, True, False]
    assert all(p.summary is None for p in shown)
    assert shown[3].continued  # nothing shown in between: still carol's group
    slow = [notice(Kind.LEAVE, "bob"), notice(Kind.ENTER, "bob", minutes=10)]
    assert membership_summary(slow) == "bob joined"


def test_a_membership_line_carries_the_days_separator() -> None:
    shown = present([notice(Kind.ENTER, "bob")], None, TODAY)
    assert shown == [Presentation(date_label="Today", summary="bob joined")]
