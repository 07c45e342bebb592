"""The tray process quits on SIGTERM as on its menu's Quit: its server child drains and exits, then it exits 0."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from tests.desktop.e2e.demo_tray import child_health, launch_demo_tray
from tests.support.processes import is_alive

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def test_sigterm_to_the_tray_stops_its_server_gracefully_and_exits_0(
    no_keychain_env: dict[str, str], isolated_home: Path
) -> None:
    tray, port, tray_log = launch_demo_tray(no_keychain_env, isolated_home)
    try:
        health = child_health(tray, port)
        assert health is not None, tray_log.read_text(encoding="utf-8")
        child = health["pid"]

        tray.send_signal(signal.SIGTERM)
        assert tray.wait(timeout=30) == 0, tray_log.read_text(encoding="utf-8")
    finally:
        if tray.poll() is None:
            tray.kill()
            tray.wait()
    # The tray waited for its child before exiting: the child is gone already, and it left by itself, with 0.
    assert not is_alive(child)
    tray_text = tray_log.read_text(encoding="utf-8")
    assert "Received SIGTERM: quitting" in tray_text
    assert "The server child exited with code 0" in tray_text
    assert "killing it" not in tray_text
    server_log = (isolated_home / "logs" / "grok-mcp.log").read_text(encoding="utf-8")
    assert ": finishing 0 running call(s)" in server_log  # the server's own graceful stop ran
