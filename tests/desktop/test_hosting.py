"""Hosting a server on a thread: start, first admin, a plain protocol client joins."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from websockets.sync.client import connect

from multichat.desktop.services.hosting import ServerThread
from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ServerError
from tests.helpers.servers import hashing_with


def test_a_hosted_server_serves_the_network(tmp_path: Path, passwords: Passwords) -> None:
    host = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path),
                        make_server=hashing_with(passwords))
    host.start()
    try:
        assert host.running and not host.has_users()
        host.create_admin("boss", "boss-password")
        assert host.has_users()
        with pytest.raises(ServerError, match="accounts already"):
            host.create_admin("boss2", "again-password")
        with connect(f"ws://127.0.0.1:{host.port}") as ws:  # a client of another program
            ws.send(json.dumps({"command": "login", "username": "boss",
                                "password": "boss-password"}))
            reply = json.loads(ws.recv(timeout=10))
            assert reply["login"]["is_superuser"] is True
            assert host.connection_count() == 1
    finally:
        host.stop()
    assert not host.running


def test_a_busy_port_is_reported(tmp_path: Path, passwords: Passwords) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        host = ServerThread(
            ServerConfig(host="127.0.0.1", port=taken.getsockname()[1], data_dir=tmp_path),
            make_server=hashing_with(passwords),
        )
        with pytest.raises(OSError, match="address already in use"):
            host.start()
    assert not host.running
    # The failed start released the database: hosting again works.
    again = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path),
                         make_server=hashing_with(passwords))
    again.start()
    again.stop()


def test_hosting_works_under_the_apps_qt_event_loop_policy(
    tmp_path: Path, passwords: Passwords
) -> None:
    """qasync.run installs a policy whose loops are Qt loops; the server thread needs its own."""
    import asyncio

    import qasync

    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(qasync.DefaultQEventLoopPolicy())
    try:
        host = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path),
                            make_server=hashing_with(passwords))
        host.start()
        assert host.running
        host.stop()
    finally:
        asyncio.set_event_loop_policy(previous)
