"""Hypothesis settings for the fuzz tests: random locally, the same examples every run on CI.

The ``fuzz`` profile is a parent for each test's own ``settings(...)``, not
loaded globally, so it changes no other test. With ``CI`` set it is
derandomized and keeps no example database: a CI run tests what the last run
tested, and a failure there reproduces locally with ``CI=1``. Elsewhere each
run draws new examples and replays failures from ``.hypothesis/`` (ignored by
git).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# The async tests share their fixtures (a chat service, a server) between
# examples; each example checks what changed during it, not an absolute state.
settings.register_profile(
    "fuzz",
    settings.get_profile("multichat"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
if os.environ.get("CI"):
    settings.register_profile(
        "fuzz", settings.get_profile("fuzz"), derandomize=True, database=None
    )
