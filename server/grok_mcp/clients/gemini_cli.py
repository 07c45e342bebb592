"""Gemini CLI: `~/.gemini/settings.json` under `mcpServers`; Streamable HTTP entries use `httpUrl`."""

from __future__ import annotations

from typing import Any

from grok_mcp.clients.base import ClientSpec, HostEnv, HttpEndpoint, plain_stdio
from grok_mcp.clients.jsonc import JsonFormat


def http_entry(endpoint: HttpEndpoint) -> dict[str, Any]:
    return {"httpUrl": endpoint.url, "headers": {"Authorization": endpoint.authorization}}  # `url` would mean SSE


def restart_hint(host: HostEnv) -> str:
    del host
    return "Restart Gemini CLI; `/mcp` then shows grok."


def spec() -> ClientSpec:
    return ClientSpec(
        name="gemini-cli",
        display_name="Gemini CLI",
        format=JsonFormat(is_jsonc=False),
        container="mcpServers",
        config_paths=lambda host: [host.home / ".gemini" / "settings.json"],
        stdio_entry=plain_stdio,
        restart_hint=restart_hint,
        detect_paths=lambda host: [host.home / ".gemini"],
        executables=("gemini",),
        http_entry=http_entry,
    )
