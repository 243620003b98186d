"""The Origin allow-list, as the handshake applies it."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from multichat.server.net.admission import check_origin, parse_origins


def test_the_setting_is_a_comma_separated_list_of_origins() -> None:
    allowed = parse_origins(" https://Chat.Example.com/, http://localhost:8000 ,,")
    assert allowed == {"https://chat.example.com", "http://localhost:8000"}
    assert parse_origins("") == frozenset()


@pytest.mark.parametrize("bad", ["chat.example.com", "ftp://x", "https://x/chat", "https://"])
def test_entries_that_are_not_origins_are_refused_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match="is not an origin"):
        parse_origins(f"https://ok.example, {bad}")


def test_only_listed_pages_pass_and_clients_without_origin_always_do() -> None:
    allowed = parse_origins("https://chat.example.com")
    assert check_origin([], allowed) is None
    assert check_origin(["https://CHAT.example.com"], allowed) is None
    refusal = check_origin(["https://chat.example.com:8443"], allowed)
    assert refusal is not None and refusal.status == HTTPStatus.FORBIDDEN
    assert "--allowed-origins" in refusal.reason
    assert check_origin(["https://evil.example"], parse_origins("*")) is None


@pytest.mark.parametrize("allowed", ["", "*", "https://chat.example.com"])
def test_two_origin_headers_are_a_bad_request_whatever_the_allow_list(allowed: str) -> None:
    refusal = check_origin(["https://chat.example.com", "https://chat.example.com"],
                           parse_origins(allowed))
    assert refusal is not None and refusal.status == HTTPStatus.BAD_REQUEST
    assert refusal.reason == "more than one Origin header"
