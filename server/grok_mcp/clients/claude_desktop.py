"""Claude Desktop: `claude_desktop_config.json` (stdio entries only), including the MSIX-virtualized copy on Windows."""

from __future__ import annotations

from pathlib import Path

from grok_mcp.clients.base import ClientSpec, HostEnv, Platform

FILENAME = "claude_desktop_config.json"
MSIX_PACKAGE_GLOB = "Claude_*"


def msix_config_paths(host: HostEnv) -> list[Path]:
    """The per-package copies MSIX installs read: `%LOCALAPPDATA%\\Packages\\Claude_*\\LocalCache\\Roaming\\Claude`."""
    packages = host.local_appdata / "Packages"
    if not packages.is_dir():
        return []
    return [p / "LocalCache" / "Roaming" / "Claude" / FILENAME for p in sorted(packages.glob(MSIX_PACKAGE_GLOB))]


def config_paths(host: HostEnv) -> list[Path]:
    """Candidates, the one Claude Desktop reads first.

    On an MSIX install a file that already exists at the real `%APPDATA%` path is read in place, while a
    new one is created in the package's private copy; so the private copy wins unless only the real file
    exists.
    """
    if host.platform == "darwin":
        return [host.app_support / "Claude" / FILENAME]
    if host.platform == "win32":
        real = host.appdata / "Claude" / FILENAME
        msix = msix_config_paths(host)
        if not msix:
            return [real]
        if real.exists() and not any(p.exists() for p in msix):
            return [real, *msix]
        return [*sorted(msix, key=lambda p: not p.exists()), real]
    return [host.config_home / "Claude" / FILENAME]  # capital C: ~/.config/claude is a file Claude never reads


def detect_paths(host: HostEnv) -> list[Path]:
    if host.platform == "darwin":
        return [host.app_support / "Claude", host.home / "Applications" / "Claude.app"]
    if host.platform == "win32":
        return [host.appdata / "Claude", host.local_appdata / "AnthropicClaude", *msix_config_paths(host)]
    return [host.config_home / "Claude"]


def process_names(platform: Platform) -> frozenset[str]:
    """Names of a running Claude Desktop (never `claude`, which is Claude Code's CLI)."""
    if platform == "darwin":
        return frozenset({"Claude"})
    if platform == "win32":
        return frozenset({"Claude.exe", "claude.exe"})
    return frozenset({"claude-desktop", "Claude"})


def restart_hint(host: HostEnv) -> str:
    if host.platform == "darwin":
        how = "choose Claude → Quit Claude in the menu bar (or press Cmd+Q while Claude is in front)"
    elif host.platform == "win32":
        how = (
            "right-click the Claude icon in the notification area (system tray, bottom right) and choose Quit, "
            "or end Claude in Task Manager"
        )
    else:
        how = "choose Quit from the Claude icon in the system tray (or File → Quit)"
    return (
        f"Quit Claude Desktop completely: {how}. Closing its window is not enough; it keeps running in the "
        "background. Then start Claude Desktop again; Grok's tools appear under the tools (hammer) menu."
    )


SPEC = ClientSpec(
    name="claude-desktop",
    display_name="Claude Desktop",
    config_paths=config_paths,
    restart_hint=restart_hint,
    detect_paths=detect_paths,
    executables=("claude-desktop",),
    http_entry=None,  # the file takes stdio entries only; a `url` entry is skipped or crashes the app
    process_names=process_names,
)
