"""LM Studio (0.3.17 and later): `~/.lmstudio/mcp.json` under `mcpServers`."""

from __future__ import annotations

from grok_mcp.clients.base import ClientSpec, HostEnv, plain_stdio, url_http
from grok_mcp.clients.jsonc import JsonFormat


def restart_hint(host: HostEnv) -> str:
    del host
    return "Restart LM Studio (or open Program → Install → Edit mcp.json and save) so it loads grok."


def spec() -> ClientSpec:
    return ClientSpec(
        name="lm-studio",
        display_name="LM Studio",
        format=JsonFormat(is_jsonc=False),
        container="mcpServers",
        config_paths=lambda host: [host.home / ".lmstudio" / "mcp.json"],
        stdio_entry=plain_stdio,
        restart_hint=restart_hint,
        detect_paths=lambda host: [host.home / ".lmstudio", host.home / ".cache" / "lm-studio"],
        executables=("lms",),
        http_entry=url_http,
    )
