"""Result tables as Markdown, for docs/benchmarks.md: one printer for every scenario."""

from __future__ import annotations

from typing import Any


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    """A heading and the rows under it, their keys (the first row's) as the columns."""
    print(f"\n## {title}")
    if not rows:
        return
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(fmt(row.get(key)) for key in keys) + " |")


def fmt(value: Any) -> str:
    """A cell: floats to three places below 10, whole above, with thousands separated."""
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)
