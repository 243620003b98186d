"""Saved logins: tokens in the keyring by server and user; a broken keyring is survived."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from keyring.errors import KeyringError

from multichat.desktop.services.credentials import CredentialStore, server_key
from tests.desktop.conftest import MemoryKeyring


def test_server_urls_are_normalised() -> None:
    assert server_key("WS://Host.LAN:8765") == "ws://host.lan:8765/"
    assert server_key("ws://host:8765/chat/stream/") == "ws://host:8765/chat/stream"
    assert server_key(" ws://h:1/ ") == server_key("ws://h:1")


def test_tokens_are_kept_per_server_and_user(memory_keyring: MemoryKeyring) -> None:
    store = CredentialStore()
    assert store.available
    assert store.save_token("ws://a:1", "alice", "token-a")
    assert store.save_token("ws://B:1/", "alice", "token-b")
    assert store.load_token("ws://a:1/", "alice") == "token-a"
    assert store.load_token("ws://b:1", "alice") == "token-b"
    assert store.load_token("ws://a:1", "bob") is None
    store.forget("ws://a:1", "alice")
    store.forget("ws://a:1", "alice")  # forgetting twice is fine
    assert store.load_token("ws://a:1", "alice") is None
    assert list(memory_keyring.secrets.values()) == ["token-b"]


def test_a_password_is_only_ever_read(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("multichat-password:ws://a:1/", "alice", "pw")
    assert CredentialStore().load_password("ws://a:1", "alice") == "pw"


@pytest.fixture
def failing_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_no_keyring_means_nothing_remembered_and_one_notice(
    failing_keyring: None, isolated_home: Path
) -> None:
    notices: list[str] = []
    store = CredentialStore(on_unavailable=notices.append)
    assert not store.available
    assert store.save_token("ws://a:1", "alice", "secret-token-value") is False
    assert store.load_token("ws://a:1", "alice") is None
    store.forget("ws://a:1", "alice")
    assert notices == ["no keyring service is running"]
    for path in isolated_home.rglob("*"):  # no secret fell back into a file
        if path.is_file():
            assert b"secret-token-value" not in path.read_bytes()


class RefusingKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringError("the collection is locked")


def test_a_keyring_that_refuses_is_reported_once() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(RefusingKeyring())
    try:
        notices: list[str] = []
        store = CredentialStore(on_unavailable=notices.append)
        assert store.available
        assert store.save_token("ws://a:1", "alice", "t") is False
        assert store.save_token("ws://a:1", "alice", "t") is False
        assert len(notices) == 1 and "KeyringError" in notices[0]
        assert store.load_token("ws://a:1", "alice") is None
    finally:
        keyring.set_keyring(previous)
