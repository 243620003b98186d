"""Fixtures of the file tests: a real server on port 0 whose uploads time out soon."""

from __future__ import annotations

from pathlib import Path

import pytest

from multichat.server.config import ServerConfig

# Seconds an upload may stay silent here: short, so that the tests of abandoned uploads
# end soon; they wait on what the server does (an error frame, rows gone), not on time.
UPLOAD_TIMEOUT = 0.5


@pytest.fixture
def server_config(tmp_path: Path) -> ServerConfig:
    return ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "server",
                        poll_interval=0.2, advertise=False, upload_timeout=UPLOAD_TIMEOUT,
                        max_image_pixels=4_000_000)


# Every async test here runs on asyncio's loop and on uvloop's (tests/helpers/loops.py).
from tests.helpers.loops import pytest_asyncio_loop_factories  # noqa: E402, F401
