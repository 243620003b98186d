"""A member that never reads, in a room receiving 1 MB/s for 30 s: the server's memory stays
bounded, because the reader is cut off once its unsent output passes --max-output-bytes.

The load is paced (one second's worth of messages, then a wait for the next second), which
is what makes it 1 MB/s; what the test asserts does not depend on the pace, only on totals.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from websockets.asyncio.client import connect as ws_connect

from tests.helpers.client import ProtocolClient
from tests.helpers.process import ServerProcess, run_cli
from tests.helpers.timing import TIMEOUT

pytestmark = pytest.mark.slow

MESSAGE_CHARS = 100_000
PER_SECOND = 10  # 10 x 100 kB = 1 MB/s
SECONDS = 30
MAX_OUTPUT = 4 * 2**20  # the server's default --max-output-bytes
# What the server may grow by over the run: the stalled reader's backlog up to the cut-off,
# plus room for the allocator and SQLite's page cache. Unbounded, it would be 30 MB and more.
GROWTH_BOUND = MAX_OUTPUT + 12 * 2**20


def memory_kib(pid: int, field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def reset_peak(pid: int) -> None:
    """Start VmHWM again from the current RSS (Linux: proc(5), clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def admin(data_dir: Path, home: Path, *args: str, stdin: str = "") -> None:
    result = run_cli(["admin", "--data-dir", str(data_dir), *args], home, stdin=stdin)
    assert result.returncode == 0, result.stderr


async def test_a_reader_that_never_reads_cannot_grow_the_servers_memory(tmp_path: Path) -> None:
    data_dir, home = tmp_path / "data", tmp_path / "home"
    admin(data_dir, home, "user", "add", "sender", stdin="sender-pw\n")
    admin(data_dir, home, "user", "add", "stalled", stdin="stalled-pw\n")
    admin(data_dir, home, "room", "add", "Busy")
    server = ServerProcess(data_dir, home, "--max-message-chars", str(MESSAGE_CHARS))
    try:
        stalled = ProtocolClient(await ws_connect(server.url, max_queue=1, open_timeout=TIMEOUT))
        await stalled.login("stalled", "stalled-pw")
        await stalled.join(1)
        stalled.connection.transport.pause_reading()  # from now on it reads nothing
        sender = await ProtocolClient.open(server.url)
        await sender.login("sender", "sender-pw")
        await sender.join(1)
        pid = server.process.pid
        baseline = memory_kib(pid, "VmRSS")
        reset_peak(pid)  # the peak so far is a login's Argon2 work area (64 MiB)

        loop = asyncio.get_running_loop()
        start = loop.time()
        text = "x" * MESSAGE_CHARS
        sent = 0
        for second in range(SECONDS):
            for _ in range(PER_SECOND):
                sent += 1
                await sender.send(command="send", room=1, message=text, client_id=f"c{sent}")
            last = f"c{sent}"
            await sender.expect(lambda f: f.get("client_id") == last)  # noqa: B023 (awaited here)
            sender.seen.clear()  # the test keeps no copies either
            await asyncio.sleep(max(0.0, start + second + 1 - loop.time()))  # pacing

        peak = memory_kib(pid, "VmHWM")
        growth = (peak - baseline) * 1024
        print(f"server memory: {baseline / 1024:.1f} MiB before, peak {peak / 1024:.1f} MiB")
        assert sent * MESSAGE_CHARS >= 30 * 10**6
        assert "stopped reading" in "".join(server.output)
        stalled.connection.transport.resume_reading()
        await asyncio.wait_for(stalled.connection.wait_closed(), TIMEOUT)
        assert growth < GROWTH_BOUND, f"the server grew by {growth / 2**20:.1f} MiB"
        # It still serves: the cut-off reader comes back and catches up by seq.
        back = await ProtocolClient.open(server.url)
        await back.login("stalled", "stalled-pw")
        await back.send(command="history", room=1, limit=1)
        newest = (await back.expect_key("history"))["messages"]
        assert newest[-1]["seq"] == sent
        await back.close()
        await sender.close()
    finally:
        server.kill()
