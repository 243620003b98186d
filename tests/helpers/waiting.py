"""Waiting on a condition that nothing signals (a counter, a list), with a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.helpers.timing import TIMEOUT

POLL = 0.01  # seconds between checks; the wait ends as soon as the condition holds


async def eventually(condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Return once ``condition()`` is true; raise TimeoutError if it is not in time."""
    async def wait() -> None:
        while not condition():  # noqa: ASYNC110 - plain values: no event exists to await
            await asyncio.sleep(POLL)

    await asyncio.wait_for(wait(), timeout)
