"""The LAN list, driven by real zeroconf events over loopback multicast.

Names carry a random tag: other servers may advertise on this host meanwhile.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from multichat.desktop.models.found_servers import FoundServerModel, FoundServerRole
from multichat.desktop.services.discovery import LanBrowser
from multichat.desktop.services.hosting import ServerThread
from multichat.lan import FoundServer
from multichat.server.chat.passwords import cheap_passwords
from multichat.server.config import ServerConfig
from tests.desktop.helpers import WAIT_MS
from tests.helpers.servers import hashing_with

# Probing and announcing take a few seconds on a quiet network.
DISCOVERY_MS = WAIT_MS * 3


def found(key: str, name: str, port: int = 8765) -> FoundServer:
    return FoundServer(key, name, ("192.0.2.7",), port, True, "AB:CD", "0.1.0", "/")


def test_the_model_keeps_one_row_per_server_sorted_by_name() -> None:
    model = FoundServerModel()
    model.upsert(found("b", "beta"))
    model.upsert(found("a", "Alpha"))
    model.upsert(found("b", "beta", port=9000))  # the same server, restarted elsewhere
    assert [s.name for s in model.servers()] == ["Alpha", "beta"]
    assert model.index(1).data(FoundServerRole.Url) == "wss://192.0.2.7:9000"
    assert model.index(0).data() == "Alpha — wss://192.0.2.7:8765 · TLS"
    model.remove("a")
    model.remove("unknown")  # a record we never resolved
    assert [s.key for s in model.servers()] == ["b"]


@pytest.mark.usefixtures("loopback_multicast")
def test_servers_appear_with_their_record_and_go_when_they_stop(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    model = FoundServerModel()
    browser = LanBrowser(interfaces=["127.0.0.1"])
    browser.serverFound.connect(model.upsert)
    browser.serverLost.connect(model.remove)
    starting = qloop.create_task(browser.start())
    qtbot.waitUntil(starting.done, timeout=WAIT_MS)
    assert browser.running and browser.error is None
    name = f"Found me {secrets.token_hex(3)}"
    host = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "h",
                                     tls=True, name=name),
                        make_server=hashing_with(cheap_passwords()))
    host.start()
    try:
        qtbot.waitUntil(lambda: any(s.name == name for s in model.servers()),
                        timeout=DISCOVERY_MS)
        (server,) = [s for s in model.servers() if s.name == name]
        assert server.url == f"wss://127.0.0.1:{host.port}"
        assert server.tls and server.fingerprint == host.fingerprint
    finally:
        host.stop()
    qtbot.waitUntil(lambda: all(s.name != name for s in model.servers()),
                    timeout=DISCOVERY_MS)  # withdrawn: the row goes
    stopping = qloop.create_task(browser.stop())
    qtbot.waitUntil(stopping.done, timeout=WAIT_MS)
    assert not browser.running


DOOMED = """
import asyncio
import sys
from multichat.lan import Advertiser, Announcement

async def main():
    advertiser = Advertiser(Announcement(sys.argv[1], 9, ("127.0.0.1",), False, None),
                            ["127.0.0.1"], ttl=2)
    advertiser.start()
    await advertiser.registered.wait()
    print("up", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


@pytest.mark.usefixtures("loopback_multicast")
def test_a_server_that_dies_without_a_goodbye_leaves_the_list(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    model = FoundServerModel()
    browser = LanBrowser(interfaces=["127.0.0.1"], recheck_interval=0.5)
    browser.serverFound.connect(model.upsert)
    browser.serverLost.connect(model.remove)
    starting = qloop.create_task(browser.start())
    qtbot.waitUntil(starting.done, timeout=WAIT_MS)
    name = f"Doomed {secrets.token_hex(3)}"
    doomed = subprocess.Popen([sys.executable, "-c", DOOMED, name], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert doomed.stdout is not None and doomed.stdout.readline().strip() == "up"
        qtbot.waitUntil(lambda: any(s.name == name for s in model.servers()),
                        timeout=DISCOVERY_MS)
    finally:
        doomed.send_signal(signal.SIGKILL)  # no goodbye packets
        doomed.wait()
        assert doomed.stdout is not None
        doomed.stdout.close()
    qtbot.waitUntil(lambda: all(s.name != name for s in model.servers()),
                    timeout=DISCOVERY_MS)
    stopping = qloop.create_task(browser.stop())
    qtbot.waitUntil(stopping.done, timeout=WAIT_MS)
