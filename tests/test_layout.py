"""The package layout users and newcomers rely on: a wheel of two packages with names of their own, and rooms.

The wheel is built from a copy of the source tree and installed into a fresh venv that sees only the
runtime dependencies, then started as an MCP client would start it: `python -m grok_mcp serve --simulate`.
"""

from __future__ import annotations

import ast
import os
import shutil
import site
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import TextContent

from tests.support.processes import ROOT, server_env

MAX_FUNCTION_LINES = 80
MAX_TOP_LEVEL_MODULES = 12


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of grok-mcp, built with pip from a copy of what the distribution is made of."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("server", "desktop"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("grok_mcp-*.whl")
    return built


def _without_source_path(env: dict[str, str]) -> dict[str, str]:
    """The environment minus PYTHONPATH, which a developer's run may point at the source tree."""
    env.pop("PYTHONPATH", None)
    return env


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv holding the wheel; the runtime dependencies come from this venv's site-packages by path.

    A plain path in a .pth file adds that folder to sys.path without running the .pth files inside it, so the
    editable install of the source tree that lives there is not seen: `grok_mcp` can only come from the wheel.
    """
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(purelib), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (purelib / "runtime-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    where = subprocess.run(
        [str(python), "-c", "import grok_mcp; print(grok_mcp.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=venv,
        env=_without_source_path(dict(os.environ)),
    ).stdout.strip()
    assert Path(where).is_relative_to(purelib), where  # the wheel's copy, never the source tree
    yield python


def test_the_wheel_holds_no_top_level_package_but_grok_mcp_and_grok_mcp_desktop(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
    packages = {top for top in tops if not top.endswith((".dist-info", ".data"))}
    assert packages == {"grok_mcp", "grok_mcp_desktop"}


@pytest.mark.anyio
async def test_python_m_grok_mcp_from_the_wheel_answers_initialize_and_chat_over_stdio(
    installed: Path, isolated_home: Path
) -> None:
    params = StdioServerParameters(
        command=str(installed),
        args=["-m", "grok_mcp", "serve", "--simulate"],
        env=_without_source_path(server_env(isolated_home)),
        cwd=str(isolated_home),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        init = await session.initialize()
        assert init.server_info.name == "grok"
        result = await session.call_tool("chat", {"prompt": "Hello from a wheel"})
    assert not result.is_error
    assert result.structured_content and result.structured_content["simulated"] is True
    assert "".join(block.text for block in result.content if isinstance(block, TextContent))


def _python_files(folder: str) -> list[Path]:
    return sorted(path for path in (ROOT / folder).rglob("*.py") if "__pycache__" not in path.parts)


def test_no_function_in_server_or_desktop_is_longer_than_80_lines() -> None:
    too_long: list[str] = []
    for path in [*_python_files("server"), *_python_files("desktop")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert not too_long, "split these into smaller functions:\n" + "\n".join(too_long)


def test_the_top_of_grok_mcp_holds_its_face_and_at_most_12_modules() -> None:
    top = sorted(path.name for path in (ROOT / "server" / "grok_mcp").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, f"move some of these into a room: {top}"
