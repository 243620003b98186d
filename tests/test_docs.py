"""The docs name what the code has: every error code, every limit, every setting."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from multichat.protocol.codes import CloseCode, ErrorCode
from multichat.server.cli.settings import flag_name
from multichat.server.config import ServerConfig

DOCS = Path(__file__).resolve().parent.parent / "docs"
# The settings that bound what a client (or an attacker) can make the server do.
LIMITS = ("max_frame_bytes", "max_message_chars", "send_burst", "send_rate",
          "user_send_burst", "user_send_rate", "max_connections_per_address",
          "max_rooms_per_connection", "max_output_bytes", "allowed_origins",
          "login_free_failures", "login_max_delay", "token_ttl_days", "ping_interval",
          "ping_timeout", "close_timeout")


@pytest.mark.parametrize("name", LIMITS)
def test_every_limit_is_in_the_security_page(name: str) -> None:
    assert name in {field.name for field in dataclasses.fields(ServerConfig)}
    assert f"`{flag_name(name)}`" in (DOCS / "security.md").read_text(encoding="utf-8")


def test_every_error_and_close_code_is_in_the_protocol_page() -> None:
    protocol = (DOCS / "protocol.md").read_text(encoding="utf-8")
    missing = [code.value for code in ErrorCode if f"`{code.value}`" not in protocol]
    missing += [str(code.value) for code in CloseCode if f"| {code.value} " not in protocol]
    assert not missing


def test_every_test_the_security_page_names_exists() -> None:
    """The table of bad inputs and faults points at tests that are really there."""
    page = (DOCS / "security.md").read_text(encoding="utf-8")
    root = DOCS.parent
    named = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", page)
    assert len(named) > 20
    for path, test in named:
        source = (root / path).read_text(encoding="utf-8")
        assert not test or f"def {test}(" in source, f"{path}::{test}"
