"""A tray on a machine with no OS keychain still runs: its server child in demo mode, with a session token."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from tests.support.processes import ROOT, free_port


def test_the_tray_runs_demo_mode_with_a_session_token_when_there_is_no_keychain(
    no_keychain_env: dict[str, str], isolated_home: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in no_keychain_env.items() if not k.startswith(("XAI_", "GROK_MCP_"))}
    env |= {"GROK_MCP_HOME": str(isolated_home), "GROK_MCP_PORT": str(port), "QT_QPA_PLATFORM": "offscreen"}
    log = (isolated_home / "tray.log").open("w", encoding="utf-8")
    tray = subprocess.Popen(
        [sys.executable, "-m", "desktop"], env=env, cwd=ROOT, stdout=log, stderr=log, stdin=subprocess.DEVNULL
    )
    try:
        health = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and tray.poll() is None:
            try:
                health = httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
                break
            except httpx2.TransportError:
                time.sleep(0.1)  # polling a port with a bound
        assert health is not None and health["app"] == "grok-mcp", (isolated_home / "tray.log").read_text()
        # The child needs a bearer token it could not have read from a keychain: the tray made one.
        assert httpx2.post(f"http://127.0.0.1:{port}/mcp", json={}, timeout=5).status_code == 401
        child = health["pid"]
    finally:
        tray.send_signal(signal.SIGTERM)
        tray.wait(timeout=30)
        log.close()
    # The child follows the tray out (PR_SET_PDEATHSIG), finishing its own graceful stop: no orphan remains.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _is_alive(child):
        time.sleep(0.05)  # polling a pid with a bound
    assert not _is_alive(child)


def _is_alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text(encoding="utf-8").lower()
    except FileNotFoundError:
        return False
