"""The tray menu follows the supervisor's state, its actions drive the supervisor, and copying never leaks the token."""

from __future__ import annotations

from collections.abc import Callable

from grok_mcp_desktop.icons import STATE_COLORS, IconSet
from grok_mcp_desktop.supervisor import ServerState, ServerSupervisor
from grok_mcp_desktop.tray import TrayController
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.desktop.conftest import FAKE_SERVER, TEST_TOKEN

MakeSupervisor = Callable[..., ServerSupervisor]
Script = Callable[[str, str], list[str]]


def make_tray(supervisor: ServerSupervisor) -> TrayController:
    return TrayController(supervisor, IconSet(), parent=supervisor)


def running_tray(qtbot: QtBot, supervisor: ServerSupervisor) -> tuple[ServerSupervisor, TrayController]:
    """A tray over `supervisor`, started and RUNNING."""
    tray = make_tray(supervisor)
    supervisor.start()
    qtbot.waitUntil(lambda: supervisor.state is ServerState.RUNNING, timeout=10_000)
    return supervisor, tray


def trigger(tray: TrayController, name: str) -> None:
    action = tray.action(name)
    assert action is not None, f"no {name!r} in {tray.action_names()}"
    assert action.isEnabled()
    action.trigger()


def test_a_stopped_server_offers_start_but_not_stop_or_copy(make_supervisor: MakeSupervisor, script: Script) -> None:
    tray = make_tray(make_supervisor(script("fake", FAKE_SERVER)))
    names = tray.action_names()
    assert "start" in names
    assert "stop" not in names
    assert "restart" not in names
    copy = tray.action("copy_connection")
    assert copy is not None
    assert not copy.isEnabled()
    status = tray.action("status")
    assert status is not None
    assert status.text() == "Grok MCP: stopped"
    assert "connect_clients" in names
    assert names[-1] == "quit"


def test_the_menu_is_rebuilt_when_the_server_runs_and_stop_stops_it(
    qtbot: QtBot, make_supervisor: MakeSupervisor, script: Script
) -> None:
    supervisor = make_supervisor(script("fake", FAKE_SERVER))
    tray = make_tray(supervisor)
    trigger(tray, "start")
    qtbot.waitUntil(lambda: supervisor.state is ServerState.RUNNING, timeout=10_000)

    names = tray.action_names()
    assert "start" not in names
    assert {"stop", "restart", "dashboard", "open_logs", "autostart", "quit"} <= set(names)
    status = tray.action("status")
    assert status is not None
    assert status.text() == f"Grok MCP: running on port {supervisor.port}"
    assert tray.icon.toolTip() == status.text()

    trigger(tray, "stop")
    qtbot.waitUntil(lambda: supervisor.state is ServerState.STOPPED, timeout=10_000)
    assert supervisor.user_stopped
    assert "start" in tray.action_names()


def test_restart_from_the_menu_replaces_the_child(
    qtbot: QtBot, make_supervisor: MakeSupervisor, script: Script
) -> None:
    supervisor, tray = running_tray(qtbot, make_supervisor(script("fake", FAKE_SERVER)))
    first = supervisor.server_pid
    trigger(tray, "restart")
    qtbot.waitUntil(lambda: supervisor.state is ServerState.RUNNING and supervisor.server_pid != first, timeout=10_000)


def test_copy_connection_details_puts_the_url_and_never_the_token_on_the_clipboard(
    qtbot: QtBot, make_supervisor: MakeSupervisor, script: Script
) -> None:
    supervisor, tray = running_tray(qtbot, make_supervisor(script("fake", FAKE_SERVER)))
    QGuiApplication.clipboard().clear()
    trigger(tray, "copy_connection")
    text = QGuiApplication.clipboard().text()
    assert f"http://127.0.0.1:{supervisor.port}/mcp" in text
    assert TEST_TOKEN not in text
    assert "keychain" in text


def test_demo_mode_is_marked_simulated_and_offers_adding_a_key(make_supervisor: MakeSupervisor, script: Script) -> None:
    tray = make_tray(make_supervisor(script("fake", FAKE_SERVER), simulate=True))
    tray.set_details(model="grok-4.7", spend_today_usd=0.126)
    status, details = tray.action("status"), tray.action("details")
    assert status is not None
    assert details is not None
    assert "simulated" in status.text()
    assert details.text() == "Model grok-4.7 · $0.13 today (simulated)"
    assert "add_key" in tray.action_names()


def test_a_server_without_a_key_offers_a_key_or_demo_mode_and_shows_why(
    qtbot: QtBot, make_supervisor: MakeSupervisor, script: Script
) -> None:
    supervisor = make_supervisor(script("nokey", "import sys\nsys.exit(3)\n"))
    tray = make_tray(supervisor)
    supervisor.start()
    qtbot.waitUntil(lambda: supervisor.state is ServerState.ERROR, timeout=10_000)
    assert {"add_key", "demo_mode", "start"} <= set(tray.action_names())
    error = tray.action("error")
    assert error is not None
    assert error.text().startswith("No xAI API key is configured")
    with qtbot.waitSignal(tray.demo_mode_requested, timeout=1_000):
        trigger(tray, "demo_mode")


def test_the_tray_icon_has_a_distinct_look_for_each_state(qapp: QApplication) -> None:
    icons = IconSet()
    assert icons.has_artwork
    corner = {}
    for state in ServerState:
        image = icons.pixmap(state, 64).toImage()
        corner[state] = image.pixelColor(52, 52).name()
    for state, color in STATE_COLORS.items():
        assert corner[state] == color
    assert corner[ServerState.STOPPED] not in STATE_COLORS.values()
    assert (
        len({corner[s] for s in (ServerState.STARTING, ServerState.RUNNING, ServerState.DEGRADED, ServerState.ERROR)})
        == 4
    )


def test_the_autostart_entry_reports_its_toggle(make_supervisor: MakeSupervisor, script: Script, qtbot: QtBot) -> None:
    tray = make_tray(make_supervisor(script("fake", FAKE_SERVER)))
    action = tray.action("autostart")
    assert action is not None
    assert action.isCheckable()
    assert not action.isChecked()
    with qtbot.waitSignal(tray.autostart_toggled, timeout=1_000) as toggled:
        action.trigger()
    assert toggled.args == [True]
