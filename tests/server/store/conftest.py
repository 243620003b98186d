"""The store's tests run on both engines: SQLite in a temp dir and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from multichat.server.store import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database on each engine."""
    if request.param == "sqlite":
        (tmp_path / "data").mkdir()
        return "sqlite:///" + str(tmp_path / "data" / "multichat.sqlite3")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store.open(store_url)
    yield opened
    opened.close()

