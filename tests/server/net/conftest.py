"""Fixtures of the net tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.helpers.client import ProtocolClient


@pytest.fixture
async def clients() -> AsyncIterator[list[ProtocolClient]]:
    """Clients a test opens (it appends them), closed at its end."""
    opened: list[ProtocolClient] = []
    yield opened
    for client in opened:
        await client.close()


# Every async test here runs on asyncio's loop and on uvloop's (tests/helpers/loops.py).
from tests.helpers.loops import pytest_asyncio_loop_factories  # noqa: E402, F401
