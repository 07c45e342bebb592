"""A tray on a machine with no OS keychain still runs: its server child in demo mode, with a session token."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx2

from tests.desktop.e2e.demo_tray import demo_tray
from tests.support.processes import wait_for_exit
from tests.support.simulator import TEST_KEY, RunningSimulator


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


def test_with_xai_api_key_and_no_keychain_the_tray_runs_its_server_on_that_key_with_a_session_token(
    no_keychain_env: dict[str, str], isolated_home: Path, simulator: RunningSimulator
) -> None:
    env = {"XAI_API_KEY": TEST_KEY, "GROK_MCP_BASE_URL": simulator.base_url}
    with demo_tray(no_keychain_env, isolated_home, **env) as tray:
        assert tray.health["app"] == "grok-mcp", tray.log_text()
        assert httpx2.post(f"http://127.0.0.1:{tray.port}/mcp", json={}, timeout=5).status_code == 401
        server_log = (isolated_home / "logs" / "server.log").read_text(encoding="utf-8")
        # The real API on the key from the environment, not demo mode, and no per-run token file: the tray
        # handed its child a token for this session.
        assert f"starting the server on port {tray.port}\n" in server_log
        assert "demo mode" not in server_log
        assert not (isolated_home / f"http-token-{tray.port}").exists()
        assert TEST_KEY not in server_log + tray.log_text()
        tray.process.send_signal(signal.SIGTERM)
        tray.process.wait(timeout=30)
    assert wait_for_exit(tray.health["pid"], timeout_s=15)
