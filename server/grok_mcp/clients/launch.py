"""The command that runs Grok MCP for a client entry and the tray's child: frozen `grok-mcp`, or this venv's Python."""

from __future__ import annotations

import os
import sys

from grok_mcp.clients.base import Platform, ServerLaunch, current_platform


def grok_mcp_command(
    *, executable: str | None = None, is_frozen: bool | None = None, platform: Platform | None = None
) -> list[str]:
    """The absolute command that runs `grok-mcp` here, before any subcommand; the one home of that fact.

    A frozen build ships the console `grok-mcp` executable next to the one running now; from source it is
    the venv's Python with `-m grok_mcp` (the venv path is kept as is, never resolved through its symlink).
    """
    executable = executable if executable is not None else sys.executable
    is_frozen = bool(getattr(sys, "frozen", False)) if is_frozen is None else is_frozen
    platform = platform or current_platform()
    if is_frozen:
        name = "grok-mcp.exe" if platform == "win32" else "grok-mcp"
        folder = os.path.dirname(os.path.abspath(executable))
        return [os.path.join(folder, name)]
    return [os.path.abspath(executable), "-m", "grok_mcp"]


def server_launch(
    *, executable: str | None = None, is_frozen: bool | None = None, platform: Platform | None = None
) -> ServerLaunch:
    """The absolute stdio command for this installation (`grok-mcp serve`), with no secret in it."""
    program, *args = grok_mcp_command(executable=executable, is_frozen=is_frozen, platform=platform)
    return ServerLaunch(program, (*args, "serve"))


def local_http_url(port: int) -> str:
    """The tray's MCP endpoint on loopback."""
    return f"http://127.0.0.1:{port}/mcp"
