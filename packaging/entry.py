"""The frozen program's entry point: the same ``main()`` as the ``multichat`` console script.

A windowed build (the Windows installer, the macOS .app) has no console, so
``sys.stdout`` and ``sys.stderr`` are ``None`` and anything printed or logged
would raise. They get a sink instead; the exit code still tells the outcome.
"""

from __future__ import annotations

import os
import sys

if sys.stdout is None:
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
if sys.stderr is None:
    sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115

from multichat.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
