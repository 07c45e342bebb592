"""Helpers for tests that run real `grok-mcp` processes: environments, free ports, readiness waits."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx2

ROOT = Path(__file__).resolve().parents[2]
SERVER_COMMAND = [sys.executable, "-m", "grok_mcp"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(home: Path, *, base_url: str | None = None, key: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a child server: this test's data dir, the simulator, and a key if given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XAI_", "GROK_MCP_"))}
    env["GROK_MCP_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    if base_url:
        env["GROK_MCP_BASE_URL"] = base_url
    if key:
        env["XAI_API_KEY"] = key
    env.update(extra)
    return env


INITIALIZE_AND_LIST_TOOLS = (
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},'
    '"clientInfo":{"name":"t","version":"1"}}}\n'
    '{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
    '{"jsonrpc":"2.0","id":2,"method":"tools/list"}\n'
)
"""What an MCP client writes first over stdio: initialize (id 1), the initialized notification, tools/list (id 2)."""


def run_program(
    command: list[str],
    *args: str,
    env: dict[str, str] | None,
    stdin: str | IO[bytes] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run `command` with `args` to its end and capture its output; `stdin` is text to send or a file to read."""
    return subprocess.run(
        [*command, *args],
        env=env,
        cwd=ROOT,
        input=stdin if isinstance(stdin, str) else None,
        stdin=None if isinstance(stdin, str) else stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_cli(
    *args: str, env: dict[str, str], stdin: str | IO[bytes] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `grok-mcp` from this checkout with `args` (see run_program)."""
    return run_program(SERVER_COMMAND, *args, env=env, stdin=stdin, timeout=timeout)


def run_to_end(
    command: list[str], *, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `command` from the repository root until it ends, capturing its text; `env` None: this process's."""
    return run_program(command, env=env, stdin=stdin, timeout=timeout)


def stdio_server(*args: str, env: dict[str, str], stderr: int | IO[str] = subprocess.PIPE) -> subprocess.Popen[str]:
    """A real `grok-mcp serve` on pipes, as an MCP client starts it; closing its stdin tells it the client is gone."""
    return subprocess.Popen(
        [*SERVER_COMMAND, "serve", *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        encoding="utf-8",
    )


@dataclass
class HttpServer:
    process: subprocess.Popen[str]
    port: int
    token: str
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stderr_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def wait_for_health(
    root: str, process: subprocess.Popen[Any], *, timeout: float = 20, who: str = "the server", poll_s: float = 0.05
) -> dict[str, Any]:
    """Wait (polling every `poll_s`, with a bound) until `root`/healthz answers 200; its JSON.

    Fails if `process` exits first.
    """
    deadline = time.monotonic() + timeout
    with httpx2.Client(timeout=1) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"{who} exited with {process.returncode} before {root}/healthz answered")
            try:
                response = client.get(f"{root}/healthz")
                if response.status_code == 200:
                    return dict(response.json())
            except httpx2.TransportError:
                pass
            time.sleep(poll_s)  # polling a port with a bound, not waiting for time to pass
    raise AssertionError(f"{root}/healthz did not answer within {timeout} s")


@contextmanager
def http_server(
    home: Path,
    *,
    base_url: str | None,
    key: str | None,
    token: str = "test-token-" + "0" * 24,
    extra_args: tuple[str, ...] = (),
    stdin_pipe: bool = False,
    **env_extra: str,
) -> Iterator[HttpServer]:
    """A real `grok-mcp serve --transport http` on a free loopback port; stopped with SIGTERM afterwards.

    With `stdin_pipe` its stdin is a pipe the test holds (`server.process.stdin`), as the tray does.
    """
    port = free_port()
    log = home / f"http-server-{port}.stderr"
    env = server_env(home, base_url=base_url, key=key, GROK_MCP_HTTP_TOKEN=token, **env_extra)
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            [*SERVER_COMMAND, "serve", "--transport", "http", "--port", str(port), *extra_args],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
            text=True,
        )
    server = HttpServer(process, port, token, log)
    try:
        wait_for_health(server.root, process)
        yield server
    finally:
        if process.stdin is not None and not process.stdin.closed:
            process.stdin.close()
        if process.poll() is None:
            stop_process(process, timeout_s=40)


def stop_process(process: subprocess.Popen[Any], *, timeout_s: float) -> None:
    """Ask `process` to stop (SIGTERM), kill it if it has not exited within `timeout_s`, and reap it."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def is_alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting to be reaped counts as gone). Linux: reads /proc."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def wait_for_exit(pid: int, timeout_s: float) -> bool:
    """Wait (on a pidfd, with a bound) for a process that is not our child to exit. Linux only."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout_s)
        return bool(readable) or not is_alive(pid)
    finally:
        os.close(fd)
