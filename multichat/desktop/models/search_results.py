"""The results of a search, page by page, and what the search box says about them.

One search at a time: ``start`` asks for the first page (through a
``request`` callable, the client's ``search``: this model sends nothing
itself), ``fetchMore`` the next one while the server says there is ``more``
(a list view asks when it is scrolled to its end). A page answering an
earlier search, or a later one's refusal, is recognised by its ``ref`` and
dropped, so quick typing never mixes two searches' results.

Each row is one message found: its room (id and title), sender, time, text
and where the query's words are in it (``search_matches``), the way the
server matched them.

Signals:
    statusChanged(): ``status``, ``status_words`` or ``more`` changed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal

from multichat.desktop.client.search import SearchPage
from multichat.desktop.models.roles import ModelIndex, RoleListModel
from multichat.desktop.models.search_matches import Span, match_spans, query_words
from multichat.desktop.models.timeline import date_label
from multichat.protocol import commands as cmd
from multichat.protocol.frames import RoomEvent

# (query, room or None for everywhere, before) -> the request's ref, None when offline.
SearchRequest = Callable[[str, str | None, int | None], str | None]
TitleOf = Callable[[str], str]


class SearchRole(enum.IntEnum):
    RoomId = Qt.ItemDataRole.UserRole + 1
    RoomTitle = enum.auto()
    Place = enum.auto()  # the room in words after "in": its title, "direct message", …
    Username = enum.auto()
    Seq = enum.auto()
    When = enum.auto()  # the time in words: "14:03", "Yesterday 09:12", "3 March 2025 …"
    Text = enum.auto()
    Spans = enum.auto()  # list[(start, end)]: where the query's words are in Text
    Edited = enum.auto()


class Status(enum.Enum):
    IDLE = "idle"  # nothing asked yet (or the box is empty)
    SEARCHING = "searching"  # the first page is on its way
    DONE = "done"  # results shown (maybe none: the empty state)
    FAILED = "failed"  # the server refused, or offline


@dataclass(frozen=True, slots=True)
class Result:
    room: str
    username: str
    seq: int
    ts: datetime | None
    text: str
    edited: bool
    spans: tuple[Span, ...]


def when(ts: datetime | None, today: date) -> str:
    """A result's time: the hour today, the day and hour before (local time)."""
    if ts is None:
        return ""
    local = ts.astimezone()
    hour = local.strftime("%H:%M")
    day = local.date()
    return hour if day == today else f"{date_label(day, today)} {hour}"


