"""DNS-SD between processes over real multicast (loopback): advertise, browse, withdraw."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from multichat.server.net import discovery, tls
from tests.helpers.process import ServerProcess, run_cli
from tests.helpers.services import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("loopback_multicast")]

ADVERTISED = "advertised on the LAN"


def discover(home: Path) -> list[dict[str, Any]]:
    result = run_cli(["discover", "--timeout", "2", "--interface", "127.0.0.1", "--json"], home)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_instance_names_are_valid_labels() -> None:
    assert discovery.instance_name("chat.example.org", 8765) == "chat example org :8765"
    assert len(discovery.instance_name("x" * 100, 8765).encode()) <= 63
    found = discovery.FoundServer("k", "n", ("fd00::2", "192.0.2.2"), 8765, True, None, "", "/")
    assert found.url == "wss://192.0.2.2:8765"  # IPv4 first
    v6 = discovery.FoundServer("k", "n", ("fd00::2",), 8765, False, None, "", "/chat/")
    assert v6.url == "ws://[fd00::2]:8765/chat/"


def test_a_server_is_found_with_its_record_and_gone_when_stopped(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    server = ServerProcess(tmp_path / "data", home, "--tls", "--name", "Team Chat")
    try:
        wait_until(lambda: ADVERTISED in "".join(server.output), "the record published")
        fingerprint = tls.self_signed(tmp_path / "data" / "tls").fingerprint
        found: list[dict[str, Any]] = []

        def browse() -> bool:
            found[:] = [f for f in discover(home) if f["name"] == "Team Chat"]
            return bool(found)

        wait_until(browse, "the server found")
        (entry,) = found
        assert entry["url"] == f"wss://127.0.0.1:{server.port}"
        assert entry["tls"] is True and entry["fingerprint"] == fingerprint
        assert entry["version"]
    finally:
        code = server.signal(signal.SIGTERM)
        server.kill()  # releases the pipe
    assert code == 0
    assert [f for f in discover(home) if f["name"] == "Team Chat"] == []  # withdrawn


def test_no_advertise_stays_quiet_and_nothing_found_says_why(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    server = ServerProcess(tmp_path / "data", home, "--no-advertise", "--name", "Hidden")
    try:
        assert [f for f in discover(home) if f["name"] == "Hidden"] == []
        result = run_cli(["discover", "--timeout", "1", "--interface", "127.0.0.1"], home)
        assert result.returncode == 0
        assert "multicast" in result.stderr and "ws://HOST:8765" in result.stderr
    finally:
        server.kill()
