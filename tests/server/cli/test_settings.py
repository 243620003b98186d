"""Settings: flags over environment over file over defaults, every value checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from multichat.server.cli.settings import SettingsError, load_config
from multichat.server.config import DEFAULT_PORT


def test_defaults_come_from_the_declaration() -> None:
    config = load_config({}, {})
    assert (config.port, config.host, config.max_message_chars) == (DEFAULT_PORT, "", 10_000)
    assert config.compression is False


def test_flags_beat_environment_beats_file(tmp_path: Path) -> None:
    file = tmp_path / "multichat.toml"
    file.write_text('[server]\nport = 1111\nsend_rate = 5.5\nhost = "10.0.0.1"\n')
    env = {"MULTICHAT_PORT": "2222", "MULTICHAT_HOST": "127.0.0.2"}
    config = load_config({"port": "3333"}, env, file)
    assert (config.port, config.host, config.send_rate) == (3333, "127.0.0.2", 5.5)
    config = load_config({}, env, file)
    assert config.port == 2222
    config = load_config({}, {}, file)
    assert (config.port, config.host) == (1111, "10.0.0.1")


def test_types_are_converted_and_paths_expanded() -> None:
    config = load_config({"compression": True, "data_dir": "~/chat"},
                         {"MULTICHAT_PING_INTERVAL": "2.5"})
    assert config.compression is True and config.ping_interval == 2.5
    assert config.data_dir == Path("~/chat").expanduser()
    assert load_config({}, {"MULTICHAT_COMPRESSION": "yes"}).compression is True


@pytest.mark.parametrize(
    ("flags", "env", "words"),
    [
        ({"port": "eighty"}, {}, "--port: 'eighty' is not a valid int for port"),
        ({}, {"MULTICHAT_PORT": "x"}, "MULTICHAT_PORT: 'x' is not a valid int for port"),
        ({"port": "70000"}, {}, "port must be between 0 and 65535, not 70000"),
        ({"sqlite_synchronous": "off"}, {}, "sqlite_synchronous must be one of normal, full"),
        ({}, {"MULTICHAT_COMPRESSION": "maybe"}, "is not a valid bool"),
        ({"send_rate": "0"}, {}, "send_rate must be positive"),
        ({"user_send_rate": "0"}, {}, "user_send_rate must be positive"),
        ({"max_rooms_per_connection": "0"}, {}, "max_rooms_per_connection must be positive"),
        ({"max_connections_per_address": "-1"}, {}, "max_connections_per_address must be 0"),
        ({"allowed_origins": "chat.example.com"}, {},
         "allowed_origins: 'chat.example.com' is not an origin"),
        ({"trusted_proxies": "nginx.local"}, {}, "trusted_proxies: "),
        ({"proxy_protocol": "yes"}, {}, "trusted_proxies: --proxy-protocol needs"),
        ({"command_rate": "0"}, {}, "command_rate must be positive"),
        ({"user_join_burst": "0"}, {}, "user_join_burst must be positive"),
    ],
)
def test_bad_values_are_named(flags: dict[str, str], env: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=words.replace("(", r"\(")):
        load_config(flags, env)


def test_bad_files_are_named(tmp_path: Path) -> None:
    file = tmp_path / "bad.toml"
    file.write_text("[server]\nprot = 1\n")
    with pytest.raises(SettingsError, match="unknown setting"):
        load_config({}, {}, file)
    file.write_text("[server\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_config({}, {}, file)
    with pytest.raises(SettingsError, match="cannot read"):
        load_config({}, {}, tmp_path / "missing.toml")
