"""ServerConfig from flags, MULTICHAT_* environment variables and a TOML file.

Precedence: flags, then the environment, then the file, then the defaults
declared on ServerConfig. Everything here is derived from ServerConfig's
fields, so a new setting needs no change in this module.
"""

from __future__ import annotations

import argparse
import dataclasses
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from multichat.server.broker import REDIS_SCHEMES
from multichat.server.cli.event_loop import LOOP_CHOICES
from multichat.server.config import ServerConfig
from multichat.server.net.admission import parse_origins
from multichat.server.net.proxy import TrustedProxies
from multichat.server.net.unix_socket import UnixSocketError, check_path, supported
from multichat.server.store.database import SYNCHRONOUS_MODES

ENV_PREFIX = "MULTICHAT_"
_HINTS = typing.get_type_hints(ServerConfig)


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names it and says why."""


def _base_type(name: str) -> type:
    hint = _HINTS[name]
    if isinstance(hint, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return typing.cast(type, hint)  # a plain class: int, str, float, bool, Path


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def add_setting_flags(parser: argparse.ArgumentParser, *, only: set[str] | None = None) -> None:
    """A flag for each ServerConfig field (or those in ``only``), defaulting to "not given"."""
    for field in dataclasses.fields(ServerConfig):
        if only is not None and field.name not in only:
            continue
        kind = _base_type(field.name)
        help_text = f"{field.metadata['help']} (env {env_name(field.name)}; default: "
        help_text += f"{field.default if field.default not in (None, '') else 'see above'})"
        if kind is bool:
            parser.add_argument(flag_name(field.name), dest=field.name,
                                action=argparse.BooleanOptionalAction, default=None,
                                help=help_text)
        else:
            parser.add_argument(flag_name(field.name), dest=field.name, default=None,
                                metavar=field.metadata.get("metavar") or field.name.upper(),
                                help=help_text)


def _convert(name: str, raw: Any, source: str) -> Any:
    kind = _base_type(name)
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind is Path:
            return Path(str(raw)).expanduser()
        if kind is int and isinstance(raw, bool):
            raise ValueError(raw)
        return kind(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{source}: {raw!r} is not a valid {kind.__name__} for {name}") from exc


def read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path} is not valid TOML: {exc}") from exc
    table = data.get("server", {})
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [server] must be a table")
    known = {field.name for field in dataclasses.fields(ServerConfig)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s) {', '.join(unknown)} in [server]")
    return table


def load_config(
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    config_file: Path | None = None,
) -> ServerConfig:
    """Merge the sources; raise SettingsError naming the first bad value."""
    from_file = read_file(config_file) if config_file is not None else {}
    values: dict[str, Any] = {}
    for field in dataclasses.fields(ServerConfig):
        name = field.name
        if flags.get(name) is not None:
            values[name] = _convert(name, flags[name], flag_name(name))
        elif env.get(env_name(name)):
            values[name] = _convert(name, env[env_name(name)], env_name(name))
        elif name in from_file:
            values[name] = _convert(name, from_file[name], f"{config_file} {name}")
    config = ServerConfig(**values)
    _check(config)
    return config


def _check(config: ServerConfig) -> None:
    if config.sqlite_synchronous not in SYNCHRONOUS_MODES:
        raise SettingsError(
            f"sqlite_synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}, "
            f"not {config.sqlite_synchronous!r}"
        )
    if config.loop not in LOOP_CHOICES:
        raise SettingsError(f"loop must be one of {', '.join(LOOP_CHOICES)}, not {config.loop!r}")
    if config.broker and urlsplit(config.broker).scheme not in REDIS_SCHEMES:
        raise SettingsError(
            f"broker must be a Redis URL (redis://HOST:PORT/DB), not {config.broker!r}"
        )
    if not 0 <= config.port <= 65535:
        raise SettingsError(f"port must be between 0 and 65535, not {config.port}")
    for name in ("max_frame_bytes", "max_message_chars", "send_burst", "max_output_bytes",
                 "user_send_burst", "max_rooms_per_connection", "command_burst",
                 "user_join_burst", "login_spray_names", "max_new_direct_per_hour",
                 "max_download_bytes_in_flight"):
        if getattr(config, name) <= 0:
            raise SettingsError(f"{name} must be positive")
    if config.max_connections_per_address < 0:
        raise SettingsError("max_connections_per_address must be 0 (no limit) or more")
    try:
        parse_origins(config.allowed_origins)
    except ValueError as exc:
        raise SettingsError(f"allowed_origins: {exc}") from exc
    try:
        TrustedProxies.parse(config.trusted_proxies, proxy_protocol=config.proxy_protocol,
                             tls=config.uses_tls, unix=config.unix is not None)
    except ValueError as exc:
        raise SettingsError(f"trusted_proxies: {exc}") from exc
    if config.unix is not None:
        _check_unix(config)
    for name in ("send_rate", "user_send_rate", "command_rate", "user_join_rate",
                 "ping_interval", "ping_timeout", "close_timeout",
                 "token_ttl_days", "poll_interval", "presence_ttl"):
        if getattr(config, name) <= 0:
            raise SettingsError(f"{name} must be positive")


def _check_unix(config: ServerConfig) -> None:
    assert config.unix is not None
    if not supported():
        raise SettingsError("unix: this system has no Unix sockets; use --host and --port")
    if config.uses_tls:
        raise SettingsError("unix: a server on a Unix socket serves the proxy in front of "
                            "it, which terminates TLS: drop --tls, --cert and --key")
    try:
        check_path(config.unix)
    except UnixSocketError as exc:
        raise SettingsError(str(exc)) from exc
