"""Finding a running Claude Desktop: a real process with that name, seen through /proc."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from grok_mcp.clients import claude_desktop
from grok_mcp.clients.base import Platform
from grok_mcp.clients.processes import is_running, linux_process_names

from tests.clients.support import manager_for


def test_a_running_claude_desktop_is_seen_and_a_stopped_one_is_not(tmp_path: Path) -> None:
    names = claude_desktop.process_names("linux")
    fake_app = tmp_path / "claude-desktop"
    shutil.copy(shutil.which("cat") or "/bin/cat", fake_app)
    with subprocess.Popen([str(fake_app)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL) as app:
        # Popen returns after fork(); until the child has exec'd, /proc shows the parent's name.
        comm = Path(f"/proc/{app.pid}/comm")
        deadline = time.monotonic() + 10
        while comm.read_text(encoding="utf-8").strip() != "claude-desktop" and time.monotonic() < deadline:
            time.sleep(0.005)  # polling /proc with a bound
        assert "claude-desktop" in linux_process_names()
        assert is_running(names, "linux")
        assert app.stdin is not None
        app.stdin.close()
        app.wait(timeout=10)
    assert not is_running(names, "linux")


def test_claude_code_is_not_mistaken_for_claude_desktop() -> None:
    assert "claude" not in claude_desktop.process_names("linux")


def test_the_install_warns_when_claude_desktop_is_running(tmp_path: Path) -> None:
    manager = manager_for(tmp_path)
    running = type(manager)(manager.host, manager.launch, manager.backups_root, running=lambda spec, host: True)
    outcome = running.install("claude-desktop")
    assert outcome.warnings and "quit it fully" in outcome.warnings[0]
    assert "Closing its window is not enough" in outcome.restart_hint


@pytest.mark.parametrize(
    ("platform", "words"), [("darwin", "Cmd+Q"), ("win32", "notification area"), ("linux", "system tray")]
)
def test_the_restart_hint_names_the_quit_action_on_every_platform(
    tmp_path: Path, platform: Platform, words: str
) -> None:
    assert words in manager_for(tmp_path, platform).report("claude-desktop").restart_hint
