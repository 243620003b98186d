"""What ``multichat serve`` writes about connections, at the default level and with -v."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
import websockets

from tests.helpers.process import ServerProcess


@pytest.mark.parametrize("verbose", [True, False], ids=["verbose", "default"])
async def test_with_v_each_connection_is_one_line_in_and_one_out_naming_its_address(
        tmp_path: Path, verbose: bool) -> None:
    home = tmp_path / "home"
    home.mkdir()
    server = ServerProcess(tmp_path / "data", home, *(["-v"] if verbose else []))
    try:
        async with websockets.connect(server.url) as ws:
            await ws.send('{"command": "ping"}')
            assert "pong" in await ws.recv()
            await ws.close(reason="bye\nforged line")
        assert server.signal(signal.SIGINT) == 0
    finally:
        server.kill()
    log = server.log()
    assert "server listening" not in log  # websockets' own, which repeated ours
    assert not re.search(r"INFO +connection (open|closed)$", log, re.MULTILINE)  # no address
    opened = re.findall(r"connection from 127\.0\.0\.1 open$", log, re.MULTILINE)
    closed = re.findall(r"connection from 127\.0\.0\.1 closed after [\d.]+ s "
                        r"\(1000 'bye\\nforged line'\)$", log, re.MULTILINE)
    if verbose:
        assert len(opened) == 1 and len(closed) == 1, log
        assert "\nforged line" not in log  # the peer's reason is quoted, on its one line
    else:
        assert not opened and not closed, log
