"""The workspace: the ChatClient's signals turned into the item models the windows show.

One RoomListModel for the sidebar (rooms and direct conversations), and per
open room a MessageListModel and a MemberListModel. It knows which room is in
view, so it can count unread messages and decide what deserves a desktop
notification; it carries what the person does in a room to the client. No
widgets here.

Signals:
    roomOpened(str room, str title): a room's models exist; show a view for it.
    roomClosed(str room): the room was left or taken away; drop its view.
    showRequested(str room): bring this room into view (a direct conversation
        the person asked for has opened).
    notificationRequested(str room, str title, str body, bool mention): a
        message in a room not in view (or a mention anywhere) worth telling.
    mutedChanged(list rooms): the muted rooms, after the person changed one.
    readSeqChanged(str room, int seq): the room was read further here (never back).
    typingChanged(str room, list usernames): who else is typing in the room now.

Read state is the server's. Each room's read position comes with the room
list (``read_seq``), moves when another device of this user reads (a ``read``
push) and when the person reads here: a room counts as read up to the newest
message its view shows at the bottom while the room is in view and the window
active, and that goes to the server as ``read`` at most once a second per room
(``READ_INTERVAL_MS``), at once when the person switches away, and at quit
(``flush_reads``). When a room is switched to or opened its message model gets
the position to put the "New messages" divider after; the window coming back
to the front only records what was read. Read positions an earlier version
kept in the settings (``read_positions_from``) are a floor: one ahead of the
server's is sent to it once, which moves them over. A server from before read
markers refuses ``read`` (logged, not shown): there the positions last for the
session only.

Typing: another member's notice shows for ``TYPING_SHOWN_MS`` after the last
one, and ends at once when their message arrives. This person's typing goes
out at most once per ``TYPING_INTERVAL_S`` per room, never in a muted room.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from multichat.desktop.client import ChatClient
from multichat.desktop.client.uploads import Attachment
from multichat.desktop.models import MemberListModel, MessageListModel, RoomListModel
from multichat.desktop.models.mentions import mentions
from multichat.desktop.models.search_results import SearchResultsModel
from multichat.desktop.services.file_words import files_summary
from multichat.protocol import MsgType, names
from multichat.protocol.frames import RoomEvent, RoomInfo, UserInfo

# Messages, warnings and alerts; not muted notices, nor ENTER/LEAVE.
NOTIFY_TYPES = frozenset({MsgType.MESSAGE, MsgType.WARNING, MsgType.ALERT})
ReadLookup = Callable[[str], int | None]
# At most one ``read`` a second per room: reading a busy room moves the position with
# every message, and each read is a database write on the server.
READ_INTERVAL_MS = 1000
# The server relays at most one typing notice a second per user and room; sending one
# every 3 s keeps "is typing…" up on the other side (shown 5 s) at a third of that.
TYPING_INTERVAL_S = 3.0
TYPING_SHOWN_MS = 5000


class Workspace(QObject):
    roomOpened = Signal(str, str)
    roomClosed = Signal(str)
    showRequested = Signal(str)
    notificationRequested = Signal(str, str, str, bool)
    mutedChanged = Signal(object)
    readSeqChanged = Signal(str, int)
    typingChanged = Signal(str, object)

    def __init__(self, client: ChatClient, parent: QObject | None = None,
                 *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.client = client
        self.rooms = RoomListModel(self)
        self.messages: dict[str, MessageListModel] = {}
        self.members: dict[str, MemberListModel] = {}
        self.current_room: str | None = None
        self.window_active = True
        self.typing_shown_ms = TYPING_SHOWN_MS
        self._clock = clock
        self._account: tuple[str, str] | None = None  # (server, username) logged in to
        self._read: dict[str, int] = {}  # how far each room was read, as the server has it
        self._saved_read: ReadLookup = lambda _room: None
        self._read_sent: dict[str, tuple[int, float]] = {}  # room -> (seq, when) last sent
        self._read_waiting: dict[str, int] = {}  # room -> seq to send when the second is up
        self._read_timer = QTimer(self)
        self._read_timer.setSingleShot(True)
        self._read_timer.timeout.connect(self._send_waiting_reads)
        self._typists: dict[str, dict[str, float]] = {}  # room -> username -> shown until
        self._typing_timer = QTimer(self)
        self._typing_timer.setSingleShot(True)
        self._typing_timer.timeout.connect(self._expire_typing)
        self._typed_at: dict[str, float] = {}  # room -> when this person's notice went out
        client.roomsChanged.connect(self._rooms_changed)
        client.roomJoined.connect(self._joined)
        client.roomLeft.connect(self._left)
        client.membersChanged.connect(self._members_changed)
        client.messageReceived.connect(self._message)
        client.historyLoaded.connect(self._history)
        client.aroundLoaded.connect(self._around)
        client.outboxChanged.connect(self._outbox)
        client.loggedIn.connect(self._logged_in)
        client.readMarked.connect(self._read_elsewhere)
        client.activityReceived.connect(self._activity)
        client.typingReceived.connect(self._typing)
        client.dmOpened.connect(self._dm_opened)
        # Search (Ctrl+F): the results of the one search of this window.
        self.search = SearchResultsModel(client.search, self.title, self,
                                         place_of=self.place)
        client.searchResults.connect(self.search.add_page)
        client.searchFailed.connect(self.search.fail)
        client.stateChanged.connect(self._connection_changed)

    @property
    def username(self) -> str:
        return self.client.username

    def title(self, room: str) -> str:
        """A room's title: the room list's (a direct conversation's by its other members),
        else its join reply's (kept by the client)."""
        listed = self.rooms.title(room)
        if listed is not None:
            return listed
        joined = self.client.rooms.get(room)
        return joined.title if joined is not None else ""

    def place(self, room: str) -> str:
        """Where a message was said, after "in": a room's title, "direct message" (two
        people), "group with alice, bob"."""
        title = self.title(room)
        if not self.is_direct(room):
            return title
        return "direct message" if len(self.rooms.members(room)) <= 2 else f"group with {title}"

    def is_direct(self, room: str) -> bool:
        return self.rooms.is_direct(room)

    def known_users(self) -> list[str]:
        """Everyone this app has seen: members of the open rooms, the authors of their
        messages loaded (offline people too: the member lists hold who is online) and
        members of the direct conversations, this user left out (the server lists users
        to admins only)."""
        names: set[str] = set()
        for members in self.members.values():
            names.update(members.usernames())
        for model in self.messages.values():
            names.update(model.authors())
        for room in self.rooms.direct_rooms():
            names.update(self.rooms.members(room))
        names.discard(self.username)
        return sorted(names, key=str.casefold)

    # -- what the person does -------------------------------------------------------

    def open_room(self, room: str, title: str = "") -> None:
        """Join a room (if not already) and make its models, so a view can show at once."""
        room = str(room)
        if room not in self.messages:
            self._ensure_models(room)
            self.roomOpened.emit(room, self.title(room) or title)
        self.client.join(room)

    def close_room(self, room: str) -> None:
        self._flush_read(room)
        self.client.leave(room)

    def send(self, room: str, text: str, reply_to: int | None = None) -> None:
        text = text.strip()
        if text:
            self.client.send(room, text, reply_to)
            self._typed_at.pop(room, None)  # the next keystroke is news again

    def send_files(self, room: str, text: str, reply_to: int | None,
                   attachments: list[Attachment]) -> None:
        """A message with files (its text may be empty): uploaded, then sent."""
        if attachments:
            self.client.send(room, text.strip(), reply_to, attachments)
            self._typed_at.pop(room, None)
        else:
            self.send(room, text, reply_to)

    def cancel_upload(self, key: str) -> None:
        self.client.cancel_upload(key)

    def edit(self, room: str, seq: int, text: str) -> None:
        """Edit one's own message ``seq``; an empty text changes nothing (delete deletes)."""
        text = text.strip()
        if text:
            self.client.edit(room, seq, text)

    def delete(self, room: str, seq: int) -> None:
        self.client.delete(room, seq)

    def react(self, room: str, seq: int, emoji: str, on: bool) -> None:
        self.client.react(room, seq, emoji, on)

    def edit_pending(self, room: str, client_id: str, text: str) -> None:
        """Edit a message still in the outbox (see ``Outbox``): its pending text changes."""
        text = text.strip()
        if text:
            self.client.edit_pending(room, client_id, text)

    def delete_pending(self, room: str, client_id: str) -> None:
        """Delete a message still in the outbox: it never goes out (see ``Outbox``)."""
        self.client.delete_pending(room, client_id)

    def load_around(self, room: str, seq: int) -> None:
        """Load the messages around ``seq`` (a reply's original not loaded yet)."""
        self.client.request_history_around(room, seq)

    def typing(self, room: str) -> None:
        """The person typed into the room's (non-empty) input: tell the others, now and
        then; never from a muted room."""
        if self.rooms.is_muted(room):
            return
        now = self._clock()
        last = self._typed_at.get(room)
        if last is not None and now - last < TYPING_INTERVAL_S:
            return
        self._typed_at[room] = now
        self.client.typing(room)

    def open_dm(self, usernames: list[str]) -> bool:
        """Open the direct conversation with these people (several: a group); its view
        comes when the server answers. False when nothing was asked: offline, or nobody
        named but this user (the server makes no conversation of one)."""
        wanted = [name.strip().lstrip("@") for name in usernames]
        # Names as the server finds them (case and look-alikes folded): "Alice" is alice.
        others: dict[str, str] = {names.username_key(self.username): ""}
        for name in wanted:
            if name:
                others.setdefault(names.username_key(name), name)
        people = [name for name in others.values() if name]
        return bool(people) and self.client.open_dm(people)

    def set_current(self, room: str | None) -> None:
        previous, self.current_room = self.current_room, room
        if previous is not None and previous != room:
            self._flush_read(previous)  # switching away: what was read goes out now
        if room is not None and self.window_active:
            self.rooms.mark_read(room)
        if room is not None:
            self._shown(room)

    def set_window_active(self, active: bool) -> None:
        """The window came back (Alt+Tab, a dialog closed): what its view shows at the
        bottom counts as read now. The divider stays where it is and the view does not
        move: only switching to a room, or opening it, places the divider anew."""
        self.window_active = active
        if active and self.current_room is not None:
            self.rooms.mark_read(self.current_room)
            model = self.messages.get(self.current_room)
            if model is not None:
                self._seen(self.current_room, model.seen())

    def set_muted(self, room: str, muted: bool) -> None:
        if self.rooms.is_muted(room) != muted:
            self.rooms.set_muted(room, muted)
            self.mutedChanged.emit(self.rooms.muted_rooms())

    def open_rooms(self) -> list[str]:
        return list(self.messages)

    def typists(self, room: str) -> list[str]:
        """Who else is typing in ``room`` now, by name."""
        return sorted(self._typists.get(room, {}), key=str.casefold)

    # -- how far each room was read ----------------------------------------------------

    def read_positions_from(self, lookup: ReadLookup) -> None:
        """Read positions kept before the server kept them (an earlier version's
        settings): a floor under the server's, sent to it where they are ahead."""
        self._saved_read = lookup

    def read_seq(self, room: str) -> int | None:
        """The newest seq the person has read in ``room``; None if nothing was read."""
        seq = max(self._read.get(room, 0), self._saved_read(room) or 0)
        return seq or None

    def flush_reads(self) -> None:
        """Send every read position still waiting for its second (at quit, at logout)."""
        for room in list(self._read_waiting):
            self._flush_read(room)

    def _shown(self, room: str) -> None:
        """The room came into view: its divider goes after what had been read by now."""
        model = self.messages.get(room)
        if model is None:
            return
        model.show_from(self.read_seq(room))
        self._seen(room, model.seen())

    def _seen(self, room: str, seq: int | None) -> None:
        """The room's view shows ``seq`` at the bottom: read, if in view of someone."""
        if seq is None or room != self.current_room or not self.window_active:
            return
        model = self.messages.get(room)
        if model is not None:
            model.note_read(seq)
        if seq > (self.read_seq(room) or 0):
            self._read[room] = seq
            self.rooms.set_read(room, seq)
            self.readSeqChanged.emit(room, seq)
            self._send_read(room, seq)

    def _send_read(self, room: str, seq: int) -> None:
        """``read`` to the server: now if none went out for the room this last second,
        else when the second is up (the newest position by then)."""
        sent_seq, sent_at = self._read_sent.get(room, (0, -1e9))
        if seq <= sent_seq:
            return
        wait_ms = READ_INTERVAL_MS - int((self._clock() - sent_at) * 1000)
        if wait_ms <= 0:
            self._read_waiting.pop(room, None)
            self._read_sent[room] = (seq, self._clock())
            self.client.read(room, seq)
            return
        self._read_waiting[room] = seq
        if not self._read_timer.isActive() or self._read_timer.remainingTime() > wait_ms:
            self._read_timer.start(wait_ms)

    def _send_waiting_reads(self) -> None:
        for room, seq in list(self._read_waiting.items()):
            del self._read_waiting[room]
            self._send_read(room, seq)  # waits again if its second is not quite up

    def _flush_read(self, room: str) -> None:
        seq = self._read_waiting.pop(room, None)
        if seq is not None:
            self._read_sent[room] = (seq, self._clock())
            self.client.read(room, seq)

    def _read_elsewhere(self, room: str, seq: int, unread: int | None) -> None:
        """Another device of this user read the room up to ``seq``: the badge follows
        (to what the server says is left, when it says)."""
        if seq > self._read.get(room, 0):
            self._read[room] = seq
        self.rooms.set_read(room, seq, unread)

    # -- from the client ---------------------------------------------------------------

    def _ensure_models(self, room: str) -> None:
        if room in self.messages:
            return
        model = MessageListModel(functools.partial(self._request_older, room), self)
        model.set_own_username(self.username)
        model.seenChanged.connect(functools.partial(self._seen, room))
        self.messages[room] = model
        self.members[room] = MemberListModel(self)
        self.members[room].set_me(self.username)

    def _connection_changed(self, state: str, _detail: str) -> None:
        if state != "online":
            self.search.interrupted()  # a page on its way will never come

    def _request_older(self, room: str, before: int | None) -> None:
        self.client.request_history(room, before)

    def _logged_in(self, account: UserInfo, _token: str) -> None:
        who = (self.client.url, account.username)
        if self._account is not None and self._account != who:
            # Another account or server: no read state carries over.
            self._read.clear()
            self._read_sent.clear()
            self._read_waiting.clear()
            self.rooms.reset_counts()
        self._account = who
        self.rooms.set_me(account.username)
        for model in self.messages.values():
            model.set_own_username(account.username)
        for members in self.members.values():
            members.set_me(account.username)

    def _rooms_changed(self, rooms: list[RoomInfo]) -> None:
        self.rooms.set_me(self.username)
        for info in rooms:
            room = str(info.id)
            if info.read_seq > self._read.get(room, 0):
                self._read[room] = info.read_seq
            saved = self._saved_read(room) or 0
            if info.read_seq < saved <= info.last_seq:
                self._read[room] = saved  # moved over from the settings, once
                self._send_read(room, saved)
        self.rooms.set_rooms(rooms)
        for room_id in self.messages:
            self.rooms.set_joined(room_id, True)
        for room_id, seq in self._read.items():
            self.rooms.set_read(room_id, seq)
        if self.current_room is not None and self.window_active:
            self.rooms.mark_read(self.current_room)

    def _joined(self, room: str, title: str) -> None:
        if room not in self.messages:
            self._ensure_models(room)
            self.roomOpened.emit(room, self.title(room) or title)
        self.rooms.set_joined(room, True)

    def _left(self, room: str) -> None:
        self.rooms.set_joined(room, False)
        self._typists.pop(room, None)
        if room in self.messages:
            del self.messages[room]
            del self.members[room]
            if self.current_room == room:
                self.current_room = None
            self.roomClosed.emit(room)

    def _dm_opened(self, info: RoomInfo) -> None:
        """The direct conversation asked for: listed (the pushed list may come later),
        opened, and brought into view."""
        room = str(info.id)
        self.rooms.set_me(self.username)
        self.rooms.add_room(info)
        self.open_room(room)
        self.showRequested.emit(room)

    def _members_changed(self, room: str, usernames: list[str]) -> None:
        if room in self.members:
            self.members[room].set_members(usernames)

    def _message(self, room: str, event: RoomEvent) -> None:
        model = self.messages.get(room)
        if model is None:
            return
        model.append_live(event)
        if event.msg_type in (MsgType.MESSAGE, MsgType.LEAVE):
            # Their message ends the notice; so does their leaving the room.
            self._stopped_typing(room, event.username)
        in_view = self.window_active and room == self.current_room
        self.rooms.note_event(room, event, in_view=in_view, own_username=self.username)
        own = event.username == self.username
        if in_view or own or event.msg_type not in NOTIFY_TYPES:
            return
        text = event.message or ""
        mentioned = mentions(text, self.username)
        text = text or files_summary([file.name for file in event.files])
        if mentioned or not self.rooms.is_muted(room):
            title = f"{event.username} in {(self.title(room) or room)}"
            if self.is_direct(room):
                title = event.username
            self.notificationRequested.emit(room, title, text, mentioned)

    def _activity(self, room: str, seq: int, username: str, mention: bool,
                  count: int = 1) -> None:
        """New events in a room not joined: counted; worth a notice when it is a direct
        conversation or names this user (the text is not sent: the notice says who)."""
        self.rooms.note_activity(room, seq, username, mention, count)
        if username == self.username or room in self.messages:
            return
        direct = self.is_direct(room)
        if mention or (direct and not self.rooms.is_muted(room)):
            if direct:
                body = "mentioned you" if mention else "sent you a message"
                self.notificationRequested.emit(room, username, body, mention)
            else:
                self.notificationRequested.emit(
                    room, f"{username} in {self.title(room) or room}", "mentioned you", True)

    def _history(self, room: str, events: list[RoomEvent]) -> None:
        model = self.messages.get(room)
        if model is not None:
            model.prepend_history(events)
            self.rooms.note_history(room, events, self.username)

    def _around(self, room: str, events: list[RoomEvent]) -> None:
        model = self.messages.get(room)
        if model is not None:
            model.insert_around(events)

    def _outbox(self, room: str, pending: list[dict[str, object]]) -> None:
        model = self.messages.get(room)
        if model is not None:
            model.set_pending(pending)

    # -- who is typing -------------------------------------------------------------------

    def _typing(self, room: str, username: str) -> None:
        if username == self.username:
            return  # this user on another device
        typists = self._typists.setdefault(room, {})
        fresh = username not in typists
        typists[username] = self._clock() + self.typing_shown_ms / 1000
        if fresh:
            self.typingChanged.emit(room, self.typists(room))
        self._schedule_typing_expiry()

    def _stopped_typing(self, room: str, username: str) -> None:
        typists = self._typists.get(room)
        if typists is not None and typists.pop(username, None) is not None:
            self.typingChanged.emit(room, self.typists(room))

    def _expire_typing(self) -> None:
        now = self._clock()
        for room, typists in list(self._typists.items()):
            gone = [name for name, until in typists.items() if until <= now]
            for name in gone:
                del typists[name]
            if gone:
                self.typingChanged.emit(room, self.typists(room))
        self._schedule_typing_expiry()

    def _schedule_typing_expiry(self) -> None:
        ends = [until for typists in self._typists.values() for until in typists.values()]
        if ends:
            wait_ms = max(0, int((min(ends) - self._clock()) * 1000) + 1)
            self._typing_timer.start(wait_ms)
        else:
            self._typing_timer.stop()
