"""The wheel and sdist `make dist` builds for PyPI install and run as MCP clients start them: pip and uvx.

Each install starts from nothing: a fresh venv, or uv's own tool environment, with the dependencies
from PyPI. Then the real MCP SDK client drives `grok-mcp serve --simulate` over stdio: initialize,
tools/list and one tool call.
"""

from __future__ import annotations

import email.parser
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from grok_mcp import __version__
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import TextContent

from tests.dist.conftest import DIST_DIR, require
from tests.support.processes import ROOT, server_env
from tests.support.tool_venv import tool

pytestmark = pytest.mark.dist

PYPI_DIR = DIST_DIR / "pypi"
WHEEL = PYPI_DIR / f"grok_mcp-{__version__}-py3-none-any.whl"
SDIST = PYPI_DIR / f"grok_mcp-{__version__}.tar.gz"
REGISTRY_NAME = "io.github.grok-mcp/grok-mcp"
INSTALL_TIMEOUT_S = 600
UV_CACHE = ROOT / "build" / "uv-cache"  # kept between runs, like pip's cache


def _clean_env(env: dict[str, str]) -> dict[str, str]:
    """`env` without what points a child at this checkout or this venv, so only the installed copy runs."""
    for name in ("PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(name, None)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix))
    return env


async def _serve_and_call(command: str, args: list[str], env: dict[str, str], cwd: Path) -> None:
    params = StdioServerParameters(command=command, args=args, env=env, cwd=str(cwd))
    with (cwd / "server-stderr.txt").open("w", encoding="utf-8") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            result = await session.call_tool("chat", {"prompt": "Hello from PyPI"})
    assert init.server_info.name == "grok"
    assert init.server_info.version == __version__
    assert {"chat", "list_models", "usage_summary"} <= {t.name for t in tools.tools}
    assert not result.is_error, result.content
    assert result.structured_content and result.structured_content["simulated"] is True
    assert "".join(block.text for block in result.content if isinstance(block, TextContent))


def test_the_wheel_and_sdist_pass_twine_check() -> None:
    done = subprocess.run(
        [str(tool("twine")), "check", "--strict", str(require(WHEEL)), str(require(SDIST))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_wheel_metadata_has_license_urls_classifiers_and_the_registry_marker() -> None:
    with zipfile.ZipFile(require(WHEEL)) as wheel:
        info = f"grok_mcp-{__version__}.dist-info"
        metadata = email.parser.Parser().parsestr(wheel.read(f"{info}/METADATA").decode("utf-8"))
        names = set(wheel.namelist())
    assert metadata["License-Expression"] == "MIT"
    assert f"{info}/licenses/LICENSE" in names
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL", []))
    assert urls["Repository"] == "https://github.com/grok-mcp/grok-mcp"
    assert {"Homepage", "Issues", "Changelog"} <= set(urls)
    classifiers = metadata.get_all("Classifier", [])
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert any(c.startswith("Development Status ::") for c in classifiers)
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert f"mcp-name: {REGISTRY_NAME}" in metadata.get_payload()  # the registry's PyPI ownership check


def test_the_sdist_builds_the_same_distribution() -> None:
    import tarfile

    with tarfile.open(require(SDIST)) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"LICENSE", "README.md", "pyproject.toml", "server/grok_mcp/__init__.py"} <= names
    assert "desktop/grok_mcp_desktop/app.py" in names


@pytest.fixture
def pip_installed(tmp_path: Path) -> Path:
    """The `grok-mcp` script of a fresh venv into which pip installed the wheel (dependencies from PyPI)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(require(WHEEL))],
        env=_clean_env(dict(os.environ)),  # with the source tree on PYTHONPATH pip would think it is installed
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    return venv / "bin" / "grok-mcp"


@pytest.fixture
def uvx_env(tmp_path: Path, isolated_home: Path) -> dict[str, str]:
    """The environment for `uvx --from <wheel> grok-mcp`, after one run that resolved and installed it."""
    env = _clean_env(
        server_env(
            isolated_home,
            UV_CACHE_DIR=str(UV_CACHE),
            UV_TOOL_DIR=str(tmp_path / "uv-tools"),
            UV_PYTHON_DOWNLOADS="never",  # the Python of this machine, as a user's uvx would find it
            UV_NATIVE_TLS="1",  # the system's certificate store, as pip uses here
        )
    )
    warm = subprocess.run(
        [str(tool("uvx")), "--python", sys.executable, "--from", str(require(WHEEL)), "grok-mcp", "--version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        check=False,
    )  # so the MCP session below starts a ready server, not a download
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.strip() == f"grok-mcp {__version__}"
    return env


@pytest.mark.anyio
async def test_the_wheel_installed_by_pip_into_a_fresh_venv_serves_over_stdio(
    pip_installed: Path, isolated_home: Path
) -> None:
    env = _clean_env(server_env(isolated_home))
    await _serve_and_call(str(pip_installed), ["serve", "--simulate"], env, isolated_home)


@pytest.mark.anyio
async def test_uvx_from_the_wheel_serves_over_stdio(uvx_env: dict[str, str], isolated_home: Path) -> None:
    args = ["--python", sys.executable, "--from", str(WHEEL), "grok-mcp", "serve", "--simulate"]
    await _serve_and_call(str(tool("uvx")), args, uvx_env, isolated_home)
