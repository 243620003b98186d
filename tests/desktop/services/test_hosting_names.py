"""The app's own server makes its first admin by the same rules as every other account."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from multichat.desktop.services.hosting import ServerThread
from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ServerError
from tests.helpers.servers import hashing_with


def test_the_first_admin_follows_the_rules_of_names_and_passwords(
    tmp_path: Path, passwords: Passwords
) -> None:
    host = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path),
                        make_server=hashing_with(passwords))
    host.start()
    try:
        for name, password, words in [
            ("boss\u200b", "boss-password", "U+200B ZERO WIDTH SPACE"),
            ("boss\x1b[2J", "boss-password", "control or format characters (U+001B)"),
            ("the boss", "boss-password", "U+0020 SPACE is not allowed"),
            ("boss", "", "the password must have at least 8 characters"),
            ("boss", "1234567", "the password must have at least 8 characters"),
            ("boss", "x" * 1025, "the password is longer than 1024 characters"),
        ]:
            with pytest.raises(ServerError, match=re.escape(words)):
                host.create_admin(name, password)
        assert not host.has_users()
        host.create_admin("\uff42\uff4f\uff53\uff53", "boss-password")  # fullwidth boss
        assert host.has_users()
        with pytest.raises(ServerError, match="accounts already"):
            # only the first: the others over the protocol
            host.create_admin("BOSS", "again-password")
    finally:
        host.stop()
    # The admin made is "boss" in NFKC, and logs in under that name like anyone.
    again = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path),
                         make_server=hashing_with(passwords))
    again.start()
    try:
        assert again.has_users()
    finally:
        again.stop()
