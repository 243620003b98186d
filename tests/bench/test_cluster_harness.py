"""The cluster bench's pure parts: process-tree CPU, per-message counts, the comparison,
the documented nginx block, and the load generator reading the seed's frames."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import cluster, cluster_measure, proc, profile, services
from bench.load import Tally

# A process whose name holds a space and a parenthesis, as /proc shows such names.
STAT = ("4242 (postgres: walwriter) ) S 4200 4200 4200 0 -1 4194560 200 0 0 0 "
        "37 5 0 0 20 0 1 0 100 0 0")


def test_a_stat_line_with_parentheses_in_the_name_is_read() -> None:
    assert proc.parse_stat(STAT) == proc.Stat(pid=4242, ppid=4200, cpu_ticks=42)


def test_descendants_are_the_live_roots_and_everything_below() -> None:
    stats = {pid: proc.Stat(pid, ppid, 0) for pid, ppid in
             ((1, 0), (10, 1), (11, 10), (12, 11), (20, 1), (21, 20))}
    assert proc.descendants(stats, [10, 99]) == {10, 11, 12}


def test_used_seconds_counts_processes_born_in_between_from_zero() -> None:
    before = {"postgres": {10: 100, 11: 50}}
    after = {"postgres": {10: 150, 11: 60, 12: 40}, "redis": {30: 10}}
    assert proc.used_seconds(before, after, ticks_per_second=100) == {
        "postgres": 1.0, "redis": 0.1}


def test_a_snapshot_follows_a_real_process_tree_and_sees_its_children_work(
        tmp_path: Path) -> None:
    """A parent that starts a busy child: the child's CPU is the parent's group's."""
    done = tmp_path / "done"
    child = (f"import time\nend = time.process_time() + 0.3\n"
             f"while time.process_time() < end: pass\nopen({str(done)!r}, 'w').close()\n"
             f"time.sleep(60)")
    script = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {child!r}])"
    # A session of its own, so that the parent and its child end together.
    parent = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        before = proc.snapshot({"tree": [parent.pid]})
        deadline = time.monotonic() + 60
        while not done.exists():
            assert time.monotonic() < deadline, "the child never finished its work"
            time.sleep(0.05)
        after = proc.snapshot({"tree": [parent.pid]})
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()
    assert len(after["tree"]) == 2
    assert proc.used_seconds(before, after)["tree"] >= 0.25


def test_window_counts_leave_out_the_harness_own_info_calls() -> None:
    before = {"redis": {"publish": 10, "info": 3, "total": 13}, "xid": 100, "commits": 500}
    after = {"redis": {"publish": 50, "info": 5, "eval": 4, "total": 59}, "xid": 140,
             "commits": 700}
    assert cluster_measure.window_counts(before, after) == {
        "redis_calls": {"publish": 40, "eval": 4}, "redis_total": 44,
        "pg_write_xacts": 40, "pg_commits": 200}


def test_a_row_divides_deliveries_by_the_cpu_of_the_whole_server_side() -> None:
    result = {"offered_deliveries_per_s": 1000, "deliveries_per_s": 1000.0, "loss": 0.0,
              "p50_ms": 1.0, "p99_ms": 2.0, "loadgen_cpu_share": 0.1}
    counts = {"redis_calls": {"publish": 80}, "redis_total": 80, "pg_write_xacts": 40,
              "pg_commits": 60}
    row = cluster_measure.summarize(result, {"servers": 0.3, "postgres": 0.1}, 2.0, counts, 40)
    assert row["server_side_cpu_share"] == pytest.approx(0.2)
    assert row["deliveries_per_server_cpu_s"] == pytest.approx(5000)
    assert row["cpu_servers"] == pytest.approx(0.15)
    assert row["redis_cmds_per_msg"] == 2
    assert row["pg_write_xacts_per_msg"] == 1


