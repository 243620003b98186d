"""``python -m multichat`` and the ``multichat`` script: the one entry point (multichat.cli)."""

from __future__ import annotations

from multichat.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
