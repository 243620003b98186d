"""The command line: ``multichat serve``, ``multichat admin ...``, and the desktop app."""
