"""Zed: `settings.json` (JSONC) under `context_servers`."""

from __future__ import annotations

from pathlib import Path

from grok_mcp.clients.base import ClientSpec, HostEnv, plain_stdio, url_http
from grok_mcp.clients.jsonc import JsonFormat


def _zed_dir(host: HostEnv) -> Path:
    if host.platform == "win32":
        return host.appdata / "Zed"
    if host.platform == "darwin":
        return host.home / ".config" / "zed"
    return host.config_home / "zed"


def restart_hint(host: HostEnv) -> str:
    del host
    return (
        "Zed re-reads its settings by itself; if grok does not show up, "
        "open the Agent panel's settings and switch it on."
    )


def spec() -> ClientSpec:
    return ClientSpec(
        name="zed",
        display_name="Zed",
        format=JsonFormat(is_jsonc=True),
        container="context_servers",
        config_paths=lambda host: [_zed_dir(host) / "settings.json"],
        stdio_entry=plain_stdio,
        restart_hint=restart_hint,
        detect_paths=lambda host: [_zed_dir(host)],
        executables=("zed", "zeditor"),
        http_entry=url_http,
    )
