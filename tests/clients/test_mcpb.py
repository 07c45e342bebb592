"""The Claude Desktop extension bundle: a zip with a manifest the official `mcpb validate` accepts."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
from grok_mcp.clients.launch import server_launch
from grok_mcp.clients.mcpb import build_bundle


def _validate(manifest: dict[str, object], folder: Path) -> None:
    npm_dir = os.environ.get("GROK_MCP_NPM_DIR")
    if not npm_dir:
        pytest.skip("GROK_MCP_NPM_DIR is not set (make test sets it); the official validator lives there")
    tool = Path(npm_dir) / "node_modules" / ".bin" / "mcpb"
    assert tool.exists(), f"GROK_MCP_NPM_DIR is set but {tool} is missing: add @anthropic-ai/mcpb to NPM_PACKAGES"
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    done = subprocess.run(
        [str(tool), "validate", str(folder / "manifest.json")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_source_checkout_gets_a_launcher_bundle_that_validates(tmp_path: Path) -> None:
    result = build_bundle(tmp_path / "out" / "grok.mcpb", server_launch(is_frozen=False))

    with zipfile.ZipFile(result.path) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["server"]["mcp_config"]["args"] == ["-m", "grok_mcp", "serve"]
    assert manifest["server"]["mcp_config"]["env"] == {}
    _validate(manifest, tmp_path)


def test_a_frozen_build_folder_is_bundled_with_per_platform_commands(tmp_path: Path) -> None:
    build = tmp_path / "dist" / "grok-mcp"
    (build / "_internal").mkdir(parents=True)
    (build / "grok-mcp").write_bytes(b"\x7fELF fake")
    (build / "grok-mcp.exe").write_bytes(b"MZ fake")
    (build / "_internal" / "base_library.zip").write_bytes(b"PK")

    result = build_bundle(tmp_path / "grok.mcpb", server_launch(is_frozen=False), server_dir=build)

    with zipfile.ZipFile(result.path) as bundle:
        names = set(bundle.namelist())
        manifest = json.loads(bundle.read("manifest.json"))
    assert {"server/grok-mcp", "server/grok-mcp.exe", "server/_internal/base_library.zip"} <= names
    config = manifest["server"]["mcp_config"]
    assert config["command"] == "${__dirname}/server/grok-mcp"
    assert config["platform_overrides"]["win32"]["command"] == "${__dirname}/server/grok-mcp.exe"
    assert sorted(manifest["compatibility"]["platforms"]) == ["darwin", "linux", "win32"]
    _validate(manifest, tmp_path)


def test_a_folder_without_the_executable_is_refused(tmp_path: Path) -> None:
    from grok_mcp.clients.errors import UnsupportedModeError

    with pytest.raises(UnsupportedModeError, match="no grok-mcp executable"):
        build_bundle(tmp_path / "grok.mcpb", server_launch(is_frozen=False), server_dir=tmp_path)
    assert not (tmp_path / "grok.mcpb").exists()
