"""A first run on a machine with no display and no keychain: `make run` and `serve --transport http` still start,
with a per-run token in a 0600 file, and say how to connect; `clients` commands find that token."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from grok_mcp import secrets
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.support.processes import ROOT, SERVER_COMMAND, free_port, run_cli, stop_process, wait_for_health

pytestmark = pytest.mark.anyio


@dataclass
class HeadlessServer:
    process: subprocess.Popen[str]
    port: int
    env: dict[str, str]
    log: Path
    pid: int  # the server's own (under `make run`, a grandchild of `process`)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    @property
    def token_file(self) -> Path:
        return Path(self.env["GROK_MCP_HOME"]) / f"http-token-{self.port}"

    def stderr_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def headless_env(no_keychain_env: dict[str, str], home: Path, port: int) -> dict[str, str]:
    """No display, no keychain, no key: what a fresh server box looks like (and a HOME for client configs)."""
    env = {k: v for k, v in no_keychain_env.items() if not k.startswith(("XAI_", "GROK_MCP_"))}
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)
    user_home = home.parent / "user-home"
    user_home.mkdir(exist_ok=True)
    env |= {"GROK_MCP_HOME": str(home), "GROK_MCP_PORT": str(port), "HOME": str(user_home)}
    return env


def start(command: list[str], env: dict[str, str], log: Path, port: int) -> HeadlessServer:
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink, text=True
        )
    try:
        health = wait_for_health(f"http://127.0.0.1:{port}", process, timeout=60)
    except AssertionError:
        stop_process(process, timeout_s=10)
        raise AssertionError(log.read_text(encoding="utf-8")) from None
    return HeadlessServer(process, port, env, log, int(health["pid"]))


@pytest.fixture
def demo_server(no_keychain_env: dict[str, str], isolated_home: Path) -> Iterator[HeadlessServer]:
    port = free_port()
    env = headless_env(no_keychain_env, isolated_home, port)
    server = start(
        [*SERVER_COMMAND, "serve", "--transport", "http", "--simulate"], env, isolated_home / "serve.log", port
    )
    try:
        yield server
    finally:
        if server.process.poll() is None:
            stop_process(server.process, timeout_s=30)


async def initialize_with(url: str, token: str) -> str:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        init = await session.initialize()
        return init.server_info.name


def assert_says_how_to_connect(text: str, server: HeadlessServer, token: str) -> None:
    assert server.url in text
    assert str(server.token_file) in text
    assert "grok-mcp clients install claude-code --http" in text
    assert "XAI_API_KEY" in text  # how to leave demo mode where `keys set` has no keychain
    assert token not in text  # the token never lands in scrollback


async def test_demo_mode_without_a_keychain_serves_http_with_a_per_run_token_in_a_private_file(
    demo_server: HeadlessServer,
) -> None:
    token_file = demo_server.token_file
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text(encoding="utf-8").strip()
    assert len(token) >= secrets.MIN_HTTP_TOKEN_LENGTH
    assert_says_how_to_connect(demo_server.stderr_text(), demo_server, token)
    assert httpx2.post(demo_server.url, json={}, timeout=5).status_code == 401
    assert await initialize_with(demo_server.url, token) == "grok"

    demo_server.process.send_signal(signal.SIGTERM)
    assert demo_server.process.wait(timeout=30) == 0
    assert not token_file.exists()  # the token lived as long as the run


def test_the_one_command_that_configures_a_client_uses_the_per_run_token(demo_server: HeadlessServer) -> None:
    token = demo_server.token_file.read_text(encoding="utf-8").strip()
    done = run_cli("clients", "install", "claude-code", "--http", env=demo_server.env)
    assert done.returncode == 0, done.stderr
    assert token not in done.stdout + done.stderr
    config = json.loads((Path(demo_server.env["HOME"]) / ".claude.json").read_text(encoding="utf-8"))
    entry = config["mcpServers"]["grok"]
    assert entry["url"] == demo_server.url
    assert token in json.dumps(entry)


def test_a_second_server_on_a_taken_port_leaves_the_first_ones_token_alone(demo_server: HeadlessServer) -> None:
    token = demo_server.token_file.read_text(encoding="utf-8").strip()
    done = run_cli("serve", "--transport", "http", "--simulate", env=demo_server.env)
    assert done.returncode == 5, done.stderr
    assert demo_server.token_file.read_text(encoding="utf-8").strip() == token


def fake_venv(root: Path) -> Path:
    """A venv folder for `make run VENV=…` that runs this checkout with this interpreter, already set up."""
    venv = root / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    launcher = venv / "bin" / "grok-mcp"
    pythonpath = os.pathsep.join(str(ROOT / part) for part in ("server", "desktop", ""))
    launcher.write_text(
        f'#!/bin/sh\nPYTHONPATH="{pythonpath}" exec "{sys.executable}" -m grok_mcp "$@"\n', encoding="utf-8"
    )
    launcher.chmod(0o755)
    (venv / ".installed-run").touch()  # newer than pyproject.toml: nothing to install
    return venv


def test_make_run_without_display_or_keychain_starts_demo_mode_and_says_how_to_connect(
    no_keychain_env: dict[str, str], isolated_home: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = headless_env(no_keychain_env, isolated_home, port)
    venv = fake_venv(tmp_path)
    server = start(["make", "--no-print-directory", "run", f"VENV={venv}"], env, isolated_home / "make.log", port)
    try:
        token = server.token_file.read_text(encoding="utf-8").strip()
        text = server.stderr_text()
        assert "demo mode" in text
        assert_says_how_to_connect(text, server, token)
        assert "pip install" not in text
        os.kill(server.pid, signal.SIGTERM)  # the server make started (by the pid its /healthz gave)
        assert server.process.wait(timeout=30) == 0
    finally:
        if server.process.poll() is None:
            os.kill(server.pid, signal.SIGKILL)
            stop_process(server.process, timeout_s=10)
    assert not server.token_file.exists()


@pytest.mark.parametrize(("display", "extras"), [("", "."), (":99", ".[desktop]")])
def test_make_run_installs_only_what_running_needs(tmp_path: Path, display: str, extras: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    if display:
        env["DISPLAY"] = display
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", f"VENV={tmp_path / 'new-venv'}"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # The one editable install of this project, and exactly which extras it names.
    assert re.findall(r"pip install -q -e '([^']*)'", done.stdout) == [extras], done.stdout
