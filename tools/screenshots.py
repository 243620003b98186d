"""Render the app's main screens to docs/screenshots/*.png from the real widgets.

    .venv/bin/python tools/screenshots.py [OUTPUT_DIR]

Hosts a server on a thread with a few people, rooms and a day and a half of
history, logs in through the real ChatClient and takes, in the light and the
dark theme: the connect screen, the main window with three rooms open (one
with unread messages under a "New messages" divider, one with a 60-character
title), the same window 480 px wide, and the admin dialog. Then a
conversation in Design: a reply, an edited and a deleted message, reactions,
someone typing and a reply being written (``conversation``); a message's
context menu over its hover bar (``context-menu``); and a direct conversation
with Alice (``direct-message``); search (Ctrl+Shift+F) for "resume" across
rooms and the conversation, accents and all (``search``, and 480 px wide:
``search-narrow``). Last, files in Design: Chen's mockup as a
thumbnail and a PDF as a card with Save, Maria about to send a file she
attached (``files``, and ``files-narrow`` at 480 px), and the mockup in the
image viewer (``image-viewer``). Offscreen: no display needed. Files:
NAME.png (light) and NAME-dark.png.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtCore import QBuffer, QIODevice, QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QLinearGradient, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from multichat.desktop import theme
from multichat.desktop.client import ChatClient
from multichat.desktop.client.uploads import Attachment
from multichat.desktop.models.search_results import Status
from multichat.desktop.resources import app_icon
from multichat.desktop.services.hosting import ServerThread
from multichat.desktop.services.settings import RecentServer
from multichat.desktop.widgets.admin_dialog import AdminDialog
from multichat.desktop.widgets.connect_window import ConnectWindow
from multichat.desktop.widgets.main_window import MainWindow
from multichat.desktop.workspace import Workspace
from multichat.lan import FoundServer
from multichat.protocol import MsgType
from multichat.server.chat.passwords import cheap_passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from multichat.server.store.records import NewMessage

PEOPLE = {"maria": True, "alice": False, "bob": False, "chen": False, "dana": False,
          "eli": False, "farah": False}
LONG_TITLE = "Quarterly planning for the infrastructure migration, phase 2"  # 60 characters
ROOMS = (("Lobby", False), ("Design", False), ("Staff room", True), ("Random", False),
         (LONG_TITLE, False))
# Stored with yesterday's times: (minutes before "now", author, text).
YESTERDAY = [
    (26 * 60, "alice", "Morning all! Stand-up in 10 minutes."),
    (26 * 60 - 1, "bob", "I'll be two minutes late, coffee machine queue ☕"),
    (25 * 60, "chen", "The release notes draft is at https://example.org/notes/2026-11"),
    (25 * 60 - 1, "chen", "Comments welcome in the doc or here."),
]
# Sent live today, in order: the reader has read up to the first two.
TODAY = [
    ("maria", "Thanks Chen, reading it now."),
    ("alice", "Reminder: the <b>build</b> tag is escaped, no HTML here <img src=x>"),
    ("farah", "مرحبا بالجميع، الاجتماع بعد الظهر"),
    ("bob", "Can someone review my merge request before lunch? www.example.org/mr/42"),
    ("bob", "It's small, promise 🙏"),
]
READ_UP_TO = len(YESTERDAY) + 2
DESIGN = [
    ("chen", "New icons are in the shared folder."),
    ("alice", "They look great. Could the chat bubble be a bit rounder?"),
]
# The conversation shots, in Design after the main ones (their unread counts stay as
# they were): a reply to Alice, an edit, a deleted message, reactions, Chen typing.
CHEN_REPLY = "Sure, rounder it is. New version in an hour."
MARIA_BEFORE, MARIA_AFTER = "Can we ship them on Tuesday?", "Can we ship them on Wednesday?"
BOB_DELETED = "oops, wrong room"
REACTIONS = (("alice", "👍"), ("bob", "👍"), ("eli", "🎉"), ("maria", "👍"))
DIRECT = [
    ("alice", "Hi Maria, got a minute for the budget sheet?"),
    ("maria", "Sure, after the stand-up."),
    ("alice", "Thanks! I'll send the link."),
]
# Said after the other shots (they stay as they were), then searched for: "resume"
# finds "Résumé" and "resume" alike, in rooms and in the conversation with Alice.
SEARCH_QUERY = "resume"
SEARCHED = [
    ("4", "eli", "My Résumé is finally done, thanks for all the feedback!"),
    ("2", "chen", "Let's resume the icon review after lunch."),
]
SEARCHED_DIRECT = ("alice", "Can we resume the budget sheet tomorrow morning?")


async def until(condition: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the screenshot scene did not come together")
        await asyncio.sleep(0.02)


def seed(host: ServerThread) -> None:
    passwords = cheap_passwords()

    async def create(server: ChatServer) -> None:
        store = server.store
        assert store is not None
        ids = {}
        for name, superuser in PEOPLE.items():
            user = await asyncio.to_thread(store.create_user, name, passwords.hash(f"{name}-pw"),
                                           is_superuser=superuser, is_staff=superuser)
            ids[name] = user.id
        for title, staff_only in ROOMS:
            await asyncio.to_thread(store.create_room, title, staff_only=staff_only)
        now_ms = int(time.time() * 1000)
        await asyncio.to_thread(store.append_messages, [
            NewMessage(room_id=1, user_id=ids[author], username=author,
                       msg_type=MsgType.MESSAGE, text=text, client_id=None,
                       ts_ms=now_ms - minutes * 60_000)
            for minutes, author, text in YESTERDAY
        ])

    host.call(create)


async def client_for(host: ServerThread, name: str) -> ChatClient:
    client = ChatClient()
    client.open(f"ws://127.0.0.1:{host.port}", name, password=f"{name}-pw")
    await until(lambda: client.state.value == "online")
    return client


async def post(client: ChatClient, room: str, lines: list[tuple[str, str]], who: str) -> None:
    client.join(room)
    await until(joined(client, room))
    for author, text in lines:
        if author == who:
            client.send(room, text)
    await until(lambda: len(client.outbox) == 0)


def joined(client: ChatClient, room: str) -> Callable[[], bool]:
    return lambda: room in client.rooms and client.rooms[room].joined


def grab(widget: QWidget, path: Path) -> None:
    if isinstance(widget, MainWindow):
        # Offscreen no window is ever active (Qt says so on each activation change);
        # as for a person looking at it, the room in view counts as read.
        widget.workspace.set_window_active(True)
    widget.grab().save(str(path))
    print(f"wrote {path}")


@dataclass
class Scene:
    others: dict[str, ChatClient]
    maria: ChatClient
    connect: ConnectWindow
    window: MainWindow
    workspace: Workspace


async def scene(out: Path, switcher: theme.ThemeSwitcher) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="multichat-shots-"))
    host = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=workdir, advertise=False),
                        make_server=partial(ChatServer, passwords=cheap_passwords()))
    host.start()
    try:
        seed(host)
        staged = await stage(host)
        await shoot(staged, out, switcher)
        for client in (*staged.others.values(), staged.maria):
            await client.close()
    finally:
        await asyncio.to_thread(host.stop)


async def stage(host: ServerThread) -> Scene:
    """Everyone in place: Maria back after a day, unread rooms, people joining."""
    others = {name: await client_for(host, name) for name in PEOPLE if name != "maria"}
    for author, text in TODAY[:2]:
        if author != "maria":
            await post(others[author], "1", [(author, text)], author)
    await post(others["chen"], "2", DESIGN[:1], "chen")

    icon = app_icon()
    connect = ConnectWindow(icon)
    connect.join.set_recent([RecentServer("ws://192.168.1.20:8765", "maria")])
    # What the LAN list shows when two servers announce themselves.
    for key, name, address, tls in (("a", "Design team", "192.168.1.20", False),
                                    ("b", "Front desk", "192.168.1.34", True)):
        connect.join.found.model.upsert(FoundServer(
            key, name, (address,), 8765, tls, "0B:6E:71:24" if tls else None, "0.1.0", "/"))
    connect.resize(560, 640)
    connect.show()

    maria = ChatClient()
    workspace = Workspace(maria)
    # Maria was here yesterday and read up to Farah's greeting.
    workspace.read_positions_from(lambda room: READ_UP_TO if room == "1" else None)
    window = MainWindow(workspace, icon)
    maria.stateChanged.connect(window.set_connection_state)
    maria.loggedIn.connect(lambda account, _token: window.set_account(account))
    # As the controller does: a direct conversation is titled by its other members.
    maria.roomJoined.connect(
        lambda room, title: window.set_room_title(room, workspace.title(room) or title))
    window.resize(1100, 680)
    window.show()
    maria.open(f"ws://127.0.0.1:{host.port}", "maria", password="maria-pw")
    await until(lambda: maria.state.value == "online")
    maria.refresh_rooms()
    await until(lambda: workspace.rooms.rowCount() == len(ROOMS))
    # Unread while she was away: the rest of today's Lobby.
    for author, text in TODAY[2:]:
        await post(others[author], "1", [(author, text)], author)
    for room in ("5", "2", "1"):
        workspace.open_room(room)
        await until(joined(maria, room))
    window.show_room("1")
    await until(lambda: workspace.messages["1"].rowCount() >= len(YESTERDAY) + len(TODAY))
    # People coming in while the room is open: one collapsed line.
    for name in ("dana", "eli"):
        others[name].join("1")
        await until(joined(others[name], "1"))
    others["bob"].send("1", "@maria could you look at the deploy checklist?")
    await post(others["alice"], "2", DESIGN[1:], "alice")
    await until(lambda: workspace.rooms.total_unread() >= 1)
    window.views["1"].input.setPlainText("Sure, on it")
    return Scene(others, maria, connect, window, workspace)


def seq_of(workspace: Workspace, room: str, text: str) -> int | None:
    model = workspace.messages[room]
    for position in range(model.rowCount()):
        row = model.row_at(position)
        if row.text == text and row.seq is not None:
            return row.seq
    return None


async def seq_when_in(workspace: Workspace, room: str, text: str) -> int:
    await until(lambda: seq_of(workspace, room, text) is not None)
    seq = seq_of(workspace, room, text)
    assert seq is not None
    return seq


async def stage_conversation(staged: Scene) -> None:
    """Design: Chen answers Alice, Maria edits, Bob takes a message back, reactions."""
    others, workspace, maria = staged.others, staged.workspace, staged.maria
    staged.window.show_room("2")
    for name in ("bob", "eli"):
        others[name].join("2")
        await until(joined(others[name], "2"))
    icons = await seq_when_in(workspace, "2", DESIGN[0][1])
    rounder = await seq_when_in(workspace, "2", DESIGN[1][1])
    others["chen"].send("2", CHEN_REPLY, reply_to=rounder)
    maria.send("2", MARIA_BEFORE)
    others["bob"].send("2", BOB_DELETED)
    mine = await seq_when_in(workspace, "2", MARIA_BEFORE)
    oops = await seq_when_in(workspace, "2", BOB_DELETED)
    maria.edit("2", mine, MARIA_AFTER)
    others["bob"].delete("2", oops)
    for name, emoji in REACTIONS:
        client = maria if name == "maria" else others[name]
        client.react("2", icons, emoji)
    model = workspace.messages["2"]

    def all_in() -> bool:
        liked, gone = model.message(icons), model.message(oops)
        return (liked is not None and sum(map(len, liked.reactions.values())) == len(REACTIONS)
                and gone is not None and gone.deleted
                and seq_of(workspace, "2", MARIA_AFTER) is not None)

    await until(all_in)
    view = staged.window.views["2"]
    view.start_reply(icons)
    view.input.setPlainText("The bubble looks friendlier already")


async def stage_direct(staged: Scene) -> str | None:
    """Alice writes to Maria directly; the conversation opens in its own tab. None when
    the server does not open direct conversations."""
    workspace, alice = staged.workspace, staged.others["alice"]
    before = set(workspace.messages)
    workspace.open_dm(["alice"])
    try:
        await until(lambda: len(set(workspace.messages) - before) == 1, within=5.0)
    except TimeoutError:
        return None
    room = next(iter(set(workspace.messages) - before))
    await until(joined(staged.maria, room))
    alice.join(room)  # a member: she may join it by its id, listed or not yet
    await until(joined(alice, room))
    for author, text in DIRECT:
        (staged.maria if author == "maria" else alice).send(room, text)
        await until(lambda t=text: seq_of(workspace, room, t) is not None)  # type: ignore[misc]
    staged.window.show_room(room)
    return room


FILES_TEXT = "Mockups for the new onboarding, and the icon guidelines"
PDF_NAME = "Icon guidelines v3.pdf"


def mockup_png() -> bytes:
    """A made-up design mockup: a gradient screen with a card and a button."""
    image = QImage(960, 600, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    gradient = QLinearGradient(0, 0, 960, 600)
    gradient.setColorAt(0, QColor("#6366f1"))
    gradient.setColorAt(1, QColor("#06b6d4"))
    painter.fillRect(image.rect(), gradient)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#ffffff"))
    painter.drawRoundedRect(QRectF(230, 110, 500, 380), 28, 28)
    painter.setBrush(QColor("#e0e7ff"))
    painter.drawEllipse(QRectF(430, 150, 100, 100))
    painter.setBrush(QColor("#1d4ed8"))
    painter.drawRoundedRect(QRectF(330, 400, 300, 56), 28, 28)
    painter.setPen(QColor("#1f2937"))
    font = QFont()
    font.setPixelSize(34)
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(QRectF(230, 270, 500, 60), int(Qt.AlignmentFlag.AlignCenter),
                     "Welcome aboard")
    painter.setPen(QColor("#ffffff"))
    font.setPixelSize(22)
    painter.setFont(font)
    painter.drawText(QRectF(330, 400, 300, 56), int(Qt.AlignmentFlag.AlignCenter), "Get started")
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]
    return bytes(buffer.data().data())


async def stage_files(staged: Scene) -> None:
    """Design: Chen shares a mockup and a PDF; Maria has a spreadsheet ready to send."""
    workspace, chen = staged.workspace, staged.others["chen"]
    staged.window.show_room("2")
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 1400
    chen.send("2", FILES_TEXT, None, [Attachment.from_bytes("onboarding-mockup.png",
                                                            mockup_png()),
                                      Attachment.from_bytes(PDF_NAME, pdf)])
    await seq_when_in(workspace, "2", FILES_TEXT)
    model = workspace.messages["2"]
    row = model.row_at(model.position_of(seq_of(workspace, "2", FILES_TEXT) or 0) or 0)
    image = next(f for f in row.files if f.is_image)
    await until(lambda: staged.window.files.thumbnail(image) is not None)
    view = staged.window.views["2"]
    view.staged.add([Attachment.from_bytes("Q3 budget.xlsx", bytes(48_000))])
    view.input.setPlainText("Budget sheet attached")


async def shoot_files(staged: Scene, out: Path, switcher: theme.ThemeSwitcher) -> None:
    await stage_files(staged)
    window, view = staged.window, staged.window.views["2"]
    for width, height, name in ((1100, 680, "files"), (480, 760, "files-narrow")):
        window.resize(width, height)
        for choice, suffix in THEMES:
            switcher.set_choice(choice)
            await settle()
            view.messages.scroll_to_latest()
            await settle()
            grab(window, out / f"{name}{suffix}.png")
    window.resize(1100, 680)
    await settle()
    model = staged.workspace.messages["2"]
    row = model.row_at(model.position_of(seq_of(staged.workspace, "2", FILES_TEXT) or 0) or 0)
    view.view_image(next(f for f in row.files if f.is_image))
    viewer = view.viewer
    assert viewer is not None
    await until(lambda: viewer.image is not None)
    viewer.resize(720, 520)
    for choice, suffix in THEMES:
        switcher.set_choice(choice)
        await settle()
        grab(viewer, out / f"image-viewer{suffix}.png")
    viewer.close()


def grab_with_popup(window: QWidget, popup: QWidget, path: Path) -> None:
    """The window with a popup (a menu) drawn where it shows: grab() leaves popups out."""
    shot = window.grab()
    painter = QPainter(shot)
    ratio = shot.devicePixelRatio()
    where = popup.mapToGlobal(QPoint(0, 0)) - window.mapToGlobal(QPoint(0, 0))
    menu: QPixmap = popup.grab()
    painter.drawPixmap(where, menu)
    painter.end()
    shot.setDevicePixelRatio(ratio)
    shot.save(str(path))
    print(f"wrote {path}")


THEMES = ((theme.ThemeChoice.LIGHT, ""), (theme.ThemeChoice.DARK, "-dark"))


async def shoot(staged: Scene, out: Path, switcher: theme.ThemeSwitcher) -> None:
    """Each screen in the light theme, then the dark one, the main window also 480 px wide;
    then the conversation, the context menu and the direct conversation in both."""
    await shoot_main(staged, out, switcher)
    await stage_conversation(staged)
    window, view = staged.window, staged.window.views["2"]
    window.resize(1100, 680)
    for choice, suffix in THEMES:
        switcher.set_choice(choice)
        view.messages.scroll_to_latest()
        staged.others["chen"].typing("2")  # shown for a few seconds: anew for each shot
        await until(lambda: bool(view.typing_line.full_text()))
        await settle()
        grab(window, out / f"conversation{suffix}.png")
    view.cancel_compose()
    view.input.clear()
    model = staged.workspace.messages["2"]
    own = model.index_of(await seq_when_in(staged.workspace, "2", MARIA_AFTER))
    for choice, suffix in THEMES:
        switcher.set_choice(choice)
        await settle()
        view.messages.hover(own)
        rect = view.messages.visualRect(own)
        view.messages.menuRequested.emit(
            own, view.messages.viewport().mapToGlobal(rect.center() + QPoint(80, 0)), False)
        await settle()
        assert view.menu is not None
        grab_with_popup(window, view.menu, out / f"context-menu{suffix}.png")
        view.menu.close()
    view.messages.hover(None)
    direct = await stage_direct(staged)
    if direct is None:
        print("no direct-message shots: the server did not open the conversation")
    else:
        for choice, suffix in THEMES:
            switcher.set_choice(choice)
            await settle()
            grab(window, out / f"direct-message{suffix}.png")
        await shoot_search(staged, out, switcher, direct)
    await shoot_files(staged, out, switcher)


async def shoot_search(staged: Scene, out: Path, switcher: theme.ThemeSwitcher,
                       direct: str) -> None:
    """Ctrl+Shift+F "resume": results from a room, another room and the conversation."""
    others, window = staged.others, staged.window
    for room, name, text in SEARCHED:
        await post(others[name], room, [(name, text)], name)
    others["alice"].send(direct, SEARCHED_DIRECT[1])
    await until(lambda: seq_of(staged.workspace, direct, SEARCHED_DIRECT[1]) is not None)
    window.show_room("1")
    panel = window.search_panel
    for size, name in (((1100, 680), "search"), ((480, 760), "search-narrow")):
        window.resize(*size)
        for choice, suffix in THEMES:
            switcher.set_choice(choice)
            await settle()
            window.search_everywhere()
            panel.query.setText(SEARCH_QUERY)
            panel.search_now(again=True)
            await until(lambda: panel.model.status is Status.DONE
                        and panel.model.rowCount() >= len(SEARCHED) + 1)
            await settle()
            grab_with_popup(window, panel, out / f"{name}{suffix}.png")
            panel.close()
    window.resize(1100, 680)


async def shoot_main(staged: Scene, out: Path, switcher: theme.ThemeSwitcher) -> None:
    window = staged.window
    admin = AdminDialog(staged.maria, window)
    for choice in (theme.ThemeChoice.LIGHT, theme.ThemeChoice.DARK):
        switcher.set_choice(choice)
        suffix = "" if choice is theme.ThemeChoice.LIGHT else "-dark"
        grab(staged.connect, out / f"connect{suffix}.png")
        window.resize(1100, 680)
        await settle()
        grab(window, out / f"main-window{suffix}.png")
        window.resize(480, 760)
        await settle()
        grab(window, out / f"main-window-narrow{suffix}.png")
        window.resize(1100, 680)
        admin.show()
        await until(lambda: admin.users_tab.table.rowCount() == len(PEOPLE))
        await until(lambda: admin.rooms_tab.table.rowCount() == len(ROOMS))
        admin.rooms_tab.table.selectRow(4)
        grab(admin, out / f"admin-dialog{suffix}.png")
        admin.hide()


async def settle() -> None:
    """A resize relays out the window and its message rows over a few event-loop turns."""
    await asyncio.sleep(0.3)


def main() -> int:
    default = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    switcher = theme.install(app, theme.ThemeChoice.LIGHT)
    qasync.run(scene(out, switcher))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
