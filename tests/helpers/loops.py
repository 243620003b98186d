"""The event loops the transport tests run on: asyncio's, and uvloop's where it exists.

``multichat serve`` runs on uvloop where it can (server/cli/event_loop.py), so
the tests that exercise the transport (the wire, TLS, PROXY headers,
keepalive, files over HTTP, batched writes) run their in-process server on
both. A conftest takes this hook in with
``from tests.helpers.loops import pytest_asyncio_loop_factories``;
``MULTICHAT_TEST_LOOPS=asyncio`` (or ``uvloop``) keeps one of them.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Mapping

import pytest

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def available_loops() -> dict[str, LoopFactory]:
    loops: dict[str, LoopFactory] = {"asyncio": asyncio.new_event_loop}
    if sys.platform != "win32":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            loops["uvloop"] = uvloop.new_event_loop
    wanted = os.environ.get("MULTICHAT_TEST_LOOPS")
    if wanted:
        loops = {name: factory for name, factory in loops.items()
                 if name in wanted.split(",")} or loops
    return loops


def pytest_asyncio_loop_factories(config: pytest.Config,
                                  item: pytest.Item) -> Mapping[str, LoopFactory]:
    """pytest-asyncio's hook: each async test of the directory on each loop."""
    return available_loops()
