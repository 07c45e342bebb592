"""The tray process quits on SIGTERM as on its menu's Quit: its server child drains and exits, then it exits 0."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from tests.desktop.e2e.demo_tray import demo_tray
from tests.support.processes import is_alive

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def test_sigterm_to_the_tray_stops_its_server_gracefully_and_exits_0(
    no_keychain_env: dict[str, str], isolated_home: Path
) -> None:
    with demo_tray(no_keychain_env, isolated_home) as tray:
        tray.process.send_signal(signal.SIGTERM)
        assert tray.process.wait(timeout=30) == 0, tray.log_text()
    # The tray waited for its child before exiting: the child is gone already, and it left by itself, with 0.
    assert not is_alive(tray.health["pid"])
    tray_text = tray.log_text()
    assert "Received SIGTERM: quitting" in tray_text
    assert "The server child exited with code 0" in tray_text
    assert "killing it" not in tray_text
    server_log = (isolated_home / "logs" / "grok-mcp.log").read_text(encoding="utf-8")
    assert ": finishing 0 running call(s)" in server_log  # the server's own graceful stop ran
