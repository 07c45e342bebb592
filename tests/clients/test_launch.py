"""What command an entry names: the frozen `grok-mcp` next to the running executable, or this venv's Python."""

from __future__ import annotations

import sys
from pathlib import Path

from grok_mcp.clients.launch import local_http_url, server_launch


def test_a_frozen_build_points_at_the_sibling_console_executable(tmp_path: Path) -> None:
    tray = tmp_path / "Grok MCP Ünïcode" / "grok-mcp-desktop"
    launch = server_launch(executable=str(tray), is_frozen=True, platform="linux")
    assert launch.command == str(tmp_path / "Grok MCP Ünïcode" / "grok-mcp")
    assert launch.args == ("serve",)


def test_a_frozen_windows_build_names_the_exe() -> None:
    launch = server_launch(executable="/Program Files/Grok MCP/grok-mcp-desktop.exe", is_frozen=True, platform="win32")
    assert launch.command.endswith("grok-mcp.exe")


def test_from_source_it_is_the_venv_python_unresolved_with_dash_m_server() -> None:
    launch = server_launch(is_frozen=False)
    assert launch.command == str(Path(sys.executable).absolute())
    assert launch.args == ("-m", "grok_mcp", "serve")


def test_the_local_http_url_is_loopback() -> None:
    assert local_http_url(8765) == "http://127.0.0.1:8765/mcp"
