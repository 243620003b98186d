"""DNS-SD between processes over real multicast (loopback): advertise, browse, withdraw.

Names carry a random tag: other servers (other test runs) may advertise on
this host at the same time, and only ours are looked at.
"""

from __future__ import annotations

import json
import secrets
import signal
from pathlib import Path
from typing import Any

import pytest

from multichat.server.net import tls
from tests.helpers.process import ServerProcess, run_cli
from tests.helpers.services import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("loopback_multicast")]

ADVERTISED = "advertised on the LAN"


def discover(home: Path) -> list[dict[str, Any]]:
    result = run_cli(["discover", "--timeout", "2", "--interface", "127.0.0.1", "--json"], home)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_server_is_found_with_its_record_and_gone_when_stopped(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    name = f"Team Chat {secrets.token_hex(3)}"
    server = ServerProcess(tmp_path / "data", home, "--tls", "--name", name)
    try:
        wait_until(lambda: ADVERTISED in "".join(server.output), "the record published")
        fingerprint = tls.self_signed(tmp_path / "data" / "tls").fingerprint
        found: list[dict[str, Any]] = []

        def browse() -> bool:
            found[:] = [f for f in discover(home) if f["name"] == name]
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
    assert [f for f in discover(home) if f["name"] == name] == []  # withdrawn


def test_no_advertise_stays_quiet_and_nothing_found_says_why(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    name = f"Hidden {secrets.token_hex(3)}"
    server = ServerProcess(tmp_path / "data", home, "--no-advertise", "--name", name)
    try:
        assert [f for f in discover(home) if f["name"] == name] == []
        result = run_cli(["discover", "--timeout", "1", "--interface", "127.0.0.1"], home)
        assert result.returncode == 0
        assert "multicast" in result.stderr and "ws://HOST:8765" in result.stderr
    finally:
        server.kill()
