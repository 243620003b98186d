"""The connection storm: every client of a server comes back at once.

    .venv/bin/python -m bench --only storm [--quick]

10,000 accounts (1,000 with ``--quick``), each with a saved login (a token)
and a room of 100 members that got a few messages since the client last saw
it. A probe connects and logs in first, then pings every 15 ms. At one
instant all clients connect: each logs in by token, rejoins its room with
``since`` and reads its catch-up. Measured: when the last client was in,
how many failed (refused, errors, timeouts), the probe's round trips
meanwhile, and the server's CPU and memory.

The server runs with its default limits and, on Linux, ``--limit-loopback``: the
per-address connection limit (32) then applies to the bench's loopback
addresses as to any other, and the clients come from enough of them
(``PER_ADDRESS`` each, from 127.1.0.1 on) to stay under it, as 10,000
people behind their own addresses would. The clients are spread over
several processes (``PER_PROCESS`` each): every process's open files stay
under common hard limits (``ulimit -Hn`` of 4,096), and each source
address has its own ephemeral ports, so none runs short.

With ``BENCH_STORM_PROBE=1`` in the environment the server runs with the
stall probe (bench/stall_probe: a tick every 2 ms, which costs it a little
CPU), and the result adds, from the storm's start, when each full collection
ran and how long, when the heap was frozen, and the loop's stalls over 20 ms.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import profile as bench_profile
from bench.load import percentile, server_cpu
from multichat.protocol import MsgType
from multichat.server.store import Store
from multichat.server.store.records import NewMessage

ROOM_SIZE = 100  # one room of 10,000 would make each join a notice to all before it
MESSAGES_PER_ROOM = 20
MISSED = 5  # client n missed 1 + n % MISSED messages of its room
PER_PROCESS = 2_500
PER_ADDRESS = 25  # under the default --max-connections-per-address of 32
PING_INTERVAL = 0.015
START_LEAD = 0.5  # seconds from the cue to the storm, for every process to be waiting
RESULTS = Path(__file__).resolve().parent / "results"
PROBE_DIR = Path(__file__).resolve().parent / "stall_probe"


def clients_per_process() -> int:
    """``PER_PROCESS``, or fewer where the hard limit of open files is lower (each
    process raises its soft limit to it; a few dozen files are Python's own)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        return PER_PROCESS
    return max(100, min(PER_PROCESS, hard - 100))


def seed_history(data_dir: Path, rooms: int, per_room: int) -> None:
    """``per_room`` messages in each room, stored as the server stores them (seq 1..N)."""
    store = Store.open_data_dir(data_dir)
    try:
        store.append_messages([
            NewMessage(room, 1, "u0", MsgType.MESSAGE, f"while you were away {n}", None, n)
            for room in range(1, rooms + 1) for n in range(per_room)])
    finally:
        store.close()


def net_counters() -> dict[str, int]:
    """The kernel's TCP counters of this network namespace (/proc/net/netstat)."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    counters: dict[str, int] = {}
    for header, values in zip(lines[::2], lines[1::2], strict=True):
        prefix = header.split(":")[0]
        counters.update({f"{prefix}.{k}": int(v) for k, v in
                         zip(header.split()[1:], values.split()[1:], strict=True)})
    return counters


def memory_kib(pid: int) -> dict[str, int]:
    """The process's resident memory now and at its peak."""
    fields = dict(line.split(":", 1) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"rss_kib": int(fields["VmRSS"].split()[0]), "peak_kib": int(fields["VmHWM"].split()[0])}


def write_calls(pid: int) -> int:
    """The system calls that wrote (write, writev, send...) the process made so far."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("syscw:"):
            return int(line.split()[1])
    return 0


def result_of(process: subprocess.Popen[str], out: Path) -> dict[str, Any]:
    """What the process wrote to ``out`` once it says RESULT."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == "RESULT":
            process.wait(60)
            return dict(json.loads(out.read_text()))
    raise RuntimeError(f"a storm process ended without a result (exit {process.wait()})")


def expect(process: subprocess.Popen[str], word: str) -> None:
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if line != word:
        raise RuntimeError(f"a storm process said {line!r}, not {word}")


def tell(process: subprocess.Popen[str], line: str) -> None:
    assert process.stdin is not None
    process.stdin.write(line + "\n")
    process.stdin.flush()


@contextlib.contextmanager
def started(role: str, url: str, params: dict[str, Any],
            setup: Callable[[], None]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.storm_load", role, url, json.dumps(params)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parent.parent, preexec_fn=setup)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def run(quick: bool, work: Path, *, seed: Callable[..., None], server: Any,
        setup: Callable[[], None], profile: bool = False) -> list[dict[str, Any]]:
    """The storm against one server; ``seed``, ``server`` and ``setup`` are the harness's
    (bench/__main__.py: accounts with tokens, a server process, the load's CPU pinning).
    ``profile`` samples the server with py-spy through the storm (bench/profile.py)."""
    clients = 1_000 if quick else 10_000
    rooms = clients // ROOM_SIZE
    data = work / f"storm-{clients}"
    seed(data, clients + 1, rooms)  # the last account is the probe's
    seed_history(data, rooms, MESSAGES_PER_ROOM)
    per_process = clients_per_process()
    shares = [(first, min(per_process, clients - first))
              for first in range(0, clients, per_process)]
    outs = [data / f"storm-{n}.json" for n in range(len(shares) + 1)]
    profile_out = RESULTS / f"profile-storm-{clients}.txt"
    # Only Linux answers on all of 127.0.0.0/8 unasked (macOS has 127.0.0.1 alone): elsewhere
    # every client comes from 127.0.0.1, and loopback stays exempt from the address limit.
    spread = sys.platform == "linux"
    extra = ("--limit-loopback",) if spread else ()
    stalls_out = data / "stalls.json"
    probed = os.environ.get("BENCH_STORM_PROBE") == "1"
    settings = ({"PYTHONPATH": str(PROBE_DIR), "MULTICHAT_STALL_PROBE": str(stalls_out)}
                if probed else None)
    with (server("multichat", data, extra, settings, limits=True) as process,
          contextlib.ExitStack() as stack):
        url = f"ws://127.0.0.1:{process.port}"
        probe = stack.enter_context(started("probe", url, {
            "number": clients, "interval": PING_INTERVAL, "out": str(outs[0])}, setup))
        loads = [stack.enter_context(started("clients", url, {
            "first": first, "count": count, "rooms": rooms, "missed": MISSED,
            "last_seq": MESSAGES_PER_ROOM, "per_address": PER_ADDRESS if spread else 0,
            "out": str(out)},
            setup)) for (first, count), out in zip(shares, outs[1:], strict=True)]
        for each in (probe, *loads):
            expect(each, "READY")
        time.sleep(0.5)  # a few pings before the storm
        cpu0, net0, memory0 = server_cpu(process.pid), net_counters(), memory_kib(process.pid)
        writes0 = write_calls(process.pid)
        go = time.time_ns() + int(START_LEAD * 1e9)
        with (bench_profile.recording(process.pid, profile_out, setup=setup) if profile
              else contextlib.nullcontext()):
            for load in loads:
                tell(load, f"GO {go}")
            for load in loads:
                expect(load, "IN")
        cpu, net = server_cpu(process.pid) - cpu0, net_counters()
        writes = write_calls(process.pid) - writes0
        time.sleep(1.0)  # the ENTER notices of the last joins go out
        memory = memory_kib(process.pid)
        tell(probe, "STOP")
        for load in loads:
            tell(load, "DONE")
        outcomes = [result_of(load, out) for load, out in zip(loads, outs[1:], strict=True)]
        pings = result_of(probe, outs[0])
    # The server's log, kept past the run's temporary directory: what it refused and why.
    RESULTS.mkdir(parents=True, exist_ok=True)
    for log in data.glob("*-server.log"):
        shutil.copyfile(log, RESULTS / f"storm-{clients}-{log.name}")
    if profile:
        for share, name in bench_profile.top_functions(profile_out):
            print(f"  {share:6.1%}  {name}")
    timeline = (probe_timeline(Path(f"{stalls_out}.{process.pid}"), go, outcomes)
                if probed else {})
    return [{"clients": clients, "processes": len(loads),
             "source_addresses": -(-clients // PER_ADDRESS) if spread else 1,
             **arrivals(go, outcomes, pings),
             "server_cpu_s": cpu,
             "server_writes": writes,
             "rss_before_mib": memory0["rss_kib"] / 1024,
             "rss_after_mib": memory["rss_kib"] / 1024,
             "rss_peak_mib": memory["peak_kib"] / 1024,
             "loadgen_cpu_s": sum(outcome["cpu_s"] for outcome in outcomes),
             # Of the whole machine (the namespace's counters): other programs' count too.
             "syn_retransmits": net["TcpExt.TCPSynRetrans"] - net0["TcpExt.TCPSynRetrans"],
             "listen_drops": net["TcpExt.ListenDrops"] - net0["TcpExt.ListenDrops"],
             **timeline}]


def probe_timeline(report: Path, go: int, outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """From the stall probe's report: what the collector and the heap's freezes did from the
    storm's start until its last client was in (seconds from the start, milliseconds)."""
    found = json.loads(report.read_text())
    end = max((t for outcome in outcomes for t in outcome["in_s"]), default=0.0)

    def within(at_ns: int) -> float | None:
        at = (at_ns - go) / 1e9
        return round(at, 3) if 0 <= at <= end else None

    full = [(at, round(ms, 1)) for at_ns, ms in found["full_collections"]
            if (at := within(at_ns)) is not None]
    return {
        "full_collections": len(full), "full_collections_ms": sum(ms for _, ms in full),
        "full_collections_at_s_ms": full,
        "freezes_at_s": [at for at_ns, what, _ in found["freezes"]
                         if what == "freeze" and (at := within(at_ns)) is not None],
        "stalls_over_20_ms": [(at, round(s["late_ms"]), round(s["gc_ms"]))
                              for s in found["stalls"]
                              if s["late_ms"] > 20 and (at := within(s["at_ns"])) is not None],
    }


def arrivals(go: int, outcomes: list[dict[str, Any]], pings: dict[str, Any]) -> dict[str, Any]:
    """When the clients were in, which failed and why, and the pings until the last was in."""
    in_s = sorted(t for outcome in outcomes for t in outcome["in_s"])
    failures: dict[str, int] = {}
    for outcome in outcomes:
        for reason, count in outcome["failures"].items():
            failures[reason] = failures.get(reason, 0) + count
    last = in_s[-1] if in_s else float("nan")
    end = go + int(last * 1e9) if in_s else go
    during = [rtt for at, rtt in pings["pings"] if go <= at <= end]
    return {
        "in": len(in_s), "failed": sum(failures.values()),
        "failures": "; ".join(f"{n} x {reason}" for reason, n in failures.items()) or "-",
        "last_in_s": last, "p50_in_s": percentile(in_s, 0.5), "p99_in_s": percentile(in_s, 0.99),
        "caught_up_events": sum(outcome["caught_up_events"] for outcome in outcomes),
        "pings": len(during),
        "pings_unanswered": sum(1 for at in pings["unanswered"] if go <= at <= end),
        "ping_p50_ms": percentile(during, 0.5), "ping_p99_ms": percentile(during, 0.99),
        "ping_max_ms": max(during, default=float("nan")),
        "pings_over_100_ms": sum(1 for rtt in during if rtt > 100),
    }
