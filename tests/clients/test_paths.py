"""Every client's config path on every OS layout, Claude Desktop's MSIX copy included, from a temp home."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
from grok_mcp.clients import client_names, get_client
from grok_mcp.clients.base import HostEnv, Platform

from tests.clients.support import host_for

PLATFORMS: tuple[Platform, ...] = get_args(Platform)


def everywhere(path: str) -> dict[Platform, str]:
    """The same path under the home folder on every platform."""
    return dict.fromkeys(PLATFORMS, path)


def app_config(path: str) -> dict[Platform, str]:
    """`path` in each platform's per-user settings folder: XDG config, Application Support, roaming AppData."""
    return {
        "linux": f".config/{path}",
        "darwin": f"Library/Application Support/{path}",
        "win32": f"AppData/Roaming/{path}",
    }


def unix_and_windows(unix: str, windows: str) -> dict[Platform, str]:
    """One path on Linux and macOS, another on Windows."""
    return {"linux": unix, "darwin": unix, "win32": windows}


EXPECTED: dict[str, dict[Platform, str]] = {
    "claude-desktop": app_config("Claude/claude_desktop_config.json"),
    "claude-code": everywhere(".claude.json"),
    "cursor": everywhere(".cursor/mcp.json"),
    "vscode": app_config("Code/User/mcp.json"),
    "vscode-insiders": app_config("Code - Insiders/User/mcp.json"),
    "windsurf": everywhere(".codeium/windsurf/mcp_config.json"),
    "zed": unix_and_windows(".config/zed/settings.json", "AppData/Roaming/Zed/settings.json"),
    "cline": app_config("Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"),
    "continue": everywhere(".continue/config.yaml"),
    "lm-studio": everywhere(".lmstudio/mcp.json"),
    "gemini-cli": everywhere(".gemini/settings.json"),
    "codex": everywhere(".codex/config.toml"),
    "goose": unix_and_windows(".config/goose/config.yaml", "AppData/Roaming/Block/goose/config/config.yaml"),
}


def test_every_client_named_in_the_design_has_a_module() -> None:
    assert client_names() == list(EXPECTED)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("name", list(EXPECTED))
def test_config_path_follows_the_platform_layout(tmp_path: Path, name: str, platform: Platform) -> None:
    host = host_for(tmp_path, platform)
    assert get_client(name).config_path(host) == host.home / EXPECTED[name][platform]


def test_xdg_config_home_moves_the_linux_paths(tmp_path: Path) -> None:
    host = HostEnv(tmp_path / "home", "linux", {"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    assert get_client("claude-desktop").config_path(host) == tmp_path / "xdg/Claude/claude_desktop_config.json"
    assert get_client("goose").config_path(host) == tmp_path / "xdg/goose/config.yaml"


def test_codex_home_moves_the_codex_config(tmp_path: Path) -> None:
    host = HostEnv(tmp_path / "home", "linux", {"CODEX_HOME": str(tmp_path / "codex home")})
    assert get_client("codex").config_path(host) == tmp_path / "codex home" / "config.toml"


def _msix(host: HostEnv) -> Path:
    return (
        host.home / "AppData/Local/Packages/Claude_pzs8sxrjxfjjc/LocalCache/Roaming/Claude/claude_desktop_config.json"
    )


def test_claude_desktop_on_msix_writes_the_package_copy_when_no_file_exists_yet(tmp_path: Path) -> None:
    host = host_for(tmp_path, "win32")
    (host.home / "AppData/Local/Packages/Claude_pzs8sxrjxfjjc").mkdir(parents=True)
    paths = get_client("claude-desktop").config_paths(host)
    assert paths == [_msix(host), host.home / "AppData/Roaming/Claude/claude_desktop_config.json"]


def test_claude_desktop_on_msix_keeps_using_a_real_appdata_file_that_already_exists(tmp_path: Path) -> None:
    host = host_for(tmp_path, "win32")
    (host.home / "AppData/Local/Packages/Claude_pzs8sxrjxfjjc").mkdir(parents=True)
    real = host.home / "AppData/Roaming/Claude/claude_desktop_config.json"
    real.parent.mkdir(parents=True)
    real.write_text("{}", encoding="utf-8")
    assert get_client("claude-desktop").config_paths(host)[0] == real


def test_claude_desktop_on_msix_prefers_the_package_copy_when_both_exist(tmp_path: Path) -> None:
    host = host_for(tmp_path, "win32")
    for path in (_msix(host), host.home / "AppData/Roaming/Claude/claude_desktop_config.json"):
        path.parent.mkdir(parents=True)
        path.write_text("{}", encoding="utf-8")
    assert get_client("claude-desktop").config_paths(host)[0] == _msix(host)
