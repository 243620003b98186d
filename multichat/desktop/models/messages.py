"""The messages of one room as a list model: history above, live below, pending last.

Stored events are kept in seq order and deduplicated by seq; ENTER/LEAVE
notices (no seq) stay where they arrived. Messages still in the outbox are
shown at the bottom, marked pending, until their stored copy arrives.
``fetchMore`` asks for the page before the oldest message shown.

How each row is presented (date separator, "New messages" divider, grouped
under the message above, folded into a join/leave line) comes from the pure
``timeline`` rules and is offered as roles; the rows themselves stay one per
event. The divider sits after the read position the room was last shown
with (``show_from``); the view reports what it shows at the bottom
(``set_seen``), and the workspace decides whether that counts as read.

Signals:
    dividerMoved(): the read position the divider follows was set anew.
    seenChanged(object seq): the newest seq on screen with the view at the
        bottom, or None when the view is scrolled up.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from multichat.desktop.models.mentions import mentions
from multichat.desktop.models.roles import role_names
from multichat.desktop.models.timeline import Kind, Line, Presentation, present
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent

ModelIndex = QModelIndex | QPersistentModelIndex
# Where being named counts as a mention: messages, warnings, alerts (not muted notices).
MENTION_TYPES = frozenset({MsgType.MESSAGE, MsgType.WARNING, MsgType.ALERT})
RequestOlder = Callable[[int | None], None]


class MessageRole(enum.IntEnum):
    Seq = Qt.ItemDataRole.UserRole + 1
    Username = enum.auto()
    Text = enum.auto()
    MsgType = enum.auto()
    Timestamp = enum.auto()
    IsOwn = enum.auto()
    IsPending = enum.auto()
    MentionsMe = enum.auto()
    IsNotice = enum.auto()
    ClientId = enum.auto()
    DateLabel = enum.auto()  # a date separator above the row, or None
    Divider = enum.auto()  # the "New messages" divider above the row
    Continued = enum.auto()  # same sender as above, recently: no name and time
    Hidden = enum.auto()  # folded into the membership line above: not shown
    Summary = enum.auto()  # the membership line ("alice and bob joined"), or None


@dataclass(slots=True)
class MessageRow:
    seq: int | None
    username: str
    text: str
    msg_type: MsgType
    ts: datetime | None
    own: bool
    pending: bool
    mentions_me: bool
    client_id: str | None
    arrived: datetime | None = None  # when a notice without ts came in

    def line(self) -> Line:
        kinds = {MsgType.MESSAGE: Kind.MESSAGE, MsgType.ENTER: Kind.ENTER,
                 MsgType.LEAVE: Kind.LEAVE}
        return Line(kinds.get(self.msg_type, Kind.NOTICE), self.username,
                    self.ts or self.arrived, self.seq, self.own)


def _parse_ts(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


class MessageListModel(QAbstractListModel):
    dividerMoved = Signal()
    seenChanged = Signal(object)

    def __init__(self, request_older: RequestOlder, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._request_older = request_older
        self._rows: list[MessageRow] = []
        self._pending: list[MessageRow] = []
        self._seqs: set[int] = set()
        self._own = ""
        self._history_complete = False
        # The client asks for the newest page itself when it opens the room.
        self._waiting_for_history = True
        # Older pages are fetched when the reader reaches the top, not whenever Qt's view
        # finds itself at the bottom (where it calls fetchMore on its own).
        self._older_wanted = False
        self._shown: list[Presentation] = []
        self._divider_after: int | None = None
        self._seen: int | None = None
        self._first_page_in = False

    # -- feeding ------------------------------------------------------------------

    def set_own_username(self, username: str) -> None:
        self._own = username

    def _row(self, event: RoomEvent) -> MessageRow:
        text = event.message or ""
        own = bool(self._own) and event.username == self._own
        return MessageRow(
            seq=event.seq,
            username=event.username,
            text=text,
            msg_type=event.msg_type,
            ts=_parse_ts(event.ts),
            own=own,
            pending=False,
            mentions_me=not own and event.msg_type in MENTION_TYPES
            and mentions(text, self._own),
            client_id=event.client_id,
            arrived=None if event.ts else datetime.now().astimezone(),
        )

    def append_live(self, event: RoomEvent) -> None:
        row = self._row(event)
        if row.seq is not None:
            if row.seq in self._seqs:
                return
            self._seqs.add(row.seq)
            if row.client_id is not None:
                self._drop_pending(row.client_id)
            if (self._divider_after is not None and self._first_page_in
                    and self.divider_row() is None):
                # New since the room was shown: the divider marks what was there then.
                self._divider_after = max(self._divider_after, row.seq)
            position = self._stored_position(row.seq)
        else:
            position = len(self._rows)
        self.beginInsertRows(QModelIndex(), position, position)
        self._rows.insert(position, row)
        self._shown.insert(position, Presentation())
        changed = self._recompute()
        self.endInsertRows()
        self._announce(changed)

    def _stored_position(self, seq: int) -> int:
        """Where a stored event goes: after every row with a smaller seq (notices ride along)."""
        if not self._rows or (self._rows[-1].seq or 0) < seq:
            return len(self._rows)
        keys = [r.seq if r.seq is not None else -1 for r in self._rows]
        position = bisect.bisect_left(keys, seq)
        while position < len(self._rows) and self._rows[position].seq is None:
            position += 1
        return position

    def prepend_history(self, events: list[RoomEvent]) -> None:
        """Older events, oldest first; an empty page means the start was reached."""
        rows = [self._row(e) for e in events if e.seq is not None]
        rows = [r for r in rows if r.seq not in self._seqs]
        self._first_page_in = True
        if not rows:
            self._history_complete = True
        oldest_shown = self.oldest_seq()
        older = [r for r in rows if oldest_shown is None or (r.seq or 0) < oldest_shown]
        newer = [r for r in rows if r not in older]
        if older:
            self.beginInsertRows(QModelIndex(), 0, len(older) - 1)
            self._rows[0:0] = older
            self._shown[0:0] = [Presentation() for _ in older]
            self._seqs.update(r.seq for r in older if r.seq is not None)
            changed = self._recompute()
            self.endInsertRows()
            self._announce(changed)
        for row in newer:  # overlap with live events: place each by seq
            assert row.seq is not None
            self._seqs.add(row.seq)
            position = self._stored_position(row.seq)
            self.beginInsertRows(QModelIndex(), position, position)
            self._rows.insert(position, row)
            self._shown.insert(position, Presentation())
            changed = self._recompute()
            self.endInsertRows()
            self._announce(changed)
        # Only now: a view may ask for more while the rows above go in.
        self._waiting_for_history = False
        self._older_wanted = False
        self._present()

    def insert_around(self, events: list[RoomEvent]) -> None:
        """A ``history around`` page (a jump to a message not loaded): merged by seq."""

    def set_pending(self, pending: list[dict[str, str]]) -> None:
        """The room's outbox, oldest first; shown after the stored messages."""
        rows = [
            MessageRow(seq=None, username=self._own, text=item["message"],
                       msg_type=MsgType.MESSAGE,
                       ts=None, own=True, pending=True, mentions_me=False,
                       client_id=item["client_id"])
            for item in pending
        ]
        if self._pending:
            first = len(self._rows)
            self.beginRemoveRows(QModelIndex(), first, first + len(self._pending) - 1)
            self._pending = []
            del self._shown[first:]
            self.endRemoveRows()
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._pending = rows
            self._shown.extend(Presentation() for _ in rows)
            changed = self._recompute()
            self.endInsertRows()
            self._announce(changed)
        self._present()

    def _drop_pending(self, client_id: str) -> None:
        for position, row in enumerate(self._pending):
            if row.client_id == client_id:
                at = len(self._rows) + position
                self.beginRemoveRows(QModelIndex(), at, at)
                del self._pending[position]
                del self._shown[at]
                self.endRemoveRows()
                return

    def oldest_seq(self) -> int | None:
        return next((r.seq for r in self._rows if r.seq is not None), None)

    def newest_seq(self) -> int | None:
        return next((r.seq for r in reversed(self._rows) if r.seq is not None), None)

    # -- presentation and reading ------------------------------------------------------

    def _present(self) -> None:
        self._announce(self._recompute())

    def _recompute(self) -> list[int]:
        """Work out every row's presentation again (inside an insert, so views reacting to
        the new rows see it); the rows whose presentation changed."""
        lines = [self.row_at(position).line() for position in range(self.rowCount())]
        shown = present(lines, self._divider_after, date.today())
        changed = [i for i, (old, new) in enumerate(zip(self._shown, shown, strict=True))
                   if old != new]
        self._shown = shown
        return changed

    def _announce(self, changed: list[int]) -> None:
        if changed:
            self.dataChanged.emit(self.index(changed[0]), self.index(changed[-1]))

    def show_from(self, read_seq: int | None) -> None:
        """The room is shown with this read position: the divider goes after it.

        Messages arriving after this get no divider of their own (they are new
        as the person watches); the next ``show_from`` places it anew."""
        self._divider_after = read_seq
        self._present()
        self.dividerMoved.emit()

    def note_read(self, seq: int) -> None:
        """Read up to ``seq`` while shown: messages arriving from now on, as the person
        watches, get no divider; one already shown stays until the room is shown again."""
        if self.divider_row() is None:
            self._divider_after = seq
            self._present()

    def divider_row(self) -> int | None:
        return next((i for i, p in enumerate(self._shown) if p.divider), None)

    def set_seen(self, seq: int | None) -> None:
        """The view's report: the newest seq on screen at the bottom, or None if scrolled up."""
        if seq != self._seen:
            self._seen = seq
            self.seenChanged.emit(seq)

    def seen(self) -> int | None:
        return self._seen

    # -- Qt's model interface ----------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows) + len(self._pending)

    def row_at(self, position: int) -> MessageRow:
        if position < len(self._rows):
            return self._rows[position]
        return self._pending[position - len(self._rows)]

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        row = self.row_at(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            if row.msg_type is MsgType.ENTER:
                return f"{row.username} joined"
            if row.msg_type is MsgType.LEAVE:
                return f"{row.username} left"
            return row.text
        values = {
            MessageRole.Seq: row.seq,
            MessageRole.Username: row.username,
            MessageRole.Text: row.text,
            MessageRole.MsgType: row.msg_type,
            MessageRole.Timestamp: row.ts,
            MessageRole.IsOwn: row.own,
            MessageRole.IsPending: row.pending,
            MessageRole.MentionsMe: row.mentions_me,
            MessageRole.IsNotice: row.msg_type is not MsgType.MESSAGE,
            MessageRole.ClientId: row.client_id,
        }
        shown = self._shown[index.row()]
        values.update({
            MessageRole.DateLabel: shown.date_label,
            MessageRole.Divider: shown.divider,
            MessageRole.Continued: shown.continued,
            MessageRole.Hidden: shown.hidden,
            MessageRole.Summary: shown.summary,
        })
        return values.get(role)  # type: ignore[call-overload]

    def roleNames(self) -> dict[int, QByteArray]:
        return role_names(super().roleNames(), MessageRole)

    @property
    def history_complete(self) -> bool:
        return self._history_complete

    def want_older(self) -> None:
        """The reader reached the top: the next fetchMore loads the page before it."""
        self._older_wanted = True

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return (not parent.isValid() and self._older_wanted and not self._history_complete
                and not self._waiting_for_history)

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        self._waiting_for_history = True
        self._request_older(self.oldest_seq())
