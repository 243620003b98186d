"""Conversations across people and devices, workspaces on a real server: unread counts
that follow the server's read markers, activity of rooms not joined, direct
conversations, typing."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient
from multichat.desktop.models import RoomRole
from multichat.desktop.services.hosting import ServerThread
from multichat.desktop.widgets.main_window import MainWindow
from multichat.desktop.workspace import Workspace
from tests.conftest import ADMIN, ALICE, BOB, STAFF
from tests.desktop.helpers import WAIT_MS, log_in

MakeClient = Callable[[], ChatClient]


def workspace_for(qtbot: QtBot, make_client: MakeClient, server: ServerThread,
                  credentials: tuple[str, str]) -> Workspace:
    """A logged-in workspace whose room list has arrived."""
    client = make_client()
    workspace = Workspace(client)
    with qtbot.waitSignal(client.roomsChanged, timeout=WAIT_MS):
        log_in(qtbot, client, server, credentials)
    return workspace


def joined(qtbot: QtBot, workspace: Workspace, room: str = "1") -> None:
    workspace.open_room(room)
    qtbot.waitUntil(lambda: workspace.client.rooms[room].joined, timeout=WAIT_MS)


def says(qtbot: QtBot, workspace: Workspace, text: str, room: str = "1") -> None:
    """Sent and stored (its copy came back)."""
    workspace.send(room, text)
    qtbot.waitUntil(lambda: len(workspace.client.outbox) == 0, timeout=WAIT_MS)


def test_reading_on_one_device_clears_the_badge_on_the_other_and_places_the_divider(
    qtbot: QtBot, hosted_server: ServerThread, make_client: MakeClient
) -> None:
    laptop = workspace_for(qtbot, make_client, hosted_server, ALICE)
    phone = workspace_for(qtbot, make_client, hosted_server, ALICE)
    bob = workspace_for(qtbot, make_client, hosted_server, BOB)
    for workspace in (laptop, phone, bob):
        joined(qtbot, workspace)
    laptop.set_current(None)  # the laptop looks at nothing
    phone.set_current("1")  # the phone shows the Lobby
    for text in ("one", "two", "three"):
        says(qtbot, bob, text)
    qtbot.waitUntil(lambda: laptop.rooms.unread("1") == 3, timeout=WAIT_MS)
    assert phone.rooms.unread("1") == 0

    read: list[tuple[str, int]] = []
    laptop.client.readMarked.connect(lambda room, seq, _unread: read.append((room, seq)))
    phone.messages["1"].set_seen(2)  # the phone's view shows up to "two" at the bottom
    qtbot.waitUntil(lambda: laptop.rooms.unread("1") == 1, timeout=WAIT_MS)
    assert read == [("1", 2)]
    phone.messages["1"].set_seen(3)  # within the second: sent when it is up
    qtbot.waitUntil(lambda: laptop.rooms.unread("1") == 0, timeout=WAIT_MS)
    assert laptop.read_seq("1") == 3

    # A third device, started now, counts from the server's marker and puts the divider
    # after it.
    says(qtbot, bob, "four")
    tablet = workspace_for(qtbot, make_client, hosted_server, ALICE)
    assert tablet.read_seq("1") == 3 and tablet.rooms.unread("1") == 1
    joined(qtbot, tablet)
    model = tablet.messages["1"]
    qtbot.waitUntil(lambda: model.newest_seq() == 4, timeout=WAIT_MS)
    tablet.set_current("1")
    assert model.divider_row() is not None
    assert model.row_at(model.divider_row() or 0).seq == 4


def test_activity_counts_a_room_not_joined_and_its_mentions(
    qtbot: QtBot, hosted_server: ServerThread, make_client: MakeClient
) -> None:
    alice = workspace_for(qtbot, make_client, hosted_server, ALICE)
    bob = workspace_for(qtbot, make_client, hosted_server, BOB)
    joined(qtbot, bob)
    assert "1" not in alice.client.rooms  # alice has not opened the Lobby
    says(qtbot, bob, "anyone?")
    qtbot.waitUntil(lambda: alice.rooms.unread("1") == 1, timeout=WAIT_MS)
    says(qtbot, bob, "@alice are you there?")
    qtbot.waitUntil(lambda: alice.rooms.mention_count("1") == 1, timeout=WAIT_MS)
    assert alice.rooms.unread("1") == 2
    says(qtbot, bob, "third")
    qtbot.waitUntil(lambda: alice.rooms.unread("1") == 3, timeout=WAIT_MS)
    assert alice.rooms.mention_count("1") == 1


def test_a_direct_conversation_is_one_room_for_both_and_titled_by_the_other(
    qtbot: QtBot, hosted_server: ServerThread, make_client: MakeClient
) -> None:
    alice = workspace_for(qtbot, make_client, hosted_server, ALICE)
    bob = workspace_for(qtbot, make_client, hosted_server, BOB)
    window = MainWindow(alice)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(alice.showRequested, timeout=WAIT_MS) as shown:
        assert alice.open_dm(["bob"])
    room = shown.args[0]
    assert window.current_room() == room and room in window.views
    assert alice.title(room) == "bob" and alice.is_direct(room)
    assert window.direct_section.rowCount() == 1
    assert window.direct_section.index(0, 0).data() == "bob"
    assert all(window.room_section.index(row, 0).data(RoomRole.RoomId) != room
               for row in range(window.room_section.rowCount()))
    qtbot.waitUntil(lambda: alice.client.rooms[room].joined, timeout=WAIT_MS)
    # The view and its tab are titled by the other person too, not by the server's
    # "alice, bob", once joined and once the pushed room list is in.
    view = window.views[room]
    qtbot.waitUntil(lambda: alice.rooms.title(room) == "bob", timeout=WAIT_MS)
    assert view.title.full_text() == "bob"
    assert window.tabs.tabText(window.tabs.indexOf(view)) == "bob"

    # Bob sees it listed (pushed), titled "alice", and counted before he opens it.
    qtbot.waitUntil(lambda: bob.rooms.title(room) == "alice", timeout=WAIT_MS)
    says(qtbot, alice, "psst", room)
    qtbot.waitUntil(lambda: bob.rooms.unread(room) == 1, timeout=WAIT_MS)
    with qtbot.waitSignal(bob.showRequested, timeout=WAIT_MS) as bob_shown:
        bob.open_dm(["alice"])
    assert bob_shown.args == [room]  # the same people, the same room

    # Several people make a group; nobody but oneself makes nothing.
    with qtbot.waitSignal(alice.showRequested, timeout=WAIT_MS) as group:
        alice.open_dm(["sam", "@bob", "alice"])
    assert alice.title(group.args[0]) == "bob, sam" and group.args[0] != room
    assert window.direct_section.rowCount() == 2
    assert not alice.open_dm(["alice", " "])
    assert not alice.open_dm(["Alice", "ALICE"])  # her own name as the server finds it
    assert "bob" in alice.known_users() and "alice" not in alice.known_users()

    with qtbot.waitSignal(alice.client.errorOccurred, timeout=WAIT_MS) as refused:
        alice.open_dm(["nobody-by-that-name"])
    assert refused.args[1] == "USER_INVALID"


def test_message_from_the_member_list_opens_the_direct_conversation(
    qtbot: QtBot, hosted_server: ServerThread, make_client: MakeClient
) -> None:
    alice = workspace_for(qtbot, make_client, hosted_server, ALICE)
    window = MainWindow(alice)
    qtbot.addWidget(window)
    window.show()
    joined(qtbot, alice)
    with qtbot.waitSignal(alice.showRequested, timeout=WAIT_MS) as shown:
        window.views["1"].directMessageRequested.emit("sam")
    assert window.current_room() == shown.args[0] and alice.title(shown.args[0]) == "sam"


def test_typing_shows_expires_and_ends_with_the_message(
    qtbot: QtBot, hosted_server: ServerThread, make_client: MakeClient
) -> None:
    alice = workspace_for(qtbot, make_client, hosted_server, ALICE)
    bob = workspace_for(qtbot, make_client, hosted_server, BOB)
    for workspace in (alice, bob):
        joined(qtbot, workspace)
    alice.typing_shown_ms = 300  # the 5 s of the app, shorter to wait for here
    changes: list[list[str]] = []
    alice.typingChanged.connect(lambda room, names: changes.append(list(names)))
    bob.typing("1")
    # The notice shows, then expires (the second wait holds on a loaded machine too,
    # where the expiry may come before the first wait looks).
    qtbot.waitUntil(lambda: changes[:1] == [["bob"]], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: changes == [["bob"], []], timeout=WAIT_MS)  # expired

    alice.typing_shown_ms = 60_000
    sam = workspace_for(qtbot, make_client, hosted_server, STAFF)
    joined(qtbot, sam)
    sam.typing("1")
    qtbot.waitUntil(lambda: alice.typists("1") == ["sam"], timeout=WAIT_MS)
    says(qtbot, sam, "done typing")
    qtbot.waitUntil(lambda: alice.typists("1") == [], timeout=WAIT_MS)  # the message ends it

    # Muted, nothing goes out: the message that follows arrives with no notice before it
    # (the server relays a typist's first notice at once, so one sent would be first).
    admin = workspace_for(qtbot, make_client, hosted_server, ADMIN)
    joined(qtbot, admin)
    admin.set_muted("1", True)
    shown = len(changes)
    admin.typing("1")
    says(qtbot, admin, "typed in a muted room")
    qtbot.waitUntil(lambda: alice.messages["1"].newest_seq() == 2, timeout=WAIT_MS)
    assert changes[shown:] == []
    admin.set_muted("1", False)
    admin.typing("1")
    qtbot.waitUntil(lambda: alice.typists("1") == ["admin"], timeout=WAIT_MS)
    # Leaving the room ends the notice too (it showed "admin is typing…" under
    # "admin left" for the rest of the five seconds).
    admin.close_room("1")
    qtbot.waitUntil(lambda: alice.typists("1") == [], timeout=WAIT_MS)
