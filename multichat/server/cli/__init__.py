"""The server's commands: ``multichat serve`` and ``multichat admin ...`` (entry: multichat.cli)."""
