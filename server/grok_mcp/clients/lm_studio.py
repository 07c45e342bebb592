"""LM Studio (0.3.17 and later): `~/.lmstudio/mcp.json` under `mcpServers`."""

from __future__ import annotations

from grok_mcp.clients.base import ClientSpec, fixed_hint, in_home, url_http

RESTART_HINT = "Restart LM Studio (or open Program → Install → Edit mcp.json and save) so it loads grok."


SPEC = ClientSpec(
    name="lm-studio",
    display_name="LM Studio",
    config_paths=in_home(".lmstudio/mcp.json"),
    restart_hint=fixed_hint(RESTART_HINT),
    detect_paths=in_home(".lmstudio", ".cache/lm-studio"),
    executables=("lms",),
    http_entry=url_http,
)
