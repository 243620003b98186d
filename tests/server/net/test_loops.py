"""The transport tests really run on each loop they are named for (tests/helpers/loops.py)."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers.loops import available_loops


async def test_the_loop_is_the_one_named(request: pytest.FixtureRequest) -> None:
    name = request.node.callspec.id
    assert name in available_loops()
    module = type(asyncio.get_running_loop()).__module__
    assert module.startswith("uvloop") == (name == "uvloop")
