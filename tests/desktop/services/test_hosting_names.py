"""The app's own server names its first admin by the same rules as every other account."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from multichat.desktop.services.hosting import ServerThread
from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.store.errors import StoreError


def test_the_first_admin_follows_the_rules_of_names(tmp_path: Path, passwords: Passwords) -> None:
    host = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path),
                        passwords=passwords)
    host.start()
    try:
        for name, words in [("boss\u200b", "U+200B ZERO WIDTH SPACE"),
                            ("boss\x1b[2J", "control or format characters (U+001B)"),
                            ("the boss", "U+0020 SPACE is not allowed")]:
            with pytest.raises(StoreError, match=re.escape(words)):
                host.create_admin(name, "boss-password")
        assert not host.has_users()
        host.create_admin("\uff42\uff4f\uff53\uff53", "boss-password")  # fullwidth boss
        assert host.has_users()
        with pytest.raises(StoreError, match="'boss' already exists"):
            host.create_admin("BOSS", "again")
    finally:
        host.stop()
