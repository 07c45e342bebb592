"""OpenAI Codex and the ChatGPT desktop app: `[mcp_servers.grok]` in `$CODEX_HOME/config.toml` (`~/.codex`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grok_mcp.clients.base import ClientSpec, HostEnv, ServerLaunch, bearer_http, fixed_hint
from grok_mcp.clients.tomlfile import TomlFormat

RESTART_HINT = "Quit Codex (and the ChatGPT desktop app, which reads the same file) and start it again."
STARTUP_TIMEOUT_S = 30  # Codex's default of 10 s is short for a frozen executable's first start


def _codex_home(host: HostEnv) -> Path:
    value = host.environ.get("CODEX_HOME")
    return Path(value) if value else host.home / ".codex"


def stdio_entry(launch: ServerLaunch, host: HostEnv) -> dict[str, Any]:
    # Codex hands stdio servers only an allowlist of variables; these two are names, never values or secrets:
    # the data dir a user chose, and (Linux) the session bus the keychain answers on.
    passed = ["GROK_MCP_HOME"] + (["DBUS_SESSION_BUS_ADDRESS"] if host.platform == "linux" else [])
    # By name, not `env` with values (plain_stdio's): Codex then passes the bus of the session it runs in.
    entry = {"command": launch.command, "args": list(launch.args)}
    return {**entry, "env_vars": passed, "startup_timeout_sec": STARTUP_TIMEOUT_S}


SPEC = ClientSpec(
    name="codex",
    display_name="Codex / ChatGPT desktop",
    config_paths=lambda host: [_codex_home(host) / "config.toml"],
    restart_hint=fixed_hint(RESTART_HINT),
    format=TomlFormat(),
    container="mcp_servers",
    stdio_entry=stdio_entry,
    executables=("codex",),
    http_entry=bearer_http(headers_key="http_headers"),
)
