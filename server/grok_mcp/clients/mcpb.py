"""The Claude Desktop extension: a `.mcpb` zip whose manifest starts Grok MCP's server, with no secret inside.

With a frozen build folder (or when running frozen) the bundle carries the `grok-mcp` executable and its
files under `server/`, so a double-click installs Grok MCP on any machine of that platform. From source it
is a small launcher bundle that starts this computer's venv, for developers.
"""

from __future__ import annotations

import json
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grok_mcp import __version__
from grok_mcp.clients.base import Platform, ServerLaunch, current_platform
from grok_mcp.clients.errors import ConfigWriteError, UnsupportedModeError

MANIFEST_VERSION = "0.3"
PRIVACY_POLICY_URL = "https://x.ai/legal/privacy-policy"  # every prompt goes to xAI's API


@dataclass(frozen=True)
class BundleResult:
    """The written bundle, what kind it is, and its manifest."""

    path: Path
    kind: str
    manifest: dict[str, Any]


def build_manifest(
    *, command: str, args: list[str], entry_point: str, platforms: list[Platform], win_command: str | None = None
) -> dict[str, Any]:
    """A manifest for `mcpb` (schema 0.3): a binary server started over stdio; the key stays in the keychain."""
    mcp_config: dict[str, Any] = {"command": command, "args": args, "env": {}}
    if win_command is not None:
        mcp_config["platform_overrides"] = {"win32": {"command": win_command}}
    return {
        "manifest_version": MANIFEST_VERSION,
        "name": "grok-mcp",
        "display_name": "Grok",
        "version": __version__,
        "description": "xAI's Grok as tools: chat, image analysis and generation, web and X search, usage.",
        "long_description": (
            "Grok MCP connects Claude Desktop to xAI's Grok. The xAI API key stays in the operating system's "
            "keychain (set it with the Grok MCP tray app or `grok-mcp keys set`); this extension holds no secret."
        ),
        "author": {"name": "Grok MCP"},
        "license": "MIT",
        "keywords": ["grok", "xai", "llm", "search", "images"],
        "privacy_policies": [PRIVACY_POLICY_URL],
        "server": {"type": "binary", "entry_point": entry_point, "mcp_config": mcp_config},
        "tools_generated": True,
        "compatibility": {"platforms": platforms},
    }


def _frozen_files(server_dir: Path) -> tuple[list[Path], list[Platform]]:
    platforms: list[Platform] = []
    if (server_dir / "grok-mcp").is_file():
        platforms.append("darwin")
        platforms.append("linux")
    if (server_dir / "grok-mcp.exe").is_file():
        platforms.append("win32")
    if not platforms:
        raise UnsupportedModeError(
            f"{server_dir} holds no grok-mcp executable. Point --server-dir at the folder of a frozen build "
            "(the one with grok-mcp or grok-mcp.exe in it)."
        )
    files = sorted(p for p in server_dir.rglob("*") if p.is_file())
    return files, platforms


def build_bundle(
    output: Path, launch: ServerLaunch, *, server_dir: Path | None = None, platform: Platform | None = None
) -> BundleResult:
    """Write the `.mcpb` zip atomically. Raises UnsupportedModeError, ConfigWriteError."""
    platform = platform or current_platform()
    files: list[tuple[Path, str]] = []
    if server_dir is None and launch.args == ("serve",):  # frozen: bundle the folder the executable lives in
        server_dir = Path(launch.command).parent
    if server_dir is not None:
        found, platforms = _frozen_files(server_dir)
        files = [(p, "server/" + p.relative_to(server_dir).as_posix()) for p in found]
        has_unix = "linux" in platforms
        manifest = build_manifest(
            command="${__dirname}/server/grok-mcp" + ("" if has_unix else ".exe"),
            args=["serve"],
            entry_point="server/grok-mcp" + ("" if has_unix else ".exe"),
            platforms=platforms,
            win_command="${__dirname}/server/grok-mcp.exe" if has_unix and "win32" in platforms else None,
        )
        kind = "self-contained bundle"
    else:
        manifest = build_manifest(
            command=launch.command, args=list(launch.args), entry_point=launch.command, platforms=[platform]
        )
        kind = "launcher bundle for this computer's source checkout"
    output = output.absolute()
    temp = output.with_name(f".{output.name}.{secrets.token_hex(4)}.tmp")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
            for source, name in files:
                info = zipfile.ZipInfo.from_file(source, name)
                info.compress_type = zipfile.ZIP_DEFLATED
                with source.open("rb") as fh:
                    bundle.writestr(info, fh.read())
        os.replace(temp, output)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ConfigWriteError(f"Cannot write {output}: {exc.strerror}.") from exc
    return BundleResult(output, kind, manifest)
