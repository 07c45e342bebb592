"""Qt offscreen for every desktop test, and helpers to build supervisors around real child processes."""

from __future__ import annotations

import os

# Before anything imports Qt: there is no screen here, and tests must not depend on one.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

import dataclasses
import gc
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from grok_mcp.config import Settings, load_settings
from grok_mcp_desktop.supervisor import ServerSupervisor, SupervisorTimings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.support.processes import ROOT, free_port, server_env

TEST_TOKEN = "desktop-test-token-" + "0" * 24

# A stand-in server for supervisor tests that need a healthy child quickly: it answers /healthz like
# grok-mcp (its own pid) on the --port it is given, optionally exits after --live-ms.
FAKE_SERVER = textwrap.dedent(
    """
    import json, os, sys, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    args = sys.argv[1:]
    port = int(args[args.index("--port") + 1])
    live_ms = int(args[args.index("--live-ms") + 1]) if "--live-ms" in args else 0

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"status": "ok", "app": "grok-mcp", "version": "0", "pid": os.getpid()}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("fake server listening", flush=True)
    if live_ms:
        threading.Timer(live_ms / 1000, lambda: os._exit(9)).start()
    server.serve_forever()
    """
)

FAST = SupervisorTimings(
    startup_poll_ms=50,
    startup_timeout_ms=15_000,
    health_interval_ms=200,
    health_request_timeout_ms=1_000,
    unhealthy_limit=2,
    kill_timeout_ms=3_000,
    backoff_base_ms=20,
    backoff_cap_ms=80,
    healthy_reset_ms=60_000,
    max_quick_failures=4,
)


@pytest.fixture(autouse=True)
def collect_garbage_on_the_gui_thread() -> Iterator[None]:
    """Collect garbage only here, on the GUI thread, between tests.

    A Qt object must be destroyed on the thread that owns it. With automatic collection on, a reference cycle
    holding a Qt wrapper is collected on whichever thread allocates next; in this process that can be the
    in-process simulator's uvicorn thread.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def run_offscreen(arguments: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run this Python with `arguments` from the repository root, Qt offscreen; its output captured as text."""
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def desktop_settings(isolated_home: Path) -> Settings:
    """This test's settings: the isolated data dir and a free port."""
    return dataclasses.replace(load_settings(), port=free_port())


@pytest.fixture
def child_env(isolated_home: Path) -> dict[str, str]:
    """The environment of server children: this test's data dir and a fixed HTTP token (no keychain)."""
    return server_env(isolated_home, GROK_MCP_HTTP_TOKEN=TEST_TOKEN)


@pytest.fixture
def script(tmp_path: Path) -> Callable[[str, str], list[str]]:
    """Write a Python script and return the command that runs it."""

    def write(name: str, source: str) -> list[str]:
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return [sys.executable, str(path)]

    return write


@pytest.fixture
def make_supervisor(
    qapp: QApplication, desktop_settings: Settings, child_env: dict[str, str]
) -> Iterator[Callable[..., ServerSupervisor]]:
    """Build supervisors (stopped and waited for after the test)."""
    made: list[ServerSupervisor] = []

    def make(
        command: list[str] | None = None, *, timings: SupervisorTimings = FAST, **kwargs: object
    ) -> ServerSupervisor:
        options: dict[str, object] = {"environ": child_env, "timings": timings, **kwargs}
        options.setdefault("settings", desktop_settings)
        settings = options.pop("settings")
        supervisor = ServerSupervisor(settings, command=command, **options)  # type: ignore[arg-type]
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:
        supervisor.shutdown()


DEAF_TO_SIGTERM = "ignoring SIGTERM"
"""What a child started by `start_deaf_child` prints once SIGTERM can no longer stop it."""


@pytest.fixture
def start_deaf_child(
    qtbot: QtBot, make_supervisor: Callable[..., ServerSupervisor], script: Callable[[str, str], list[str]]
) -> Callable[..., ServerSupervisor]:
    """Supervise a child that ignores SIGTERM, then runs `then` (Python source); returns once it ignores it.

    The keyword arguments change FAST's timings; the child may take a minute to count as started.
    """

    def start(then: str, **timings: int) -> ServerSupervisor:
        deaf = script(
            "deaf",
            "import signal, sys, threading\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            f"print({DEAF_TO_SIGTERM!r}, flush=True)\n" + textwrap.dedent(then),
        )
        supervisor = make_supervisor(deaf, timings=dataclasses.replace(FAST, startup_timeout_ms=60_000, **timings))
        supervisor.start()
        qtbot.waitUntil(lambda: DEAF_TO_SIGTERM in supervisor.log_tail(), timeout=10_000)
        return supervisor

    return start
