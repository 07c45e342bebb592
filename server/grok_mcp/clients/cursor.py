"""Cursor: the global `~/.cursor/mcp.json` under `mcpServers`."""

from __future__ import annotations

from grok_mcp.clients.base import ClientSpec, HostEnv, plain_stdio, url_http
from grok_mcp.clients.jsonc import JsonFormat


def restart_hint(host: HostEnv) -> str:
    del host
    return "In Cursor open Settings → MCP and switch grok off and on again (or restart Cursor)."


def spec() -> ClientSpec:
    return ClientSpec(
        name="cursor",
        display_name="Cursor",
        format=JsonFormat(is_jsonc=False),
        container="mcpServers",
        config_paths=lambda host: [host.home / ".cursor" / "mcp.json"],
        stdio_entry=plain_stdio,
        restart_hint=restart_hint,
        detect_paths=lambda host: [host.home / ".cursor"],
        executables=("cursor",),
        http_entry=url_http,
    )
