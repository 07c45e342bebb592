"""Goose: the `extensions:` map in `config.yaml` (`~/.config/goose`, or `%APPDATA%\\Block\\goose\\config`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grok_mcp.clients.base import (
    ENTRY_NAME,
    ClientSpec,
    HostEnv,
    HttpEndpoint,
    ServerLaunch,
    fixed_hint,
    keychain_env,
)
from grok_mcp.clients.yamlfile import YamlFormat

RESTART_HINT = "Restart Goose (quit the desktop app, or end the `goose session` and start a new one)."
TIMEOUT_S = 300


def _goose_dir(host: HostEnv) -> Path:
    if host.platform == "win32":
        return host.appdata / "Block" / "goose" / "config"
    if host.platform == "darwin":
        return host.home / ".config" / "goose"
    return host.config_home / "goose"


def stdio_entry(launch: ServerLaunch, host: HostEnv) -> dict[str, Any]:
    return {
        "type": "stdio",
        "name": ENTRY_NAME,
        "enabled": True,
        "cmd": launch.command,
        "args": list(launch.args),
        "envs": keychain_env(host),
        "env_keys": [],
        "timeout": TIMEOUT_S,
    }


def http_entry(endpoint: HttpEndpoint) -> dict[str, Any]:
    return {
        "type": "streamable_http",
        "name": ENTRY_NAME,
        "enabled": True,
        "uri": endpoint.url,
        "headers": {"Authorization": endpoint.authorization},
        "timeout": TIMEOUT_S,
    }


SPEC = ClientSpec(
    name="goose",
    display_name="Goose",
    config_paths=lambda host: [_goose_dir(host) / "config.yaml"],
    restart_hint=fixed_hint(RESTART_HINT),
    format=YamlFormat(),
    container="extensions",
    stdio_entry=stdio_entry,
    executables=("goose",),
    http_entry=http_entry,
)
