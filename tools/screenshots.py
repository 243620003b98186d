"""Render the app's main screens to docs/screenshots/*.png from the real widgets.

    .venv/bin/python tools/screenshots.py [OUTPUT_DIR]

Hosts a server on a thread with a few people, rooms and some history, logs in
through the real ChatClient and takes the connect screen, the main window
with two rooms open, and the admin dialog. Offscreen: no display needed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import QApplication, QWidget

from multichat.desktop.client import ChatClient
from multichat.desktop.resources import app_icon, style_sheet
from multichat.desktop.services.hosting import ServerThread
from multichat.desktop.services.settings import RecentServer
from multichat.desktop.widgets.admin_dialog import AdminDialog
from multichat.desktop.widgets.connect_window import ConnectWindow
from multichat.desktop.widgets.main_window import MainWindow
from multichat.desktop.workspace import Workspace
from multichat.lan import FoundServer
from multichat.server.chat.passwords import cheap_passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer

PEOPLE = {"maria": True, "alice": False, "bob": False, "chen": False}
HISTORY = [
    ("alice", "Morning all! Stand-up in 10 minutes."),
    ("bob", "I'll be two minutes late, coffee machine queue ☕"),
    ("chen", "The release notes draft is at https://example.org/notes/2026-11"),
    ("maria", "Thanks Chen, reading it now."),
    ("alice", "Reminder: the <b>build</b> tag is escaped, no HTML here <img src=x>"),
    ("bob", "Can someone review my merge request before lunch?"),
]
DESIGN = [
    ("chen", "New icons are in the shared folder."),
    ("alice", "They look great. Could the chat bubble be a bit rounder?"),
]


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
        for name, superuser in PEOPLE.items():
            await asyncio.to_thread(store.create_user, name, passwords.hash(f"{name}-pw"),
                                    is_superuser=superuser, is_staff=superuser)
        for title, staff_only in (("Lobby", False), ("Design", False), ("Staff room", True),
                                  ("Random", False)):
            await asyncio.to_thread(store.create_room, title, staff_only=staff_only)

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
    QApplication.processEvents()
    widget.grab().save(str(path))
    print(f"wrote {path}")


async def scene(out: Path) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="multichat-shots-"))
    host = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=workdir, advertise=False),
                        make_server=partial(ChatServer, passwords=cheap_passwords()))
    host.start()
    try:
        seed(host)
        others = {name: await client_for(host, name) for name in ("alice", "bob", "chen")}
        for room, lines in (("1", HISTORY), ("2", DESIGN)):
            for author, text in lines:
                if author == "maria":
                    continue
                await post(others[author], room, [(author, text)], author)

        icon = app_icon()
        connect = ConnectWindow(icon)
        connect.join.set_recent([RecentServer("ws://192.168.1.20:8765", "maria")])
        # What the LAN list shows when two servers announce themselves.
        for key, name, address, tls in (("a", "Design team", "192.168.1.20", False),
                                        ("b", "Front desk", "192.168.1.34", True)):
            connect.join.found.model.upsert(FoundServer(
                key, name, (address,), 8765, tls, "0B:6E:71:24" if tls else None, "0.1.0", "/"))
        connect.resize(520, 560)
        connect.show()
        grab(connect, out / "connect.png")

        maria = ChatClient()
        workspace = Workspace(maria)
        window = MainWindow(workspace, icon)
        maria.stateChanged.connect(window.set_connection_state)
        maria.loggedIn.connect(lambda account, _token: window.set_account(account))
        maria.roomJoined.connect(window.set_room_title)
        window.resize(1100, 680)
        window.show()
        maria.open(f"ws://127.0.0.1:{host.port}", "maria", password="maria-pw")
        await until(lambda: maria.state.value == "online")
        maria.refresh_rooms()
        await until(lambda: workspace.rooms.rowCount() == 4)
        for room in ("2", "1"):
            workspace.open_room(room)
            await until(joined(maria, room))
        window.show_room("1")
        await until(lambda: workspace.messages["1"].rowCount() >= len(HISTORY))
        maria.send("1", "Thanks Chen, reading it now.")
        others["bob"].send("1", "@maria could you look at the deploy checklist?")
        others["chen"].send("2", "Updated the mock-ups, see the Design board.")
        await until(lambda: len(maria.outbox) == 0)
        await until(lambda: workspace.rooms.total_unread() >= 1)
        await asyncio.sleep(0.2)  # let the views lay out the last rows
        window.views["1"].input.setPlainText("Sure, on it")
        grab(window, out / "main-window.png")

        admin = AdminDialog(maria, window)
        admin.show()
        await until(lambda: admin.users_tab.table.rowCount() == len(PEOPLE))
        await until(lambda: admin.rooms_tab.table.rowCount() == 4)
        admin.rooms_tab.table.selectRow(2)
        grab(admin, out / "admin-dialog.png")

        for client in (*others.values(), maria):
            await client.close()
    finally:
        await asyncio.to_thread(host.stop)


def main() -> int:
    default = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyleSheet(style_sheet())
    qasync.run(scene(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
