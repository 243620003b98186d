"""The messages of one room as a list model: history above, live below, pending last.

Stored events are kept in seq order and deduplicated by seq; ENTER/LEAVE
notices (no seq) stay where they arrived. Messages still in the outbox are
shown at the bottom, marked pending, until their stored copy arrives.
``fetchMore`` asks for the page before the oldest message shown.

What happens to a message later folds into its row: an EDIT (6) event
replaces its text and marks it edited, a DELETE (7) blanks it, a REACTION (8)
adds or takes back one person's emoji. Live, these arrive as events with a
``target``; a target not loaded is left alone (its history page will bring it
folded). History pages bring messages already folded. A reply's row offers a
``Quote`` of its original when that is loaded.

Rows stay sorted by seq. A ``history around`` page (a jump to a message far
back) may land apart from what is loaded: the model keeps which stretches of
seqs it has whole (``_covered``), marks the row below a stretch not loaded
(``GapAbove``), and ``fill_gap`` asks for the page before that row; loading
older at the top continues from the oldest row.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal

from multichat.desktop.models.mentions import mentions
from multichat.desktop.models.roles import ModelIndex, RoleListModel
from multichat.desktop.models.timeline import Kind, Line, Presentation, present
from multichat.desktop.services.file_words import files_summary
from multichat.protocol import MsgType
from multichat.protocol.frames import FileObj, RoomEvent

# Where being named counts as a mention: messages, warnings, alerts (not muted notices).
MENTION_TYPES = frozenset({MsgType.MESSAGE, MsgType.WARNING, MsgType.ALERT})
# Events that change an earlier message (its ``target``) rather than add a row.
CHANGE_TYPES = frozenset({MsgType.EDIT, MsgType.DELETE, MsgType.REACTION})
RequestOlder = Callable[[int | None], None]
DELETED_WORDS = "message deleted"
# Past any seq: the upper end of what live events keep covering.
NEWEST = 2**62


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
    ReplyTo = enum.auto()  # the seq of the message this one answers, or None
    Quote = enum.auto()  # a Quote of that message, or None (no reply)
    Edited = enum.auto()
    Deleted = enum.auto()
    Reactions = enum.auto()  # a tuple of Reaction, in the order first given
    GapAbove = enum.auto()  # messages above this row are not loaded yet
    Files = enum.auto()  # a tuple of FileObj (a pending message's: id "", not stored yet)


@dataclass(frozen=True, slots=True)
class Quote:
    """What a reply shows of its original: who wrote it and its text, if loaded."""

    seq: int
    loaded: bool
    username: str = ""
    text: str = ""
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Reaction:
    """One emoji under a message: who gave it, and whether the reader is among them."""

    emoji: str
    usernames: tuple[str, ...]
    mine: bool

    @property
    def count(self) -> int:
        return len(self.usernames)


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
    reply_to: int | None = None
    edited: bool = False
    deleted: bool = False
    # emoji -> who reacted with it, in the order given (insertion order is display order)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    files: tuple[FileObj, ...] = ()

    @property
    def actionable(self) -> bool:
        """A stored message people may reply to, react to, edit or delete."""
        return (self.seq is not None and not self.pending and not self.deleted
                and self.msg_type is MsgType.MESSAGE)

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


class MessageListModel(RoleListModel):
    ROLES = MessageRole

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
        # Stretches of seqs known whole ([low, high], sorted, apart); a page answers the
        # request recorded in _requested_before (None: the newest page).
        self._covered: list[list[int]] = []
        self._requested_before: int | None = None
        self._newest_event: int | None = None  # the newest seq of any event, folded ones too
        self._gaps: set[int] = set()  # seqs of the rows with a gap right above them

    # -- feeding ------------------------------------------------------------------

    def set_own_username(self, username: str) -> None:
        self._own = username

    def own_username(self) -> str:
        return self._own

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
            reply_to=event.reply_to,
            edited=event.edited,
            deleted=event.deleted,
            reactions={emoji: list(names) for emoji, names in event.reactions if names},
            files=event.files,
        )

    def append_live(self, event: RoomEvent) -> None:
        if event.seq is not None:
            self._newest_event = max(self._newest_event or 0, event.seq)
            self._cover(event.seq, NEWEST)
        if event.msg_type in CHANGE_TYPES:
            self._fold(event)
            return
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

    # -- what happens to a message later ---------------------------------------------------

    def _fold(self, event: RoomEvent) -> None:
        """An EDIT, DELETE or REACTION into its target's row (if loaded)."""
        if event.target is None:
            return
        position = self.position_of(event.target)
        if position is None:
            return  # not loaded: its history page will bring it folded
        row = self._rows[position]
        if row.deleted:
            return
        if event.msg_type is MsgType.EDIT:
            row.text = event.message or ""
            row.edited = True
            row.mentions_me = not row.own and mentions(row.text, self._own)
        elif event.msg_type is MsgType.DELETE:
            row.text = ""
            row.deleted = True
            row.reactions = {}
            row.mentions_me = False
        elif event.emoji:
            names = row.reactions.setdefault(event.emoji, [])
            if event.on and event.username not in names:
                names.append(event.username)
            elif not event.on and event.username in names:
                names.remove(event.username)
            if not names:
                del row.reactions[event.emoji]
        self._row_changed(position)
        self._quotes_changed({event.target})

    def _row_changed(self, position: int) -> None:
        index = self.index(position)
        self.dataChanged.emit(index, index)

    def _quotes_changed(self, seqs: set[int]) -> None:
        """Replies to these messages show them anew (loaded, edited, deleted)."""
        if not seqs:
            return
        for position in range(self.rowCount()):
            if self.row_at(position).reply_to in seqs:
                self._row_changed(position)

    def _keys(self) -> list[int]:
        """Each row's seq for bisecting, a notice (no seq) taking the seq above it: sorted."""
        keys: list[int] = []
        last = -1
        for row in self._rows:
            last = row.seq if row.seq is not None else last
            keys.append(last)
        return keys

    def position_of(self, seq: int) -> int | None:
        """The row of the stored event ``seq``, or None when it is not loaded."""
        if seq not in self._seqs:
            return None
        keys = self._keys()
        position = bisect.bisect_left(keys, seq)
        while position < len(self._rows) and self._rows[position].seq != seq:
            position += 1  # past notices without a seq (kept where they arrived)
        return position if position < len(self._rows) else None

    def index_of(self, seq: int) -> QModelIndex:
        """The row of ``seq`` as an index; invalid when it is not loaded."""
        position = self.position_of(seq)
        return self.index(position) if position is not None else QModelIndex()

    def message(self, seq: int) -> MessageRow | None:
        position = self.position_of(seq)
        return self._rows[position] if position is not None else None

    def pending_message(self, client_id: str) -> MessageRow | None:
        """A message still in the outbox, by its client id (None once stored or dropped)."""
        return next((r for r in self._pending if r.client_id == client_id), None)

    def authors(self) -> set[str]:
        """Who wrote the messages loaded here (the people one may want to write to,
        online or not)."""
        return {row.username for row in self._rows
                if row.msg_type is MsgType.MESSAGE and row.username}

    def last_own_message(self) -> int | None:
        """The seq of the reader's newest message still standing (what Up edits); None while
        one of theirs is still being sent, so that Up never edits the one before it."""
        if self._pending:
            return None
        return next((r.seq for r in reversed(self._rows) if r.own and r.actionable), None)

    # -- which seqs are loaded whole -------------------------------------------------------

    def _cover(self, low: int, high: int) -> None:
        """Every message with a seq from ``low`` to ``high`` is loaded (or never existed)."""
        merged = [low, high]
        kept: list[list[int]] = []
        for stretch in self._covered:
            if stretch[1] + 1 < merged[0] or merged[1] + 1 < stretch[0]:
                kept.append(stretch)
            else:
                merged = [min(stretch[0], merged[0]), max(stretch[1], merged[1])]
        kept.append(merged)
        kept.sort()
        self._covered = kept

    def _refresh_gaps(self) -> None:
        """Which rows have messages not loaded right above them (the first row of every
        stretch but the oldest); those that changed are announced."""
        gaps: set[int] = set()
        if len(self._covered) > 1:
            keys = self._keys()
            for low, _high in self._covered[1:]:
                position = bisect.bisect_left(keys, low)
                if position < len(keys):
                    gaps.add(keys[position])
        changed, self._gaps = gaps ^ self._gaps, gaps
        for seq in changed:
            found = self.position_of(seq)
            if found is not None:
                self._row_changed(found)

    def gap_above(self, position: int) -> bool:
        return self.row_at(position).seq in self._gaps

    def fill_gap(self, position: int) -> None:
        """Ask for the page before the row below a gap (the view sees that row)."""
        seq = self.row_at(position).seq
        if seq is None or seq not in self._gaps or self._waiting_for_history:
            return
        self._waiting_for_history = True
        self._requested_before = seq
        self._request_older(seq)

    def _insert_rows(self, rows: Iterable[MessageRow]) -> None:
        """Stored rows not loaded yet, each at its place by seq."""
        for row in rows:
            assert row.seq is not None
            if row.seq in self._seqs:
                continue
            self._seqs.add(row.seq)
            position = self._stored_position(row.seq)
            self.beginInsertRows(QModelIndex(), position, position)
            self._rows.insert(position, row)
            self._shown.insert(position, Presentation())
            changed = self._recompute()
            self.endInsertRows()
            self._announce(changed)

    def _stored_position(self, seq: int) -> int:
        """Where a stored event goes: after every row with a smaller seq (notices ride along)."""
        keys = self._keys()
        # After the newest stored row: at the end (past the notices after it too). A
        # notice last (someone came in) says nothing of the seqs before it.
        if not keys or keys[-1] < seq:
            return len(self._rows)
        position = bisect.bisect_left(keys, seq)
        while position < len(self._rows) and self._rows[position].seq is None:
            position += 1
        return position

    def prepend_history(self, events: list[RoomEvent]) -> None:
        """A page of history, oldest first: the newest page when the room opens, then the
        page before a row (the oldest, or the one below a gap); an empty page before the
        oldest row means the start was reached."""
        before = self._requested_before
        self._requested_before = None
        page = [self._row(e) for e in events
                if e.seq is not None and e.msg_type not in CHANGE_TYPES]
        self._first_page_in = True
        oldest_shown = self.oldest_seq()
        if not page and (before is None or oldest_shown is None or before <= oldest_shown):
            self._history_complete = True
        seqs = [r.seq for r in page if r.seq is not None]
        if before is None:
            if seqs:
                self._cover(min(seqs), NEWEST)
        else:
            self._cover(min(seqs) if seqs else 0, before - 1)
        rows = [r for r in page if r.seq not in self._seqs]
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
        self._insert_rows(newer)  # overlap with live events, or a gap filling: by seq
        self._quotes_changed({r.seq for r in rows if r.seq is not None})
        self._refresh_gaps()
        # Only now: a view may ask for more while the rows above go in.
        self._waiting_for_history = False
        self._older_wanted = False
        self._present()

    def insert_around(self, events: list[RoomEvent]) -> None:
        """A ``history around`` page (a jump to a message not loaded): merged by seq.

        It may land apart from the rows loaded; the row below the stretch not
        loaded then says so (``GapAbove``) until ``fill_gap`` brings it."""
        page = [self._row(e) for e in events
                if e.seq is not None and e.msg_type not in CHANGE_TYPES]
        seqs = [r.seq for r in page if r.seq is not None]
        if not seqs:
            return
        self._cover(min(seqs), max(seqs))
        rows = [r for r in page if r.seq not in self._seqs]
        self._insert_rows(sorted(rows, key=lambda r: r.seq or 0))
        self._quotes_changed({r.seq for r in rows if r.seq is not None})
        self._refresh_gaps()
        self._present()

    def set_pending(self, pending: list[dict[str, Any]]) -> None:
        """The room's outbox, oldest first; shown after the stored messages."""
        rows = [
            MessageRow(seq=None, username=self._own, text=str(item["message"]),
                       msg_type=MsgType.MESSAGE,
                       ts=None, own=True, pending=True, mentions_me=False,
                       client_id=str(item["client_id"]),
                       reply_to=_seq_or_none(item.get("reply_to")),
                       files=_pending_files(item.get("files")))
            for item in pending
            if "message" in item  # a send (edits, deletions, reactions show when stored)
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

    def newest_event_seq(self) -> int | None:
        """The newest seq arrived live or loaded, the edits, deletions and reactions folded
        into rows included: what a reader at the bottom has seen."""
        newest = self.newest_seq()
        if self._newest_event is None:
            return newest
        return max(newest or 0, self._newest_event)

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

    def row_count(self) -> int:
        return len(self._rows) + len(self._pending)

    def row_at(self, position: int) -> MessageRow:
        if position < len(self._rows):
            return self._rows[position]
        return self._pending[position - len(self._rows)]

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self.holds(index):
            return None
        row = self.row_at(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            if row.msg_type is MsgType.ENTER:
                return f"{row.username} joined"
            if row.msg_type is MsgType.LEAVE:
                return f"{row.username} left"
            return DELETED_WORDS if row.deleted else row.text
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
            MessageRole.ReplyTo: row.reply_to,
            MessageRole.Edited: row.edited,
            MessageRole.Deleted: row.deleted,
            MessageRole.Files: () if row.deleted else row.files,
        }
        if role == MessageRole.Quote:
            return self._quote(row.reply_to)
        if role == MessageRole.Reactions:
            return tuple(Reaction(emoji, tuple(names), self._own in names)
                         for emoji, names in row.reactions.items())
        if role == MessageRole.GapAbove:
            return row.seq in self._gaps
        shown = self._shown[index.row()]
        values.update({
            MessageRole.DateLabel: shown.date_label,
            MessageRole.Divider: shown.divider,
            MessageRole.Continued: shown.continued,
            MessageRole.Hidden: shown.hidden,
            MessageRole.Summary: shown.summary,
        })
        return values.get(role)  # type: ignore[call-overload]

    def _quote(self, seq: int | None) -> Quote | None:
        if seq is None:
            return None
        original = self.message(seq)
        if original is None:
            return Quote(seq, loaded=False)
        return Quote(seq, loaded=True, username=original.username,
                     text=original.text or files_summary([f.name for f in original.files]),
                     deleted=original.deleted)

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
        self._requested_before = self.oldest_seq()
        self._request_older(self._requested_before)


def _seq_or_none(value: object) -> int | None:
    """An outbox item's ``reply_to``, however it was kept."""
    try:
        return int(value) if value is not None else None  # type: ignore[call-overload]
    except ValueError:
        return None


def _pending_files(value: object) -> tuple[FileObj, ...]:
    """A pending message's uploads as FileObj to show (no id yet: nothing to fetch)."""
    if not isinstance(value, list):
        return ()
    return tuple(FileObj("", str(item.get("name", "")), int(item.get("size", 0)),
                         str(item.get("type", "")), "")
                 for item in value if isinstance(item, dict))
