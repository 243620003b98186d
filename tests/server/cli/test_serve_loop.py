"""``multichat serve`` runs on uvloop where it can; ``--loop asyncio`` keeps the standard loop."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from tests.helpers.client import two_in_the_lobby
from tests.helpers.process import ServerProcess, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture
def seeded(data_dir: Path, home: Path) -> Path:
    for args, stdin in ((("user", "add", "alice"), "alice-password\n"),
                        (("user", "add", "bob"), "bob-password\n"),
                        (("room", "add", "Lobby"), None)):
        result = run_cli(["admin", "--data-dir", str(data_dir), *args], home, stdin=stdin)
        assert result.returncode == 0, result.stderr
    return data_dir


async def round_trip(server: ServerProcess) -> None:
    """Two clients, one message between them, then a clean stop by SIGTERM."""
    alice, bob = await two_in_the_lobby(server.url, ("alice", "alice-password"),
                                        ("bob", "bob-password"))
    for n in range(20):
        await bob.send(command="send", room=1, message=f"m{n}", client_id=f"c{n}")
    seqs = [(await alice.expect(lambda f: f.get("msg_type") == 0))["seq"] for _ in range(20)]
    assert seqs == list(range(1, 21))
    assert await asyncio.to_thread(server.signal, signal.SIGTERM) == 0
    assert await alice.closed() == 1001


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not run on Windows")
async def test_serve_runs_on_uvloop_by_default(seeded: Path, home: Path) -> None:
    uvloop = pytest.importorskip("uvloop")
    server = ServerProcess(seeded, home)
    try:
        await round_trip(server)
        log = server.log()
    finally:
        server.kill()
    assert f"event loop: uvloop {uvloop.__version__}" in log
    assert "Traceback" not in log


@pytest.mark.parametrize("how", ["flag", "env"])
async def test_the_standard_loop_when_asked(seeded: Path, home: Path, how: str) -> None:
    if how == "flag":
        server = ServerProcess(seeded, home, "--loop", "asyncio")
    else:
        server = ServerProcess(seeded, home, env={"MULTICHAT_LOOP": "asyncio"})
    try:
        await round_trip(server)
        log = server.log()
    finally:
        server.kill()
    assert "event loop: asyncio (standard library)" in log
    assert "uvloop" not in log
    assert "Traceback" not in log


def test_an_unknown_loop_is_a_usage_error(seeded: Path, home: Path) -> None:
    result = run_cli(["serve", "--data-dir", str(seeded), "--loop", "trio"], home)
    assert result.returncode == 2
    assert "loop must be one of auto, uvloop, asyncio" in result.stderr
