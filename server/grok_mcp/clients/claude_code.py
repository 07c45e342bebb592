"""Claude Code: user-scope servers in `~/.claude.json` under `mcpServers` (typed stdio or HTTP entries)."""

from __future__ import annotations

from grok_mcp.clients.base import ClientSpec, HostEnv, typed_http, typed_stdio
from grok_mcp.clients.jsonc import JsonFormat


def restart_hint(host: HostEnv) -> str:
    del host
    return "Start a new Claude Code session (running sessions do not re-read the file); `/mcp` then lists grok."


def spec() -> ClientSpec:
    return ClientSpec(
        name="claude-code",
        display_name="Claude Code",
        format=JsonFormat(is_jsonc=False),
        container="mcpServers",
        config_paths=lambda host: [host.home / ".claude.json"],
        stdio_entry=typed_stdio,
        restart_hint=restart_hint,
        detect_paths=lambda host: [host.home / ".claude"],
        executables=("claude",),
        http_entry=typed_http,
    )
