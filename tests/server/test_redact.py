"""URLs shown in logs and messages carry no password."""

from __future__ import annotations

from multichat.server.redact import redact


def test_a_password_in_a_url_is_hidden_and_the_rest_kept() -> None:
    assert redact("postgresql://chat:s3cret@db:5432/multichat") == (
        "postgresql://chat:***@db:5432/multichat")
    assert redact("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert redact("sqlite:////var/lib/multichat/db.sqlite3") == (
        "sqlite:////var/lib/multichat/db.sqlite3")
