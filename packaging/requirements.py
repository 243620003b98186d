"""Print what a frozen build needs installed: Multichat's dependencies from pyproject.toml.

    python packaging/requirements.py > build/requirements.txt

Every optional group counts but the tests' and the benchmarks': a build carries
the database and broker drivers so that ``--database postgresql://`` and
``--broker redis://`` work from the binary. Multichat itself is not installed:
the spec freezes the checkout's ``multichat/`` package. Used by build.sh and
the Windows and macOS recipes.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

NOT_SHIPPED = ("test", "bench")


def requirements() -> list[str]:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text())["project"]
    wanted = list(project["dependencies"])
    for group, more in project.get("optional-dependencies", {}).items():
        if group not in NOT_SHIPPED:
            wanted += more
    return wanted


if __name__ == "__main__":
    print("\n".join(requirements()))
