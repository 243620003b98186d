"""CPU of whole process trees from /proc: every server-side process, not just one.

A cluster's cost is spread over many processes (the chat servers, each
PostgreSQL backend and its background workers, Redis, nginx's master and
workers), some of which appear after start-up (a backend per connection).
So a snapshot lists every live process under each named root and its CPU
time; the difference of two snapshots is what each group used in between.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Stat:
    """What the harness needs of one /proc/PID/stat line."""

    pid: int
    ppid: int
    cpu_ticks: int  # utime + stime


def parse_stat(text: str) -> Stat:
    """One /proc/PID/stat line; the command name in parentheses may hold spaces and ')'."""
    head, _, rest = text.rpartition(")")
    fields = rest.split()
    # After the name: state(0) ppid(1) ... utime(11) stime(12).
    return Stat(pid=int(head.split(" (", 1)[0]), ppid=int(fields[1]),
                cpu_ticks=int(fields[11]) + int(fields[12]))


def read_all(proc: Path = PROC) -> dict[int, Stat]:
    """Every live process's stat (those that exit while being read are skipped)."""
    stats = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = parse_stat((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue
        stats[stat.pid] = stat
    return stats


def descendants(stats: Mapping[int, Stat], roots: Iterable[int]) -> set[int]:
    """The roots that are alive and every process below them."""
    children: dict[int, list[int]] = {}
    for stat in stats.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    found: set[int] = set()
    todo = [pid for pid in roots if pid in stats]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


Snapshot = dict[str, dict[int, int]]  # group -> pid -> CPU ticks


def snapshot(groups: Mapping[str, Iterable[int]], proc: Path = PROC) -> Snapshot:
    """The CPU ticks of each process in each group's trees, now."""
    stats = read_all(proc)
    return {name: {pid: stats[pid].cpu_ticks for pid in descendants(stats, roots)}
            for name, roots in groups.items()}


def used_seconds(before: Snapshot, after: Snapshot,
                 ticks_per_second: float | None = None) -> dict[str, float]:
    """CPU seconds each group used between two snapshots.

    A process born in between counts from zero; one that died in between is
    lost (its last ticks cannot be read), which undercounts by at most what it
    used after the first snapshot.
    """
    ticks = ticks_per_second or os.sysconf("SC_CLK_TCK")
    return {name: sum(cpu - before.get(name, {}).get(pid, 0) for pid, cpu in pids.items())
            / ticks for name, pids in after.items()}
