"""VS Code and VS Code Insiders: the user profile's `mcp.json` (JSONC) under `servers`."""

from __future__ import annotations

from grok_mcp.clients.base import ClientSpec, fixed_hint, typed_http, typed_stdio, vscode_user_dir
from grok_mcp.clients.jsonc import JsonFormat

RESTART_HINT = "In VS Code run the command “MCP: List Servers”, pick grok and choose Start (or Restart)."


def _spec(name: str, display_name: str, product: str, executable: str) -> ClientSpec:
    return ClientSpec(
        name=name,
        display_name=display_name,
        config_paths=lambda host: [vscode_user_dir(host, product) / "mcp.json"],
        restart_hint=fixed_hint(RESTART_HINT),
        format=JsonFormat(is_jsonc=True),
        container="servers",
        stdio_entry=typed_stdio,
        detect_paths=lambda host: [vscode_user_dir(host, product).parent],
        executables=(executable,),
        http_entry=typed_http,
    )


SPEC = _spec("vscode", "VS Code", "Code", "code")
INSIDERS_SPEC = _spec("vscode-insiders", "VS Code Insiders", "Code - Insiders", "code-insiders")
