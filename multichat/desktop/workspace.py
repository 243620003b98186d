"""The workspace: the ChatClient's signals turned into the item models the windows show.

One RoomListModel for the sidebar, and per open room a MessageListModel and a
MemberListModel. It knows which room is in view, so it can count unread
messages and decide what deserves a desktop notification. No widgets here.

Signals:
    roomOpened(str room, str title): a room's models exist; show a view for it.
    roomClosed(str room): the room was left or taken away; drop its view.
    notificationRequested(str room, str title, str body, bool mention): a
        message in a room not in view (or a mention anywhere) worth telling.
    mutedChanged(list rooms): the muted rooms, after the person changed one.
    readSeqChanged(str room, int seq): the room was read further (never back);
        the controller keeps it in the settings.

How far a room was read is known here and nowhere else: the saved positions
come in through ``read_positions_from``, and a room counts as read up to the
newest message its view shows at the bottom while the room is in view and the
window active. When a room is switched to or opened its message model gets the
position to put the "New messages" divider after; the window coming back to
the front only records what was read. Server-side read markers can replace the
lookup and the signal without the views noticing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from multichat.desktop.client import ChatClient
from multichat.desktop.models import MemberListModel, MessageListModel, RoomListModel
from multichat.desktop.models.mentions import mentions
from multichat.protocol import MsgType
from multichat.protocol.frames import RoomEvent, RoomInfo, UserInfo

# Messages, warnings and alerts; not muted notices, nor ENTER/LEAVE.
NOTIFY_TYPES = frozenset({MsgType.MESSAGE, MsgType.WARNING, MsgType.ALERT})
ReadLookup = Callable[[str], int | None]


class Workspace(QObject):
    roomOpened = Signal(str, str)
    roomClosed = Signal(str)
    notificationRequested = Signal(str, str, str, bool)
    mutedChanged = Signal(object)
    readSeqChanged = Signal(str, int)

    def __init__(self, client: ChatClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.rooms = RoomListModel(self)
        self.messages: dict[str, MessageListModel] = {}
        self.members: dict[str, MemberListModel] = {}
        self.current_room: str | None = None
        self.window_active = True
        self._read: dict[str, int | None] = {}
        self._saved_read: ReadLookup = lambda _room: None
        client.roomsChanged.connect(self._rooms_changed)
        client.roomJoined.connect(self._joined)
        client.roomLeft.connect(self._left)
        client.membersChanged.connect(self._members_changed)
        client.messageReceived.connect(self._message)
        client.historyLoaded.connect(self._history)
        client.outboxChanged.connect(self._outbox)
        client.loggedIn.connect(self._logged_in)

    @property
    def username(self) -> str:
        return self.client.username

    def title(self, room: str) -> str:
        """A room's title: the room list's, else its join reply's (kept by the client)."""
        listed = self.rooms.title(room)
        if listed is not None:
            return listed
        joined = self.client.rooms.get(room)
        return joined.title if joined is not None else ""

    # -- what the person does -------------------------------------------------------

    def open_room(self, room: str, title: str = "") -> None:
        """Join a room (if not already) and make its models, so a view can show at once."""
        room = str(room)
        if room not in self.messages:
            self._ensure_models(room)
            self.roomOpened.emit(room, title or self.title(room))
        self.client.join(room)

    def close_room(self, room: str) -> None:
        self.client.leave(room)

    def send(self, room: str, text: str) -> None:
        text = text.strip()
        if text:
            self.client.send(room, text)

    def set_current(self, room: str | None) -> None:
        self.current_room = room
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

    # -- how far each room was read ----------------------------------------------------

    def read_positions_from(self, lookup: ReadLookup) -> None:
        """Where saved read positions come from (the settings, for the server logged in to)."""
        self._saved_read = lookup
        self._read.clear()

    def read_seq(self, room: str) -> int | None:
        """The newest seq the person has read in ``room``, or None if never opened."""
        if room not in self._read:
            self._read[room] = self._saved_read(room)
        return self._read[room]

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
            self.readSeqChanged.emit(room, seq)

    def set_muted(self, room: str, muted: bool) -> None:
        if self.rooms.is_muted(room) != muted:
            self.rooms.set_muted(room, muted)
            self.mutedChanged.emit(self.rooms.muted_rooms())

    def open_rooms(self) -> list[str]:
        return list(self.messages)

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

    def _request_older(self, room: str, before: int | None) -> None:
        self.client.request_history(room, before)

    def _logged_in(self, account: UserInfo, _token: str) -> None:
        for model in self.messages.values():
            model.set_own_username(account.username)
        for members in self.members.values():
            members.set_me(account.username)

    def _rooms_changed(self, rooms: list[RoomInfo]) -> None:
        self.rooms.set_rooms(rooms)
        for room_id in self.messages:
            self.rooms.set_joined(room_id, True)

    def _joined(self, room: str, title: str) -> None:
        if room not in self.messages:
            self._ensure_models(room)
            self.roomOpened.emit(room, title)
        self.rooms.set_joined(room, True)

    def _left(self, room: str) -> None:
        self.rooms.set_joined(room, False)
        if room in self.messages:
            del self.messages[room]
            del self.members[room]
            if self.current_room == room:
                self.current_room = None
            self.roomClosed.emit(room)

    def _members_changed(self, room: str, usernames: list[str]) -> None:
        if room in self.members:
            self.members[room].set_members(usernames)

    def _message(self, room: str, event: RoomEvent) -> None:
        model = self.messages.get(room)
        if model is None:
            return
        model.append_live(event)
        in_view = self.window_active and room == self.current_room
        self.rooms.note_event(room, event, in_view=in_view, own_username=self.username)
        own = event.username == self.username
        if in_view or own or event.msg_type not in NOTIFY_TYPES:
            return
        text = event.message or ""
        mentioned = mentions(text, self.username)
        if mentioned or not self.rooms.is_muted(room):
            title = f"{event.username} in {(self.title(room) or room)}"
            self.notificationRequested.emit(room, title, text, mentioned)

    def _history(self, room: str, events: list[RoomEvent]) -> None:
        model = self.messages.get(room)
        if model is not None:
            model.prepend_history(events)

    def _outbox(self, room: str, pending: list[dict[str, str]]) -> None:
        model = self.messages.get(room)
        if model is not None:
            model.set_pending(pending)
