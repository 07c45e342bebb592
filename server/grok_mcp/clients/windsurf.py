"""Windsurf (Cascade): `~/.codeium/windsurf/mcp_config.json` under `mcpServers`; HTTP entries use `serverUrl`."""

from __future__ import annotations

from grok_mcp.clients.base import ClientSpec, bearer_http, fixed_hint, in_home

RESTART_HINT = (
    "Press the refresh button in Cascade's MCP panel (or restart Windsurf). Windsurf allows 100 tools in all."
)


SPEC = ClientSpec(
    name="windsurf",
    display_name="Windsurf",
    config_paths=in_home(".codeium/windsurf/mcp_config.json"),
    restart_hint=fixed_hint(RESTART_HINT),
    executables=("windsurf",),
    http_entry=bearer_http("serverUrl"),
)
