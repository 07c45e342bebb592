"""One tray per data dir: a second launch exits 0 and the first one is asked to show its window."""

from __future__ import annotations

import socket
from pathlib import Path

from grok_mcp_desktop.single_instance import SingleInstance, instance_name
from pytestqt.qtbot import QtBot

from tests.desktop.conftest import run_offscreen


def test_the_instance_name_depends_on_the_data_dir(tmp_path: Path) -> None:
    assert instance_name(tmp_path / "a") != instance_name(tmp_path / "b")
    assert instance_name(tmp_path / "a") == instance_name(tmp_path / "a")


def test_a_second_claim_fails_and_the_first_is_asked_to_show(qtbot: QtBot, tmp_path: Path) -> None:
    name = instance_name(tmp_path)
    first = SingleInstance(name)
    assert first.claim()
    assert first.is_primary
    second = SingleInstance(name)
    with qtbot.waitSignal(first.show_requested, timeout=5_000):
        assert not second.claim()
    assert not second.is_primary
    first.release()


def test_a_second_grok_mcp_desktop_exits_0_and_the_first_shows_its_window(qtbot: QtBot, isolated_home: Path) -> None:
    first = SingleInstance(instance_name(isolated_home))
    assert first.claim()
    with qtbot.waitSignal(first.show_requested, timeout=10_000):
        second = run_offscreen(["-m", "grok_mcp_desktop"], timeout=60)
    assert second.returncode == 0, second.stderr
    first.release()


def test_a_socket_left_by_a_crashed_tray_does_not_block_the_next_one(qtbot: QtBot, tmp_path: Path) -> None:
    name = instance_name(tmp_path)
    crashed = SingleInstance(name)
    assert crashed.claim()
    path = crashed._server.fullServerName() if crashed._server is not None else ""
    crashed.release()
    # A crash leaves the socket file behind with nobody listening on it.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()
    assert Path(path).exists()
    fresh = SingleInstance(name)
    assert fresh.claim()
    assert fresh.is_primary
    fresh.release()
