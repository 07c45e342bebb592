"""A real tray process (`python -m grok_mcp_desktop`) in demo mode without a keychain, and its server child's health."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from tests.support.processes import ROOT, free_port


def launch_demo_tray(
    no_keychain_env: dict[str, str], home: Path, **extra_env: str
) -> tuple[subprocess.Popen[bytes], int, Path]:
    """Start the tray offscreen on a free port with `home` as its data dir (and `extra_env`, say XAI_API_KEY);
    (process, port, its log file)."""
    port = free_port()
    env = {k: v for k, v in no_keychain_env.items() if not k.startswith(("XAI_", "GROK_MCP_"))}
    env |= {"GROK_MCP_HOME": str(home), "GROK_MCP_PORT": str(port), "QT_QPA_PLATFORM": "offscreen", **extra_env}
    log_path = home / "tray.log"
    with log_path.open("w", encoding="utf-8") as log:
        tray = subprocess.Popen(
            [sys.executable, "-m", "grok_mcp_desktop"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
    return tray, port, log_path


def child_health(tray: subprocess.Popen[bytes], port: int, *, timeout_s: float = 30) -> dict[str, Any] | None:
    """The server child's /healthz once it answers, or None if the tray exits or the time runs out first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and tray.poll() is None:
        try:
            return dict(httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json())
        except httpx2.TransportError:
            time.sleep(0.1)  # polling a port with a bound
    return None


@dataclass
class DemoTray:
    """A running demo tray: its process, its port, its log file and its server child's first /healthz."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    health: dict[str, Any]

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8")


@contextmanager
def demo_tray(no_keychain_env: dict[str, str], home: Path, **extra_env: str) -> Iterator[DemoTray]:
    """A demo tray whose server child answered /healthz (see launch_demo_tray); killed afterwards if still running."""
    tray, port, log_path = launch_demo_tray(no_keychain_env, home, **extra_env)
    try:
        health = child_health(tray, port)
        assert health is not None, log_path.read_text(encoding="utf-8")
        yield DemoTray(tray, port, log_path, health)
    finally:
        if tray.poll() is None:
            tray.kill()
            tray.wait()
