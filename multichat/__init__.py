"""Multichat: a desktop chat for a team or a LAN, with its own bundled server."""

__version__ = "0.1.0"
