"""Windsurf (Cascade): `~/.codeium/windsurf/mcp_config.json` under `mcpServers`; HTTP entries use `serverUrl`."""

from __future__ import annotations

from typing import Any

from grok_mcp.clients.base import ClientSpec, HostEnv, HttpEndpoint, plain_stdio
from grok_mcp.clients.jsonc import JsonFormat


def http_entry(endpoint: HttpEndpoint) -> dict[str, Any]:
    return {"serverUrl": endpoint.url, "headers": {"Authorization": endpoint.authorization}}


def restart_hint(host: HostEnv) -> str:
    del host
    return "Press the refresh button in Cascade's MCP panel (or restart Windsurf). Windsurf allows 100 tools in all."


def spec() -> ClientSpec:
    return ClientSpec(
        name="windsurf",
        display_name="Windsurf",
        format=JsonFormat(is_jsonc=False),
        container="mcpServers",
        config_paths=lambda host: [host.home / ".codeium" / "windsurf" / "mcp_config.json"],
        stdio_entry=plain_stdio,
        restart_hint=restart_hint,
        detect_paths=lambda host: [host.home / ".codeium" / "windsurf"],
        executables=("windsurf",),
        http_entry=http_entry,
    )
