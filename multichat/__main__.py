"""The `multichat` command: the server's CLI today, the desktop app once it exists."""

from __future__ import annotations

from multichat.server.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
