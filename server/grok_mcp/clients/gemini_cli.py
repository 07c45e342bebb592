"""Gemini CLI: `~/.gemini/settings.json` under `mcpServers`; Streamable HTTP entries use `httpUrl`."""

from __future__ import annotations

from grok_mcp.clients.base import ClientSpec, bearer_http, fixed_hint, in_home

SPEC = ClientSpec(
    name="gemini-cli",
    display_name="Gemini CLI",
    config_paths=in_home(".gemini/settings.json"),
    restart_hint=fixed_hint("Restart Gemini CLI; `/mcp` then shows grok."),
    executables=("gemini",),
    http_entry=bearer_http("httpUrl"),  # `url` would mean SSE
)
