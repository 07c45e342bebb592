"""Cursor: the global `~/.cursor/mcp.json` under `mcpServers`."""

from __future__ import annotations

from grok_mcp.clients.base import ClientSpec, fixed_hint, in_home, url_http

SPEC = ClientSpec(
    name="cursor",
    display_name="Cursor",
    config_paths=in_home(".cursor/mcp.json"),
    restart_hint=fixed_hint("In Cursor open Settings → MCP and switch grok off and on again (or restart Cursor)."),
    executables=("cursor",),
    http_entry=url_http,
)
