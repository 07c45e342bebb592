"""Continue: `~/.continue/config.yaml`, whose `mcpServers` is a list of `{name: …}` items."""

from __future__ import annotations

from typing import Any

from grok_mcp.clients.base import ENTRY_NAME, ClientSpec, HostEnv, ServerLaunch
from grok_mcp.clients.yamlfile import YamlFormat


def stdio_entry(launch: ServerLaunch, host: HostEnv) -> dict[str, Any]:
    del host
    return {"name": ENTRY_NAME, "command": launch.command, "args": list(launch.args)}


def restart_hint(host: HostEnv) -> str:
    del host
    return "Continue reloads config.yaml when it is saved; reopen the Continue panel if grok is not listed."


def spec() -> ClientSpec:
    return ClientSpec(
        name="continue",
        display_name="Continue",
        format=YamlFormat(is_keyed_list=True),
        container="mcpServers",
        config_paths=lambda host: [host.home / ".continue" / "config.yaml"],
        stdio_entry=stdio_entry,
        restart_hint=restart_hint,
        detect_paths=lambda host: [host.home / ".continue"],
        http_entry=None,  # how Continue sends headers is not documented well enough to write a token there
        is_keyed_list=True,
    )
