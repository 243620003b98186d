"""Database and broker URLs as they may be shown: in messages and logs, never a password."""

from __future__ import annotations

from urllib.parse import urlsplit


def redact(url: str) -> str:
    """The URL with its password (if any) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
