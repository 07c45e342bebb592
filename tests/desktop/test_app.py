"""The composition root: first run in demo mode with a welcome, storing a key, budgets and quitting cleanly."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from grok_mcp import secrets
from grok_mcp.config import Settings
from grok_mcp.logs import register_secret
from grok_mcp.store.units import TICKS_PER_USD
from grok_mcp_desktop.app import DESKTOP_LOG_FILENAME, DesktopApp, configure_logging
from grok_mcp_desktop.autostart import Autostart
from grok_mcp_desktop.supervisor import ServerState
from grok_mcp_desktop.windows.welcome import WelcomeDialog
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.desktop.conftest import FAST
from tests.support.keychain import KeychainSession
from tests.support.ledger import record_chat_call
from tests.support.processes import SERVER_COMMAND
from tests.support.simulator import TEST_KEY, RunningSimulator

MakeApp = Callable[..., DesktopApp]


@pytest.fixture
def make_app(qapp: QApplication, desktop_settings: Settings, tmp_path: Path) -> Iterator[MakeApp]:
    made: list[DesktopApp] = []

    def make(settings: Settings = desktop_settings, **kwargs: object) -> DesktopApp:
        autostart = Autostart(platform="linux", home=tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
        app = DesktopApp(settings, command=list(SERVER_COMMAND), timings=FAST, autostart=autostart, **kwargs)  # type: ignore[arg-type]
        made.append(app)
        return app

    yield make
    for app in made:
        app.shutdown()


def test_first_run_without_a_key_starts_demo_mode_and_welcomes(
    qtbot: QtBot, clean_keychain: KeychainSession, make_app: MakeApp
) -> None:
    desktop = make_app()
    assert desktop.is_first_run
    desktop.start()
    qtbot.waitUntil(lambda: desktop.supervisor.state is ServerState.RUNNING, timeout=30_000)
    assert desktop.supervisor.is_simulated
    status = desktop.tray.action("status")
    assert status is not None
    assert "simulated" in status.text()
    welcome = QApplication.activeModalWidget() or next(
        (w for w in QApplication.topLevelWidgets() if isinstance(w, WelcomeDialog) and w.isVisible()), None
    )
    assert isinstance(welcome, WelcomeDialog)


def test_once_the_server_runs_the_tray_names_the_default_model_grok_mcp_reports(
    qtbot: QtBot, clean_keychain: KeychainSession, make_app: MakeApp
) -> None:
    desktop = make_app(show_welcome=False)
    desktop.start()
    qtbot.waitUntil(lambda: desktop.supervisor.state is ServerState.RUNNING, timeout=30_000)

    def details_text() -> str:
        details = desktop.tray.action("details")
        return details.text() if details is not None else ""

    qtbot.waitUntil(lambda: details_text().startswith("Model grok-4.7"), timeout=30_000)


def test_a_pasted_key_is_validated_stored_and_ends_demo_mode(
    qtbot: QtBot,
    clean_keychain: KeychainSession,
    simulator: RunningSimulator,
    make_app: MakeApp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GROK_MCP_BASE_URL", simulator.base_url)
    desktop = make_app(show_welcome=False)
    desktop.start()
    qtbot.waitUntil(lambda: desktop.supervisor.state is ServerState.RUNNING, timeout=30_000)
    desktop.show_welcome()
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, WelcomeDialog) and w.isVisible())

    dialog.key_edit.setText("xai-invalid-key-for-the-welcome-test")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: not dialog.is_checking, timeout=30_000)
    assert "invalid" in dialog.status.text().lower() or "key" in dialog.status.text().lower()
    assert secrets.get_api_key() is None
    assert dialog.isVisible()

    good = "xai-welcome-test-key-000000000001"
    dialog.key_edit.setText(good)
    with qtbot.waitSignal(dialog.key_stored, timeout=30_000) as stored:
        dialog.save_button.click()
    assert stored.args == [secrets.redact(good)]
    assert secrets.get_api_key() == good
    qtbot.waitUntil(
        lambda: desktop.supervisor.state is ServerState.RUNNING and not desktop.supervisor.is_simulated, timeout=30_000
    )


def test_a_key_saved_unchecked_is_checked_with_xai_when_the_tray_starts(
    qtbot: QtBot,
    clean_keychain: KeychainSession,
    simulator: RunningSimulator,
    make_app: MakeApp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GROK_MCP_BASE_URL", simulator.base_url)
    secrets.store_api_key(TEST_KEY, validated=False)  # as `keys set --no-validate` leaves it while offline
    desktop = make_app(show_welcome=False)
    desktop.start()
    qtbot.waitUntil(lambda: desktop.supervisor.state is ServerState.RUNNING, timeout=30_000)
    assert not desktop.supervisor.is_simulated
    qtbot.waitUntil(lambda: secrets.is_api_key_validated(TEST_KEY), timeout=30_000)


def test_spending_past_the_daily_budget_notifies_once(
    qtbot: QtBot, make_app: MakeApp, desktop_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XAI_API_KEY", "xai-budget-test-key-0001")
    record_chat_call(desktop_settings.db_path, model="grok-4.7", status=200, cost_ticks=3 * TICKS_PER_USD)
    desktop = make_app(dataclasses.replace(desktop_settings, daily_budget_usd=2.0))
    assert not desktop.is_first_run
    seen: list[tuple[str, str]] = []
    desktop.tray.notification_shown.connect(lambda title, message: seen.append((title, message)))
    desktop.refresh_usage()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert seen[0][0] == "Grok MCP budget reached"
    assert "$3.00 spent today" in seen[0][1]
    details = desktop.tray.action("details")
    assert details is not None
    assert "$3.00 today" in details.text()
    desktop.refresh_usage()
    qtbot.waitUntil(lambda: not desktop.worker.is_busy, timeout=10_000)
    assert len(seen) == 1


def test_demo_spend_is_shown_as_simulated_and_never_reaches_the_budget(
    qtbot: QtBot, clean_keychain: KeychainSession, make_app: MakeApp, desktop_settings: Settings
) -> None:
    record_chat_call(
        desktop_settings.db_path, model="grok-4.7", status=200, cost_ticks=3 * TICKS_PER_USD, simulated=True
    )
    desktop = make_app(dataclasses.replace(desktop_settings, daily_budget_usd=2.0), show_welcome=False)
    assert desktop.supervisor.is_simulated  # no key: demo mode
    seen: list[tuple[str, str]] = []
    desktop.tray.notification_shown.connect(lambda title, message: seen.append((title, message)))
    desktop.refresh_usage()
    qtbot.waitUntil(lambda: not desktop.worker.is_busy, timeout=10_000)
    qtbot.waitUntil(lambda: "today" in (desktop.tray.action("details") or QAction()).text(), timeout=10_000)
    details = desktop.tray.action("details")
    assert details is not None
    assert "$3.00 today (simulated)" in details.text()
    assert not [title for title, _ in seen if "budget" in title]


def test_a_rejected_key_in_the_ledger_notifies_the_user(
    qtbot: QtBot, make_app: MakeApp, desktop_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XAI_API_KEY", "xai-rejected-test-key-0001")
    record_chat_call(
        desktop_settings.db_path, model=None, status=400, error="InvalidKeyError: Incorrect API key provided"
    )
    desktop = make_app()
    seen: list[str] = []
    desktop.tray.notification_shown.connect(lambda title, _message: seen.append(title))
    desktop.refresh_usage()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert seen == ["xAI rejected the API key"]


def test_quit_from_the_tray_stops_the_child(
    qtbot: QtBot, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, child_env: dict[str, str]
) -> None:
    monkeypatch.setenv("GROK_MCP_HTTP_TOKEN", child_env["GROK_MCP_HTTP_TOKEN"])
    monkeypatch.setenv("XAI_API_KEY", "xai-quit-test-key-000001")
    desktop = make_app()
    desktop.start()
    qtbot.waitUntil(lambda: desktop.supervisor.state is ServerState.RUNNING, timeout=30_000)
    pid = desktop.supervisor.server_pid
    assert pid is not None
    action = desktop.tray.action("quit")
    assert action is not None
    action.trigger()
    assert desktop.supervisor.state is ServerState.STOPPED
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_toggling_start_at_login_writes_the_autostart_entry(make_app: MakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XAI_API_KEY", "xai-autostart-test-key-01")
    desktop = make_app()
    action = desktop.tray.action("autostart")
    assert action is not None
    action.trigger()
    assert desktop.autostart.is_enabled()
    path = desktop.autostart.path
    assert path is not None
    assert "Exec=" in path.read_text(encoding="utf-8")
    action = desktop.tray.action("autostart")
    assert action is not None
    assert action.isChecked()
    action.trigger()
    assert not desktop.autostart.is_enabled()


def test_open_dashboard_shows_the_dashboard_window(
    qtbot: QtBot, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("grok_mcp_desktop.windows.dashboard", reason="the dashboard window is built in parallel")
    monkeypatch.setenv("XAI_API_KEY", "xai-dashboard-test-key-01")
    desktop = make_app()
    action = desktop.tray.action("dashboard")
    assert action is not None
    action.trigger()
    window = desktop._dashboard
    assert window is not None
    qtbot.waitUntil(window.isVisible, timeout=5_000)


def test_demo_mode_chosen_in_settings_restarts_the_server_on_the_simulator_and_sticks(
    qtbot: QtBot, clean_keychain: KeychainSession, make_app: MakeApp, isolated_home: Path
) -> None:
    from grok_mcp.config import load_settings
    from grok_mcp_desktop.windows.settings import SettingsPage

    from tests.support.processes import free_port

    secrets.store_api_key("xai-settings-demo-test-key-0000001")
    (isolated_home / "settings.toml").write_text(f"[server]\nport = {free_port()}\n", encoding="utf-8")
    desktop = make_app(load_settings(), show_welcome=False)
    desktop.start()
    qtbot.waitUntil(lambda: desktop.supervisor.state is ServerState.RUNNING, timeout=30_000)
    assert not desktop.supervisor.is_simulated

    desktop.show_dashboard()
    dashboard = desktop._dashboard  # pyright: ignore[reportPrivateUsage]
    assert dashboard is not None
    page = dashboard.show_page("Settings")
    assert isinstance(page, SettingsPage)
    with qtbot.waitSignal(page.values_loaded, timeout=15_000):
        page.load()
    page.demo_mode.setChecked(True)
    failures: list[str] = []
    page.save_failed.connect(failures.append)
    with qtbot.waitSignal(page.saved, timeout=15_000, raising=False) as saved:
        page.save()
    assert saved.signal_triggered, failures
    qtbot.waitUntil(
        lambda: desktop.supervisor.state is ServerState.RUNNING and desktop.supervisor.is_simulated, timeout=30_000
    )
    assert "demo_mode = true" in (isolated_home / "settings.toml").read_text(encoding="utf-8")
    desktop.shutdown()

    again = make_app(load_settings(), show_welcome=False)
    assert again.supervisor.is_simulated  # the choice is read back at the next start, key or not


@pytest.fixture
def tray_logging(desktop_settings: Settings) -> Iterator[Path]:
    """The tray's log handlers on the root logger for one test (removed afterwards); yields desktop.log's path."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging(desktop_settings)
    yield desktop_settings.logs_dir / DESKTOP_LOG_FILENAME
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_the_tray_log_redacts_registered_secrets_and_key_shaped_text(tray_logging: Path) -> None:
    token = "tray-session-token-" + "7" * 24
    register_secret(token)
    logging.getLogger("grok_mcp_desktop.test").warning("token %s and key %s", token, "xai-tray-log-test-key-0001")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = tray_logging.read_text(encoding="utf-8")
    assert "grok_mcp_desktop.test: token [redacted] and key [redacted]" in text
    assert token not in text
    assert "xai-tray-log-test-key-0001" not in text
