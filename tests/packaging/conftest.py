"""The built artefacts under test: paths from MULTICHAT_BINARY and MULTICHAT_DEB.

``.ci/run`` builds them with packaging/build.sh and sets both. Elsewhere the
tests skip, saying how to run them; under CI (CI=true) a missing artefact is a
failure, so a broken build cannot pass as "skipped".
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HOW = "build with packaging/build.sh, then set {name}=dist/{example}"


def artefact(name: str, example: str) -> Path:
    value = os.environ.get(name)
    if not value:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not set under CI: .ci/run must build and name it")
        pytest.skip(f"{name} not set: " + HOW.format(name=name, example=example))
    path = Path(value).resolve()
    if not path.is_file():
        pytest.fail(f"{name}={value} is not a file")
    return path


@pytest.fixture(scope="session")
def binary() -> Path:
    return artefact("MULTICHAT_BINARY", "multichat")


@pytest.fixture(scope="session")
def deb() -> Path:
    return artefact("MULTICHAT_DEB", "multichat_VERSION_ARCH.deb")


def bare_env(home: Path, **extra: str) -> dict[str, str]:
    """A machine with no Python environment: system PATH only, a fresh HOME, no display."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "QT_QPA_PLATFORM": "offscreen"}
    env.update(extra)
    return env
