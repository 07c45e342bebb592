"""Every client's config path on every OS layout, Claude Desktop's MSIX copy included, from a temp home."""

from __future__ import annotations

from pathlib import Path

import pytest
from grok_mcp.clients import client_names, get_client
from grok_mcp.clients.base import HostEnv, Platform

from tests.clients.support import host_for

EXPECTED: dict[str, dict[Platform, str]] = {
    "claude-desktop": {
        "linux": ".config/Claude/claude_desktop_config.json",
        "darwin": "Library/Application Support/Claude/claude_desktop_config.json",
        "win32": "AppData/Roaming/Claude/claude_desktop_config.json",
    },
    "claude-code": {p: ".claude.json" for p in ("linux", "darwin", "win32")},
    "cursor": {p: ".cursor/mcp.json" for p in ("linux", "darwin", "win32")},
    "vscode": {
        "linux": ".config/Code/User/mcp.json",
        "darwin": "Library/Application Support/Code/User/mcp.json",
        "win32": "AppData/Roaming/Code/User/mcp.json",
    },
    "vscode-insiders": {
        "linux": ".config/Code - Insiders/User/mcp.json",
        "darwin": "Library/Application Support/Code - Insiders/User/mcp.json",
        "win32": "AppData/Roaming/Code - Insiders/User/mcp.json",
    },
    "windsurf": {p: ".codeium/windsurf/mcp_config.json" for p in ("linux", "darwin", "win32")},
    "zed": {
        "linux": ".config/zed/settings.json",
        "darwin": ".config/zed/settings.json",
        "win32": "AppData/Roaming/Zed/settings.json",
    },
    "cline": {
        "linux": ".config/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json",
        "darwin": "Library/Application Support/Code/User/globalStorage/saoudrizwan.claude-dev/settings/"
        "cline_mcp_settings.json",
        "win32": "AppData/Roaming/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json",
    },
    "continue": {p: ".continue/config.yaml" for p in ("linux", "darwin", "win32")},
    "lm-studio": {p: ".lmstudio/mcp.json" for p in ("linux", "darwin", "win32")},
    "gemini-cli": {p: ".gemini/settings.json" for p in ("linux", "darwin", "win32")},
    "codex": {p: ".codex/config.toml" for p in ("linux", "darwin", "win32")},
    "goose": {
        "linux": ".config/goose/config.yaml",
        "darwin": ".config/goose/config.yaml",
        "win32": "AppData/Roaming/Block/goose/config/config.yaml",
    },
}


def test_every_client_named_in_the_design_has_a_module() -> None:
    assert client_names() == list(EXPECTED)


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
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
