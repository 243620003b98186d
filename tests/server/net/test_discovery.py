"""DNS-SD between processes over real multicast (loopback): advertise, browse, withdraw.

Names carry a random tag: other servers (other test runs) may advertise on
this host at the same time, and only ours are looked at.
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
from pathlib import Path
from typing import Any

import pytest

from multichat.lan import FoundServer
from multichat.lan import discover as discover_command
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


def test_no_advertise_stays_quiet(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    name = f"Hidden {secrets.token_hex(3)}"
    server = ServerProcess(tmp_path / "data", home, "--no-advertise", "--name", name)
    try:
        # Other servers may advertise on this machine; this one is never among them.
        assert [f for f in discover(home) if f["name"] == name] == []
    finally:
        server.kill()


def test_nothing_found_says_why_and_how_to_connect_instead(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What a network with no server gives: told through ``find``, since this machine's
    network may well hold one (another test's, another Multichat)."""
    heard: list[tuple[float, object]] = []

    async def nobody(seconds: float, interfaces: object) -> list[FoundServer]:
        heard.append((seconds, interfaces))
        return []

    args = argparse.Namespace(timeout=1.5, interface=["127.0.0.1"], json=False)
    assert discover_command.main(args, find=nobody) == 0
    said = capsys.readouterr()
    assert said.out == ""
    assert "within 1.5 s" in said.err and "multicast" in said.err
    assert "ws://HOST:8765" in said.err
    assert heard == [(1.5, ["127.0.0.1"])]
