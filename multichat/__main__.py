"""The `multichat` command: the desktop app, `serve` and `admin` (multichat.server.cli.main)."""

from __future__ import annotations

from multichat.server.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
