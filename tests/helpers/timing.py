"""How long tests wait for something that should happen, scaled for slow machines.

Set MULTICHAT_TEST_TIMEOUT_FACTOR (e.g. 4) on a slow or loaded machine. A wait
that times out is a failure; nothing here makes a test pass faster or slower.
"""

from __future__ import annotations

import os

TIMEOUT_FACTOR = float(os.environ.get("MULTICHAT_TEST_TIMEOUT_FACTOR", "1"))
TIMEOUT = 10.0 * TIMEOUT_FACTOR