def _row(side: str, rate: int, efficiency: float, *, delivered: float = 1000.0,
         loss: float = 0.0) -> dict[str, object]:
    return {"side": side, "rate": rate, "offered_deliveries_per_s": 1000,
            "deliveries_per_s": delivered, "loss": loss,
            "deliveries_per_server_cpu_s": efficiency, "saturated": loss > 0}


def test_the_comparison_sets_the_cluster_against_channels_and_one_process() -> None:
    rows = [_row("multichat cluster", 20, 10_000), _row("channels cluster", 20, 2_000),
            _row("one process", 20, 25_000), _row("multichat cluster", 200, 20_000)]
    first, second = cluster.compare(rows)
    assert first["x_channels"] == 5
    assert first["cost_x_one_process"] == 2.5
    assert second["x_channels"] is None  # Channels saturated before this step


def test_saturation_is_the_first_step_that_lost_or_fell_behind() -> None:
    rows = [_row("channels cluster", 20, 1), _row("channels cluster", 100, 1, loss=0.1)]
    assert cluster.saturation(rows) == [{
        "side": "channels cluster", "kept_up_to_deliveries_per_s": 1000.0,
        "first_saturated_rate": 100, "delivered_there_per_s": 1000.0, "loss_there": 0.1}]


def test_the_nginx_block_is_the_documented_one_with_the_run_ports() -> None:
    block = services.documented_block("http", 9000, [9001, 9002, 9003])
    assert "listen 127.0.0.1:9000;" in block
    assert [f"server 127.0.0.1:{port};" in block for port in (9001, 9002, 9003)] == [True] * 3
    assert "least_conn;" in block and 'proxy_set_header Connection "upgrade";' in block
    assert "ssl" not in block and "8801" not in block
    stream = services.documented_block("stream", 9000, [9001, 9002, 9003])
    assert "listen 127.0.0.1:9000;" in stream and "proxy_protocol on;" in stream


def test_on_unix_sockets_the_nginx_block_has_the_documented_upstream_with_the_run_paths(
) -> None:
    paths = [Path(f"/tmp/run/{n}.sock") for n in range(3)]
    block = services.documented_block("http", 9000, paths)
    assert [f"server unix:{path};" in block for path in paths] == [True] * 3
    assert "least_conn;" in block and "127.0.0.1:880" not in block and "/run/multichat" not in block
    assert block.count("upstream multichat {") == 1 and "proxy_pass http://multichat;" in block


def test_the_load_generator_reads_and_times_the_seed_frames() -> None:
    """Django's json.dumps puts a space after each colon; Multichat does not."""
    seed, compact = Tally("seed"), Tally()
    seed.measure_from = compact.measure_from = 0
    sent_ns = time.time_ns()
    frame = bytearray(f'{{"msg_type": 0, "room": "1", "username": "u0", '
                      f'"message": "3|7|{sent_ns}"}}'.encode())
    seed.time(frame, 0, len(frame))
    compact.count(frame, 0, len(frame))
    assert seed.received == 1 and len(seed.latencies) == 1 and seed.latencies[0] >= 0
    assert compact.received == 0


def test_the_profile_breakdown_puts_each_stack_in_its_first_matching_category(
        tmp_path: Path) -> None:
    collapsed = tmp_path / "stacks.txt"
    collapsed.write_text(
        "run (asyncio/base_events.py:1);RedisBroker._subscription (x/redis_broker.py:2);"
        "Session.deliver (x/session.py:3) 3\n"
        "run (asyncio/base_events.py:1);RedisBroker._subscription (x/redis_broker.py:2) 5\n"
        "run (asyncio/base_events.py:1);EpollSelector.select (selectors.py:4) 2\n")
    assert profile.breakdown(collapsed, cluster_measure.CATEGORIES) == [
        (0.5, "Redis: receiving and decoding other processes' events"),
        (0.3, "delivering to this process's sockets"),
        (0.2, "event loop: select, wake-ups, callbacks")]
