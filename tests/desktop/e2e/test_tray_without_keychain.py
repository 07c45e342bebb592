"""A tray on a machine with no OS keychain still runs: its server child in demo mode, with a session token."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx2

from tests.desktop.e2e.demo_tray import demo_tray
from tests.support.processes import wait_for_exit


def test_the_tray_runs_demo_mode_with_a_session_token_when_there_is_no_keychain(
    no_keychain_env: dict[str, str], isolated_home: Path
) -> None:
    with demo_tray(no_keychain_env, isolated_home) as tray:
        assert tray.health["app"] == "grok-mcp", tray.log_text()
        # The child needs a bearer token it could not have read from a keychain: the tray made one.
        assert httpx2.post(f"http://127.0.0.1:{tray.port}/mcp", json={}, timeout=5).status_code == 401
        tray.process.send_signal(signal.SIGTERM)
        tray.process.wait(timeout=30)
    # The child follows the tray out (PR_SET_PDEATHSIG), finishing its own graceful stop: no orphan remains.
    assert wait_for_exit(tray.health["pid"], timeout_s=15)
