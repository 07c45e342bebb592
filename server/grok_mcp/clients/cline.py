"""Cline (the VS Code extension): `cline_mcp_settings.json` in its global storage, under `mcpServers`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grok_mcp.clients.base import ClientSpec, HostEnv, HttpEndpoint, plain_stdio, vscode_user_dir
from grok_mcp.clients.jsonc import JsonFormat


def _storage(host: HostEnv) -> Path:
    return vscode_user_dir(host, "Code") / "globalStorage" / "saoudrizwan.claude-dev"


def http_entry(endpoint: HttpEndpoint) -> dict[str, Any]:
    return {"type": "streamableHttp", "url": endpoint.url, "headers": {"Authorization": endpoint.authorization}}


def restart_hint(host: HostEnv) -> str:
    del host
    return "Cline watches this file and reconnects by itself; check the MCP Servers tab in Cline."


def spec() -> ClientSpec:
    return ClientSpec(
        name="cline",
        display_name="Cline",
        format=JsonFormat(is_jsonc=False),
        container="mcpServers",
        config_paths=lambda host: [_storage(host) / "settings" / "cline_mcp_settings.json"],
        stdio_entry=plain_stdio,
        restart_hint=restart_hint,
        detect_paths=lambda host: [_storage(host)],
        http_entry=http_entry,
    )
