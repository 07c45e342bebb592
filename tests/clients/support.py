"""Helpers for the client-setup tests: a temp home per OS layout, fixtures and their hostile variants."""

from __future__ import annotations

import codecs
from pathlib import Path

from grok_mcp.clients import ClientManager, HostEnv, ServerLaunch
from grok_mcp.clients.base import Platform

FIXTURES = Path(__file__).parent / "fixtures"
VARIANTS = ("as-is", "crlf", "bom", "crlf+bom")


def fixture_bytes(name: str, variant: str = "as-is") -> bytes:
    """A fixture file, optionally with CRLF line endings and/or a UTF-8 BOM added."""
    data = (FIXTURES / name).read_bytes()
    if "crlf" in variant:
        data = data.replace(b"\n", b"\r\n")
    if "bom" in variant:
        data = codecs.BOM_UTF8 + data
    return data


def fake_launch(root: Path) -> ServerLaunch:
    """A real executable file at a path with spaces and non-ASCII characters."""
    binary = root / "Grök MCP files" / "bin dir" / "grok-mcp"
    binary.parent.mkdir(parents=True, exist_ok=True)
    binary.write_text("#!/bin/sh\n", encoding="utf-8")
    binary.chmod(0o755)
    return ServerLaunch(str(binary), ("serve",))


def host_for(root: Path, platform: Platform = "linux") -> HostEnv:
    """A home dir under `root`, with the environment variables that platform's layout uses."""
    home = root / "home" / "Zoë Smith"
    home.mkdir(parents=True, exist_ok=True)
    env = {"PATH": str(root / "no-such-bin")}
    if platform == "win32":
        env |= {"APPDATA": str(home / "AppData" / "Roaming"), "LOCALAPPDATA": str(home / "AppData" / "Local")}
    return HostEnv(home, platform, env)


def manager_for(root: Path, platform: Platform = "linux", launch: ServerLaunch | None = None) -> ClientManager:
    return ClientManager(
        host_for(root, platform),
        launch or fake_launch(root),
        root / "data" / "client-backups",
        http_url="http://127.0.0.1:8765/mcp",
        running=lambda spec, host: None,
    )