class SearchResultsModel(RoleListModel):
    ROLES = SearchRole

    statusChanged = Signal()

    def __init__(self, request: SearchRequest, title_of: TitleOf,
                 parent: QObject | None = None, *, place_of: TitleOf | None = None,
                 today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self._request = request
        self._title_of = title_of
        self._place_of = place_of or title_of
        self._today = today
        self._rows: list[Result] = []
        self._seqs: set[tuple[str, int]] = set()
        self.query = ""
        self.room: str | None = None  # None: every room and conversation
        self._words: list[str] = []
        self._ref: str | None = None  # the request whose answer is awaited
        self._next: int | None = None
        self.more = False
        self.status = Status.IDLE
        self.status_words = ""

    # -- asking -------------------------------------------------------------------------

    def start(self, query: str, room: str | None = None, *, again: bool = False) -> bool:
        """Search for ``query`` in ``room`` (None: everywhere) from the newest. False when
        nothing was asked: the same words in the same place as the search shown (unless
        ``again``), no word at all (the results clear), too many words, or offline."""
        found = query_words(query)
        if not again and found == self._words and room == self.room \
                and self.status in (Status.SEARCHING, Status.DONE):
            self.query = query
            return False
        too_long = self._refusal(query, found) if found else ""
        if not found or too_long:
            self._reset(query, room, found)
            self._set_status(Status.FAILED if too_long else Status.IDLE, too_long)
            return False
        # The rows shown stay until the new search's first page replaces them: typing
        # on, the list does not blink empty at every pause.
        self.query, self.room, self._words = query, room, found
        self._ref, self._next, self.more = None, None, False
        return self._ask(None)

    def clear(self) -> None:
        """Nothing searched: no rows, no request awaited."""
        self._reset("", self.room, [])
        self._set_status(Status.IDLE, "")

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return (not parent.isValid() and self.more and self._ref is None
                and self.status is Status.DONE)

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._ask(self._next)

    @property
    def loading(self) -> bool:
        """A page is on its way."""
        return self._ref is not None

    def _ask(self, before: int | None) -> bool:
        """Send the request; False when offline (said in the status)."""
        ref = self._request(self.query, self.room, before)
        if ref is None:
            self._reset(self.query, self.room, self._words)
            self._set_status(Status.FAILED, "You are offline: search works once the app "
                                            "is connected again.")
            return False
        self._ref = ref
        if before is None:
            self._set_status(Status.SEARCHING, "Searching…")
        else:
            self.statusChanged.emit()
        return True

    def _reset(self, query: str, room: str | None, found: list[str]) -> None:
        self.beginResetModel()
        self._rows = []
        self._seqs = set()
        self.endResetModel()
        self.query, self.room, self._words = query, room, found
        self._ref, self._next, self.more = None, None, False

    @staticmethod
    def _refusal(query: str, found: list[str]) -> str:
        """What the server would refuse, said before asking it."""
        if len(query) > cmd.MAX_QUERY_CHARS:
            return f"That is too long to search: at most {cmd.MAX_QUERY_CHARS} characters."
        if len(found) > cmd.MAX_QUERY_WORDS:
            return f"Search with at most {cmd.MAX_QUERY_WORDS} words."
        return ""

    # -- answers ------------------------------------------------------------------------

    def add_page(self, page: SearchPage) -> None:
        """A page of results, if it answers the search awaited."""
        if page.ref != self._ref:
            return
        if page.first:  # the rows of the search before go now
            self._reset(self.query, self.room, self._words)
        self._ref = None
        self.more, self._next = page.more and page.next is not None, page.next
        rows = [result for event in page.results
                if (result := self._result(event)) is not None
                and (result.room, result.seq) not in self._seqs]
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self._seqs.update((r.room, r.seq) for r in rows)
            self.endInsertRows()
        self._set_status(Status.DONE, self._done_words())

    def fail(self, ref: str, _code: str, words: str) -> None:
        """The search awaited was refused (``words`` say why and what to do)."""
        if ref != self._ref:
            return
        if self.status is Status.SEARCHING:  # the first page: what shows is another's
            self._reset(self.query, self.room, self._words)
        self._ref = None
        self.more = False
        self._set_status(Status.FAILED, words)

    def interrupted(self) -> None:
        """The connection went while a page was on its way: it will never come."""
        if self._ref is not None:
            self.fail(self._ref, "", "The connection was lost. Press Enter to search again "
                                     "once it is back.")

    def _result(self, event: RoomEvent) -> Result | None:
        if event.seq is None or event.message is None or event.deleted:
            return None
        ts = None
        if event.ts is not None:
            try:
                ts = datetime.fromisoformat(event.ts)
            except ValueError:
                ts = None
        return Result(room=str(event.room), username=event.username, seq=event.seq, ts=ts,
                      text=event.message, edited=event.edited,
                      spans=tuple(match_spans(event.message, self._words)))

    def _done_words(self) -> str:
        if self._rows:
            return ""
        where = f" in {self._title_of(self.room) or 'this room'}" if self.room else ""
        return (f"No messages match “{self.query.strip()}”{where}. Words match from their "
                "start: “lun” finds “lunch”, not “brunch”.")

    def _set_status(self, status: Status, words: str) -> None:
        self.status, self.status_words = status, words
        self.statusChanged.emit()

    # -- the rows -------------------------------------------------------------------------

    def row_count(self) -> int:
        return len(self._rows)

    def result(self, row: int) -> Result:
        return self._rows[row]

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not self.holds(index):
            return None
        row = self._rows[index.row()]
        match role:
            case Qt.ItemDataRole.DisplayRole | SearchRole.Text:
                return row.text
            case Qt.ItemDataRole.ToolTipRole:
                return f"{self._title_of(row.room)} · {row.username}"
            case Qt.ItemDataRole.AccessibleTextRole:
                return (f"{row.username} in {self._place_of(row.room) or row.room}, "
                        f"{when(row.ts, self._today())}: {row.text}")
            case SearchRole.RoomId:
                return row.room
            case SearchRole.RoomTitle:
                return self._title_of(row.room) or f"Room {row.room}"
            case SearchRole.Place:
                return self._place_of(row.room) or f"Room {row.room}"
            case SearchRole.Username:
                return row.username
            case SearchRole.Seq:
                return row.seq
            case SearchRole.When:
                return when(row.ts, self._today())
            case SearchRole.Spans:
                return list(row.spans)
            case SearchRole.Edited:
                return row.edited
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | \
            Qt.ItemFlag.ItemNeverHasChildren
