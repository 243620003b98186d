"""How a room's rows are presented: date separators, the unread divider, grouping, collapsing.

Pure: rows in, one ``Presentation`` per row out, no Qt. The message model
keeps its rows as they are (one per event) and asks this module how each is
shown, so the rules are tested here without a widget.

- A date separator ("Today", "Yesterday", a date) goes above the first row of
  each local day.
- The "New messages" divider goes above the first stored message, not one's
  own, with a seq past the read position the room was shown with.
- A message from the same sender as the one above, within ``GROUP_GAP``, is
  a continuation: no name and time header.
- A run of ENTER/LEAVE notices shows as one line on its first row ("alice, bob
  and 3 others joined"); a leave followed by an enter within ``RECONNECT_GAP``
  (a quick reconnect) shows nothing at all.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# Slack and Element group within about five minutes: a pause longer than that
# starts a new thought, worth its own name and time.
GROUP_GAP = timedelta(minutes=5)
# A network blip reconnects in seconds (the client's backoff starts at 0.5 s and
# tops out at 10 s); two minutes covers several retries without hiding real visits.
RECONNECT_GAP = timedelta(minutes=2)
# Names spelled out in a membership line before "and N others".
NAMES_SHOWN = 2


class Kind(enum.Enum):
    MESSAGE = "message"  # a message from a person: the kind that groups
    NOTICE = "notice"  # warnings, alerts, muted notices: shown on their own
    ENTER = "enter"
    LEAVE = "leave"


@dataclass(frozen=True, slots=True)
class Line:
    """What the rules need to know of one row."""

    kind: Kind
    username: str
    when: datetime | None  # aware; None for a message still being sent
    seq: int | None = None
    own: bool = False


@dataclass(frozen=True, slots=True)
class Presentation:
    """How one row is shown: what goes above it, and whether it shows at all."""

    date_label: str | None = None  # a date separator above the row
    divider: bool = False  # the "New messages" divider above the row
    continued: bool = False  # same sender as above, recently: no header
    hidden: bool = False  # folded into a membership line above, or a quick reconnect
    summary: str | None = None  # the membership line this row shows for its run


def date_label(day: date, today: date) -> str:
    """"Today", "Yesterday", a weekday this week, else the date (a year if not this one)."""
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    if today - timedelta(days=7) < day < today:
        return day.strftime("%A")
    if day.year == today.year:
        return f"{day.strftime('%A')}, {day.day} {day.strftime('%B')}"
    return f"{day.day} {day.strftime('%B')} {day.year}"


def _names(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    if len(names) <= NAMES_SHOWN + 1:
        return ", ".join(names[:-1]) + " and " + names[-1]
    others = len(names) - NAMES_SHOWN
    return ", ".join(names[:NAMES_SHOWN]) + f" and {others} others"


def membership_summary(run: Sequence[Line]) -> str | None:
    """One line for a run of ENTER/LEAVE notices, or None when it comes to nothing.

    Each person counts by where they ended up; someone who left and came back
    within ``RECONNECT_GAP`` is left out (they never really went), and so is the
    reader: they know they opened the room.
    """
    first: dict[str, Line] = {}
    last: dict[str, Line] = {}
    for line in run:
        if line.own:
            continue
        first.setdefault(line.username, line)
        last[line.username] = line
    joined: list[str] = []
    left: list[str] = []
    for name, end in last.items():
        start = first[name]
        if end.kind is Kind.ENTER:
            if start.kind is Kind.LEAVE and _quick(start, end):
                continue
            joined.append(name)
        else:
            left.append(name)
    parts = []
    if joined:
        parts.append(f"{_names(joined)} joined")
    if left:
        parts.append(f"{_names(left)} left")
    return "; ".join(parts) or None


def _quick(gone: Line, back: Line) -> bool:
    if gone.when is None or back.when is None:
        return False
    return back.when - gone.when <= RECONNECT_GAP


def present(lines: Sequence[Line], read_seq: int | None, today: date) -> list[Presentation]:
    """How each of ``lines`` (in the order shown) is presented.

    ``read_seq`` is the read position the room was shown with; None means no
    divider (a room never read before opens at its newest messages).
    """
    out: list[Presentation] = []
    shown_day: date | None = None
    previous: Line | None = None  # the last row shown (not hidden), for grouping
    divider_placed = False
    position = 0
    while position < len(lines):
        line = lines[position]
        if line.kind in (Kind.ENTER, Kind.LEAVE):
            end = position
            while end < len(lines) and lines[end].kind in (Kind.ENTER, Kind.LEAVE) and (
                _day(lines[end]) in (None, _day(line))
            ):
                end += 1
            summary = membership_summary(lines[position:end])
            label, shown_day = _label(line, shown_day, today, summary is not None)
            out.append(Presentation(date_label=label, hidden=summary is None, summary=summary))
            out.extend(Presentation(hidden=True) for _ in range(position + 1, end))
            if summary is not None:
                previous = line
            position = end
            continue
        divider = (not divider_placed and read_seq is not None and line.seq is not None
                   and line.seq > read_seq and not line.own)
        divider_placed = divider_placed or divider
        label, shown_day = _label(line, shown_day, today, True)
        continued = (
            line.kind is Kind.MESSAGE and previous is not None and previous.kind is Kind.MESSAGE
            and previous.username == line.username and label is None and not divider
            and _close(previous, line)
        )
        out.append(Presentation(date_label=label, divider=divider, continued=continued))
        previous = line
        position += 1
    return out


def _day(line: Line) -> date | None:
    return line.when.astimezone().date() if line.when is not None else None


def _label(line: Line, shown_day: date | None, today: date,
           shown: bool) -> tuple[str | None, date | None]:
    """The date separator above a row, if it starts a day; and the day now shown."""
    day = _day(line)
    if not shown or day is None or day == shown_day:
        return None, shown_day
    return date_label(day, today), day


def _close(before: Line, after: Line) -> bool:
    if before.when is None or after.when is None:
        return before.when is None and after.when is None  # both still being sent
    return timedelta(0) <= after.when - before.when <= GROUP_GAP
