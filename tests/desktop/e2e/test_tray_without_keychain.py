"""A tray on a machine with no OS keychain still runs: its server child in demo mode, with a session token."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx2

from tests.desktop.e2e.demo_tray import child_health, launch_demo_tray
from tests.support.processes import wait_for_exit


def test_the_tray_runs_demo_mode_with_a_session_token_when_there_is_no_keychain(
    no_keychain_env: dict[str, str], isolated_home: Path
) -> None:
    tray, port, log_path = launch_demo_tray(no_keychain_env, isolated_home)
    try:
        health = child_health(tray, port)
        assert health is not None and health["app"] == "grok-mcp", log_path.read_text()
        # The child needs a bearer token it could not have read from a keychain: the tray made one.
        assert httpx2.post(f"http://127.0.0.1:{port}/mcp", json={}, timeout=5).status_code == 401
        child = health["pid"]
    finally:
        tray.send_signal(signal.SIGTERM)
        tray.wait(timeout=30)
    # The child follows the tray out (PR_SET_PDEATHSIG), finishing its own graceful stop: no orphan remains.
    assert wait_for_exit(child, timeout_s=15)
