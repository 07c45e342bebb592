"""Zed: `settings.json` (JSONC) under `context_servers`."""

from __future__ import annotations

from pathlib import Path

from grok_mcp.clients.base import ClientSpec, HostEnv, fixed_hint, url_http
from grok_mcp.clients.jsonc import JsonFormat


def _zed_dir(host: HostEnv) -> Path:
    if host.platform == "win32":
        return host.appdata / "Zed"
    if host.platform == "darwin":
        return host.home / ".config" / "zed"
    return host.config_home / "zed"


RESTART_HINT = (
    "Zed re-reads its settings by itself; if grok does not show up, open the Agent panel's settings and switch it on."
)


SPEC = ClientSpec(
    name="zed",
    display_name="Zed",
    config_paths=lambda host: [_zed_dir(host) / "settings.json"],
    restart_hint=fixed_hint(RESTART_HINT),
    format=JsonFormat(is_jsonc=True),
    container="context_servers",
    executables=("zed", "zeditor"),
    http_entry=url_http,
)
