"""Continue: `~/.continue/config.yaml`, whose `mcpServers` is a list of `{name: …}` items."""

from __future__ import annotations

from typing import Any

from grok_mcp.clients.base import ENTRY_NAME, ClientSpec, HostEnv, ServerLaunch, fixed_hint, in_home, plain_stdio
from grok_mcp.clients.yamlfile import YamlFormat

RESTART_HINT = "Continue reloads config.yaml when it is saved; reopen the Continue panel if grok is not listed."


def stdio_entry(launch: ServerLaunch, host: HostEnv) -> dict[str, Any]:
    return {"name": ENTRY_NAME, **plain_stdio(launch, host)}


SPEC = ClientSpec(
    name="continue",
    display_name="Continue",
    config_paths=in_home(".continue/config.yaml"),
    restart_hint=fixed_hint(RESTART_HINT),
    format=YamlFormat(is_keyed_list=True),
    stdio_entry=stdio_entry,
    http_entry=None,  # how Continue sends headers is not documented well enough to write a token there
)
