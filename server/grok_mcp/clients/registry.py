"""The clients Grok MCP knows, in the order the CLI and the tray list them."""

from __future__ import annotations

from grok_mcp.clients import (
    claude_code,
    claude_desktop,
    cline,
    codex,
    continue_dev,
    cursor,
    gemini_cli,
    goose,
    lm_studio,
    vscode,
    windsurf,
    zed,
)
from grok_mcp.clients.base import ClientSpec
from grok_mcp.clients.errors import UnknownClientError


def all_clients() -> list[ClientSpec]:
    """Every client, Claude Desktop first."""
    return [
        claude_desktop.SPEC,
        claude_code.SPEC,
        cursor.SPEC,
        vscode.SPEC,
        vscode.INSIDERS_SPEC,
        windsurf.SPEC,
        zed.SPEC,
        cline.SPEC,
        continue_dev.SPEC,
        lm_studio.SPEC,
        gemini_cli.SPEC,
        codex.SPEC,
        goose.SPEC,
    ]


def client_names() -> list[str]:
    return [spec.name for spec in all_clients()]


def get_client(name: str) -> ClientSpec:
    """The client called `name`. Raises UnknownClientError listing the valid names."""
    for spec in all_clients():
        if spec.name == name:
            return spec
    raise UnknownClientError(f"There is no client called {name!r}. Choose one of: {', '.join(client_names())}.")
