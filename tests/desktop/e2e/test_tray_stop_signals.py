"""The tray process quits on SIGTERM as on its menu's Quit: its server child drains and exits, then it exits 0."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from tests.support.processes import ROOT, free_port

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _is_alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text(encoding="utf-8").lower()
    except FileNotFoundError:
        return False


def test_sigterm_to_the_tray_stops_its_server_gracefully_and_exits_0(
    no_keychain_env: dict[str, str], isolated_home: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in no_keychain_env.items() if not k.startswith(("XAI_", "GROK_MCP_"))}
    env |= {"GROK_MCP_HOME": str(isolated_home), "GROK_MCP_PORT": str(port), "QT_QPA_PLATFORM": "offscreen"}
    tray_log = isolated_home / "tray.log"
    with tray_log.open("w", encoding="utf-8") as log:
        tray = subprocess.Popen(
            [sys.executable, "-m", "desktop"], env=env, cwd=ROOT, stdout=log, stderr=log, stdin=subprocess.DEVNULL
        )
    try:
        child = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and tray.poll() is None:
            try:
                child = httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()["pid"]
                break
            except httpx2.TransportError:
                time.sleep(0.1)  # polling a port with a bound
        assert child is not None, tray_log.read_text(encoding="utf-8")

        tray.send_signal(signal.SIGTERM)
        assert tray.wait(timeout=30) == 0, tray_log.read_text(encoding="utf-8")
    finally:
        if tray.poll() is None:
            tray.kill()
            tray.wait()
    # The tray waited for its child before exiting: the child is gone already, and it left by itself, with 0.
    assert not _is_alive(child)
    tray_text = tray_log.read_text(encoding="utf-8")
    assert "Received SIGTERM: quitting" in tray_text
    assert "The server child exited with code 0" in tray_text
    assert "killing it" not in tray_text
    server_log = (isolated_home / "logs" / "grok-mcp.log").read_text(encoding="utf-8")
    assert ": finishing 0 running call(s)" in server_log  # the server's own graceful stop ran
