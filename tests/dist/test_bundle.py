"""The frozen bundle works as users run it: the server over stdio, the keychain, and the tray on a real X server.

Each test runs against the bundle `make dist` built and against the copy the .deb installs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from grok_mcp import __version__
from tests.dist.conftest import Installation, unexpected_lines
from tests.support.keychain import SECRET_SERVICE_BACKEND, KeychainSession
from tests.support.processes import free_port, run_program, server_env, wait_for_health
from tests.support.simulator import TEST_KEY, RunningSimulator

pytestmark = pytest.mark.dist

HEALTHY_TIMEOUT_S = 30.0
EXIT_TIMEOUT_S = 20.0
TRAY_TOKEN = "dist-smoke-token-" + "0" * 24


def processes_running_from(folder: Path) -> dict[int, str]:
    """pid → executable, for every live process whose executable is inside `folder` (as the .deb's prerm finds them)."""
    found: dict[int, str] = {}
    prefix = str(folder.resolve()) + os.sep
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            exe = os.readlink(entry / "exe")
        except OSError:
            continue  # gone, a zombie, or not ours to read
        if exe.startswith(prefix):
            found[int(entry.name)] = exe
    return found


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.05)  # polling a process table with a bound


def test_both_executables_report_the_package_version(installation: Installation) -> None:
    for program in (installation.server, installation.tray):
        done = run_program([str(program)], "--version", env=dict(os.environ))
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"{program.name} {__version__}"


@pytest.mark.anyio
async def test_bundled_server_answers_initialize_and_a_chat_over_stdio(
    installation: Installation, isolated_home: Path, simulator: RunningSimulator
) -> None:
    env = server_env(isolated_home, base_url=simulator.base_url, key=TEST_KEY)
    params = StdioServerParameters(command=str(installation.server), args=["serve"], env=env, cwd=str(isolated_home))
    stderr_path = isolated_home / "stderr.txt"
    with stderr_path.open("w+", encoding="utf-8") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            init = await session.initialize()
            assert init.server_info.name == "grok"
            assert init.server_info.version == __version__
            result = await session.call_tool("chat", {"prompt": "Say hello from the frozen build."})
            assert not result.is_error, result.content
            assert result.structured_content is not None
            assert result.structured_content["text"]
            assert result.structured_content["model"]
    assert simulator.request_count("/v1/chat/completions") + simulator.request_count("/v1/responses") == 1
    assert unexpected_lines(stderr_path.read_text(encoding="utf-8")) == []


def test_doctor_in_the_bundle_uses_the_real_keychain(
    installation: Installation, isolated_home: Path, clean_keychain: KeychainSession
) -> None:
    env = server_env(isolated_home)  # no XAI_API_KEY: the key comes from the keychain
    server = [str(installation.server)]
    stored = run_program(server, "keys", "set", "--no-validate", env=env, stdin="xai-dist-smoke-key-0001\n")
    assert stored.returncode == 0, stored.stderr

    done = run_program(server, "doctor", "--json", env=env)
    report = json.loads(done.stdout)
    checks = {check["name"]: check for check in report["checks"]}
    assert report["version"] == __version__
    assert checks["api key"]["status"] == "ok", checks["api key"]
    assert f"keychain ({SECRET_SERVICE_BACKEND})" in checks["api key"]["detail"]
    assert "dist-smoke-key-0001" not in done.stdout  # redacted, never printed whole
    assert unexpected_lines(done.stderr) == []


def test_bundled_tray_starts_its_server_under_xvfb_and_quits_on_sigterm_without_orphans(
    installation: Installation,
    isolated_home: Path,
    tmp_path: Path,
    clean_keychain: KeychainSession,
    xvfb_display: str,
) -> None:
    port = free_port()
    user_home = tmp_path / "user-home"
    env = server_env(
        isolated_home,
        GROK_MCP_PORT=str(port),
        GROK_MCP_HTTP_TOKEN=TRAY_TOKEN,
        DISPLAY=xvfb_display,
        QT_QPA_PLATFORM="xcb",
        HOME=str(user_home),
        XDG_CONFIG_HOME=str(user_home / ".config"),
        XDG_CACHE_HOME=str(user_home / ".cache"),
    )
    stderr_path = tmp_path / "tray.stderr"
    with stderr_path.open("w", encoding="utf-8") as sink:
        tray = subprocess.Popen(
            [str(installation.tray)], env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink, cwd=tmp_path
        )
    try:
        # No key in the keychain: a first run, so the server child runs in demo mode on the simulator.
        health = wait_for_health(f"http://127.0.0.1:{port}", tray, timeout=HEALTHY_TIMEOUT_S, who="the tray")
        assert health["app"] == "grok-mcp"
        assert health["version"] == __version__
        child = int(health["pid"])
        assert child != tray.pid
        assert Path(os.readlink(f"/proc/{child}/exe")) == installation.server.resolve()  # the sibling executable
        assert _parent_of(child) == tray.pid

        tray.send_signal(signal.SIGTERM)
        returncode = tray.wait(EXIT_TIMEOUT_S)
    finally:
        if tray.poll() is None:
            tray.kill()
            tray.wait()
    # SIGTERM either ends the tray's event loop (exit 0) or the process (-SIGTERM); both are a clean stop.
    assert returncode in (0, -signal.SIGTERM), returncode
    wait_until(
        lambda: not processes_running_from(installation.folder),
        EXIT_TIMEOUT_S,
        f"the server child (and every process from {installation.folder}) did not exit after the tray",
    )
    tray_stderr = stderr_path.read_text(encoding="utf-8", errors="replace")
    assert unexpected_lines(tray_stderr) == [], tray_stderr
    server_log = (isolated_home / "logs" / "server.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in server_log
    assert TRAY_TOKEN not in server_log + tray_stderr


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    return int(stat.rsplit(")", 1)[1].split()[1])
