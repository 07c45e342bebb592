"""Claude Code: user-scope servers in `~/.claude.json` under `mcpServers` (typed stdio or HTTP entries)."""

from __future__ import annotations

from grok_mcp.clients.base import ClientSpec, fixed_hint, in_home, typed_http, typed_stdio

RESTART_HINT = "Start a new Claude Code session (running sessions do not re-read the file); `/mcp` then lists grok."


SPEC = ClientSpec(
    name="claude-code",
    display_name="Claude Code",
    config_paths=in_home(".claude.json"),
    restart_hint=fixed_hint(RESTART_HINT),
    stdio_entry=typed_stdio,
    detect_paths=in_home(".claude"),
    executables=("claude",),
    http_entry=typed_http,
)
