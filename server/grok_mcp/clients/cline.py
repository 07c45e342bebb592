"""Cline (the VS Code extension): `cline_mcp_settings.json` in its global storage, under `mcpServers`."""

from __future__ import annotations

from pathlib import Path

from grok_mcp.clients.base import ClientSpec, HostEnv, bearer_http, fixed_hint, vscode_user_dir

RESTART_HINT = "Cline watches this file and reconnects by itself; check the MCP Servers tab in Cline."


def _storage(host: HostEnv) -> Path:
    return vscode_user_dir(host, "Code") / "globalStorage" / "saoudrizwan.claude-dev"


SPEC = ClientSpec(
    name="cline",
    display_name="Cline",
    config_paths=lambda host: [_storage(host) / "settings" / "cline_mcp_settings.json"],
    restart_hint=fixed_hint(RESTART_HINT),
    detect_paths=lambda host: [_storage(host)],
    http_entry=bearer_http(kind="streamableHttp"),
)
