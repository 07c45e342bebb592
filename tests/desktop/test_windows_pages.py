"""The Usage, Overview, Settings and Logs pages over real files: charts, tables, CSV, settings.toml, the log tail."""

from __future__ import annotations

import csv
import dataclasses
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from grok_mcp.config import Settings, load_settings
from grok_mcp.store import RequestRecord, Store
from grok_mcp_desktop.autostart import Autostart
from grok_mcp_desktop.exports import USAGE_CSV_HEADER
from grok_mcp_desktop.settings_file import read_values
from grok_mcp_desktop.store_access import StoreAccess
from grok_mcp_desktop.supervisor import ServerSupervisor
from grok_mcp_desktop.widgets.chart import StackedBarChart
from grok_mcp_desktop.windows.logs import LogsPage
from grok_mcp_desktop.windows.overview import OverviewPage
from grok_mcp_desktop.windows.settings import SettingsPage
from grok_mcp_desktop.windows.usage import UsagePage, chart_series
from grok_mcp_desktop.worker import Worker
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from tests.desktop.pages import signal_args, store_access
from tests.support.simulator import TEST_KEY, RunningSimulator

NOW = time.time()


def _record(
    store: Store,
    *,
    model: str,
    cost_ticks: int,
    hours_ago: float = 0,
    error: str | None = None,
    latency: float = 100,
    simulated: bool = False,
) -> None:
    store.record_request(
        RequestRecord(
            tool="chat",
            model=model,
            endpoint="/v1/chat/completions",
            ts=NOW - hours_ago * 3600,
            status=500 if error else 200,
            error=error,
            prompt_tokens=100,
            completion_tokens=50,
            cost_ticks=cost_ticks,
            latency_ms=latency,
            simulated=simulated,
        )
    )


@pytest.fixture
def access(desktop_settings: Settings) -> Iterator[StoreAccess]:
    with store_access(desktop_settings.db_path) as opened:
        yield opened


@pytest.fixture
def seeded(desktop_settings: Settings) -> Settings:
    with Store.open(desktop_settings.db_path) as store:
        _record(store, model="grok-4", cost_ticks=20_000_000_000, latency=200)
        _record(store, model="grok-4", cost_ticks=10_000_000_000, hours_ago=48, latency=400)
        _record(store, model="grok-3-mini", cost_ticks=1_000_000_000, hours_ago=24 * 40, latency=50)
        _record(store, model="grok-4", cost_ticks=0, error="UpstreamUnavailableError: xAI answered 503", latency=900)
    return desktop_settings


# --- Usage ------------------------------------------------------------------------------------------


def test_usage_shows_charts_tables_and_percentiles_for_the_period(
    qtbot: QtBot, seeded: Settings, access: StoreAccess, tmp_path: Path
) -> None:
    page = UsagePage(access, exports_dir=tmp_path)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    with qtbot.waitSignal(page.usage_loaded, timeout=10_000) as loaded:
        page.activate()
    data = signal_args(loaded)[0]
    assert {cell.model for cell in data.cells} == {"grok-4"}  # the grok-3-mini call is 40 days old
    assert data.total.requests == 3
    assert page.by_model.rowCount() == 1
    assert page.cells.rowCount() == 2
    assert "$3.00" in page.totals_label.text()
    assert "p50 400 ms" in page.latency_label.text() and "p95 900 ms" in page.latency_label.text()
    qtbot.waitUntil(lambda: bool(page.cost_chart.segments), timeout=5_000)
    assert {segment.series for segment in page.cost_chart.segments} == {"grok-4"}
    # A longer period brings the older model in.
    with qtbot.waitSignal(page.usage_loaded, timeout=10_000) as loaded:
        page.period.setCurrentIndex(2)
    assert {cell.model for cell in signal_args(loaded)[0].cells} == {"grok-4", "grok-3-mini"}


@pytest.fixture
def seeded_with_demo(seeded: Settings) -> Settings:
    """`seeded`'s real calls plus demo-mode calls today: $7 on grok-4 and $5 on a model only the demo used."""
    with Store.open(seeded.db_path) as store:
        _record(store, model="grok-4", cost_ticks=70_000_000_000, simulated=True)
        _record(store, model="grok-demo-only", cost_ticks=50_000_000_000, simulated=True)
        _record(store, model="grok-demo-only", cost_ticks=0, error="InvalidRequestError: demo", simulated=True)
    return seeded


def test_usage_shows_real_or_demo_usage_says_which_and_never_sums_them(
    qtbot: QtBot, seeded_with_demo: Settings, access: StoreAccess, tmp_path: Path
) -> None:
    page = UsagePage(access, exports_dir=tmp_path)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.usage_loaded, timeout=10_000) as loaded:
        page.activate()
    assert page.usage_kind.currentText() == "Showing: real usage"
    real = signal_args(loaded)[0]
    assert (real.simulated, real.total.requests, real.total.cost_ticks) == (False, 3, 30_000_000_000)
    assert "$3.00" in page.totals_label.text()

    with qtbot.waitSignal(page.usage_loaded, timeout=10_000) as loaded:
        page.usage_kind.setCurrentIndex(1)
    demo = signal_args(loaded)[0]
    assert page.usage_kind.currentText() == "Showing: demo usage (simulated, not billed)"
    assert (demo.simulated, demo.total.requests, demo.total.cost_ticks) == (True, 3, 120_000_000_000)
    assert {cell.model for cell in demo.cells} == {"grok-4", "grok-demo-only"}
    assert "$12.00" in page.totals_label.text() and "simulated" in page.totals_label.text()
    assert page.export_file_name().startswith("grok-mcp-demo-usage-")


def test_usage_shows_demo_usage_while_the_server_runs_in_demo_mode(
    qtbot: QtBot,
    seeded_with_demo: Settings,
    access: StoreAccess,
    tmp_path: Path,
    make_supervisor: Callable[..., ServerSupervisor],
) -> None:
    page = UsagePage(access, exports_dir=tmp_path, supervisor=make_supervisor(simulate=True))
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.usage_loaded, timeout=10_000) as loaded:
        page.activate()
    assert signal_args(loaded)[0].simulated is True
    assert page.usage_kind.currentText().startswith("Showing: demo usage")


def test_a_failed_call_to_a_model_that_does_not_exist_adds_no_chart_series(
    qtbot: QtBot,
    desktop_settings: Settings,
    simulator: RunningSimulator,
    access: StoreAccess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import anyio
    from grok_mcp.app import build_server
    from mcp import Client

    settings = dataclasses.replace(desktop_settings, base_url=simulator.base_url, transport="test")

    async def ask() -> list[bool]:
        async with Client(build_server(settings)) as mcp:
            good = await mcp.call_tool("chat", {"prompt": "Hello", "model": "grok-4.3"})
            bad = await mcp.call_tool("chat", {"prompt": "Hello", "model": "grok-no-such-model"})
        return [good.is_error, bad.is_error]

    monkeypatch.setenv("XAI_API_KEY", TEST_KEY)
    assert anyio.run(ask) == [False, True]
    page = UsagePage(access, exports_dir=tmp_path)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    with qtbot.waitSignal(page.usage_loaded, timeout=10_000) as loaded:
        page.usage_kind.setCurrentIndex(1)  # the simulator answered both: demo usage
    data = signal_args(loaded)[0]
    assert {cell.model for cell in data.cells} == {"grok-4.3", "grok-no-such-model"}
    qtbot.waitUntil(lambda: bool(page.cost_chart.segments), timeout=5_000)
    assert {segment.series for segment in page.cost_chart.segments} == {"grok-4.3"}
    assert {segment.series for segment in page.token_chart.segments} == {"grok-4.3"}
    assert set(chart_series(data.cells, "cost")[1]) == {"grok-4.3"}


def _usage_page_over_90_days(qtbot: QtBot, access: StoreAccess, tmp_path: Path) -> UsagePage:
    page = UsagePage(access, exports_dir=tmp_path)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.usage_loaded, timeout=10_000):
        page.period.setCurrentIndex(2)
    return page


def test_usage_tables_sort_by_the_clicked_column(
    qtbot: QtBot, seeded: Settings, access: StoreAccess, tmp_path: Path
) -> None:
    page = _usage_page_over_90_days(qtbot, access, tmp_path)
    cost_column = [c.header for c in page.cells.columns].index("Cost")
    page.cells.sort(cost_column, Qt.SortOrder.DescendingOrder)
    costs = [page.cells.records[row].cost_ticks for row in range(page.cells.rowCount())]
    assert costs == sorted(costs, reverse=True)
    page.cells.sort(cost_column, Qt.SortOrder.AscendingOrder)
    assert page.cells.data(page.cells.index(0, cost_column)) == "$0.10"


def test_usage_csv_export_writes_every_cell(
    qtbot: QtBot, seeded: Settings, access: StoreAccess, tmp_path: Path
) -> None:
    page = _usage_page_over_90_days(qtbot, access, tmp_path)
    target = tmp_path / "usage.csv"
    with qtbot.waitSignal(page.exported, timeout=10_000):
        page.export_csv(target)
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == USAGE_CSV_HEADER
    assert len(rows) == 1 + 3
    by_model = {(row[1], row[6]) for row in rows[1:]}
    assert ("grok-3-mini", "0.1000000000") in by_model
    assert sum(int(row[2]) for row in rows[1:]) == 4
    assert sum(int(row[3]) for row in rows[1:]) == 1


def test_the_chart_stacks_models_within_each_day(qtbot: QtBot) -> None:
    chart = StackedBarChart("Cost")
    qtbot.addWidget(chart)
    chart.resize(400, 240)
    chart.set_data(["01", "02"], {"a": [1.0, 3.0], "b": [1.0, 0.0]})
    image = chart.grab().toImage()
    assert image.width() >= 400
    day_one = [s for s in chart.segments if s.category == "01"]
    assert [s.series for s in day_one] == ["a", "b"]
    assert day_one[1].rect.bottom() == pytest.approx(day_one[0].rect.top())
    tallest = max(chart.segments, key=lambda s: s.rect.height())
    assert (tallest.series, tallest.category) == ("a", "02")
    assert image.pixelColor(tallest.rect.center().toPoint()) == chart.color_of("a")


# --- Overview ---------------------------------------------------------------------------------------


def test_overview_shows_state_endpoint_totals_and_recent_errors(
    qtbot: QtBot, seeded: Settings, access: StoreAccess, make_supervisor: Callable[..., ServerSupervisor]
) -> None:
    supervisor = make_supervisor()
    page = OverviewPage(supervisor, access, seeded)
    qtbot.addWidget(page)
    assert "Stopped" in page.state_label.text()
    assert str(seeded.port) in page.endpoint_label.text()
    assert page.simulated_label.isHidden()
    with qtbot.waitSignal(page.overview_loaded, timeout=10_000):
        page.activate()
    assert page.cards["requests_today"].value.text() == "2"
    assert page.cards["cost_today"].value.text() == "$2.00"
    assert page.cards["tokens_today"].value.text() == "300"
    assert page.errors.rowCount() == 1
    assert page.errors.data(page.errors.index(0, 4)) == "UpstreamUnavailableError: xAI answered 503"


def test_overview_shows_the_budget_share_of_real_spend_only(
    qtbot: QtBot, seeded_with_demo: Settings, access: StoreAccess, make_supervisor: Callable[..., ServerSupervisor]
) -> None:
    settings = dataclasses.replace(seeded_with_demo, daily_budget_usd=4.0)
    page = OverviewPage(make_supervisor(), access, settings)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.overview_loaded, timeout=10_000):
        page.activate()
    assert page.usage_kind.currentText() == "Showing: real usage"
    assert page.cards["cost_today"].value.text() == "$2.00  (50% of the $4.00 budget)"
    assert page.cards["requests_today"].value.text() == "2"
    assert [r.error for r in page.errors.records] == ["UpstreamUnavailableError: xAI answered 503"]


def test_overview_in_demo_mode_shows_demo_usage_marked_and_outside_the_budget(
    qtbot: QtBot, seeded_with_demo: Settings, access: StoreAccess, make_supervisor: Callable[..., ServerSupervisor]
) -> None:
    settings = dataclasses.replace(seeded_with_demo, daily_budget_usd=4.0)
    page = OverviewPage(make_supervisor(simulate=True), access, settings)
    qtbot.addWidget(page)
    assert not page.simulated_label.isHidden()
    with qtbot.waitSignal(page.overview_loaded, timeout=10_000):
        page.activate()
    assert page.usage_kind.currentText() == "Showing: demo usage (simulated, not billed)"
    assert page.cards["requests_today"].value.text() == "3"
    assert page.cards["cost_today"].value.text() == "$12.00  (simulated, not billed)"
    assert [r.error for r in page.errors.records] == ["InvalidRequestError: demo"]
    with qtbot.waitSignal(page.overview_loaded, timeout=10_000):
        page.usage_kind.setCurrentIndex(0)
    assert page.cards["cost_today"].value.text() == "$2.00  (50% of the $4.00 budget)"


# --- Settings ---------------------------------------------------------------------------------------

COMMENTED = """# My Grok MCP settings
[server]
port = 8800  # chosen to avoid a clash

[models]
default = "grok-4"

[experimental]
# a section this version does not know
turbo = true
"""


@pytest.fixture
def settings_page(qtbot: QtBot, isolated_home: Path, tmp_path: Path) -> Iterator[SettingsPage]:
    worker = Worker()
    autostart = Autostart(platform="linux", home=tmp_path / "user", environ={}, command=["grok-mcp-desktop"])
    page = SettingsPage(isolated_home, worker, ["/nonexistent/grok-mcp"], autostart=autostart)
    qtbot.addWidget(page)
    yield page
    page.shutdown()
    worker.shutdown()


def test_settings_round_trip_keeps_comments_and_unknown_keys(
    qtbot: QtBot, isolated_home: Path, settings_page: SettingsPage
) -> None:
    path = isolated_home / "settings.toml"
    path.write_text(COMMENTED, encoding="utf-8")
    with qtbot.waitSignal(settings_page.values_loaded, timeout=10_000) as loaded:
        settings_page.load()
    assert signal_args(loaded)[0].port == 8800
    assert settings_page.model_box.currentText() == "grok-4"
    settings_page.port.setValue(9100)
    settings_page.daily_budget.setValue(5)
    settings_page.monthly_budget.setValue(50)
    settings_page.cache_ttl.setValue(300)
    settings_page.log_content.setChecked(True)
    settings_page.demo_mode.setChecked(True)
    with qtbot.waitSignal(settings_page.saved, timeout=10_000):
        settings_page.save_button.click()
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# My Grok MCP settings\n")
    assert "port = 9100  # chosen to avoid a clash" in text
    assert "# a section this version does not know\nturbo = true" in text
    server_view = load_settings({"GROK_MCP_HOME": str(isolated_home)})
    assert (server_view.port, server_view.daily_budget_usd, server_view.monthly_budget_usd) == (9100, 5.0, 50.0)
    assert server_view.cache_ttl_s == 300 and server_view.log_content is True
    assert server_view.default_model == "grok-4"
    assert read_values(isolated_home).demo_mode is True


def test_settings_refuses_invalid_values_and_leaves_the_file_alone(
    qtbot: QtBot, isolated_home: Path, settings_page: SettingsPage
) -> None:
    path = isolated_home / "settings.toml"
    path.write_text(COMMENTED, encoding="utf-8")
    with qtbot.waitSignal(settings_page.values_loaded, timeout=10_000):
        settings_page.load()
    settings_page.port.setValue(80)
    settings_page.daily_budget.setValue(100)
    settings_page.monthly_budget.setValue(10)
    with qtbot.waitSignal(settings_page.save_failed, timeout=10_000) as failed:
        settings_page.save()
    assert "port must be a whole number from 1024" in signal_args(failed)[0]
    assert "daily budget cannot be larger" in signal_args(failed)[0]
    assert "Not saved" in settings_page.banner.text()
    assert path.read_text(encoding="utf-8") == COMMENTED


def test_settings_writes_a_new_file_and_turns_start_at_login_on(
    qtbot: QtBot, isolated_home: Path, settings_page: SettingsPage, tmp_path: Path
) -> None:
    with qtbot.waitSignal(settings_page.values_loaded, timeout=10_000):
        settings_page.load()
    assert not settings_page.start_at_login.isChecked()
    settings_page.start_at_login.setChecked(True)
    settings_page.model_box.setCurrentText("grok-4-fast")
    with qtbot.waitSignal(settings_page.saved, timeout=10_000):
        settings_page.save()
    assert load_settings({"GROK_MCP_HOME": str(isolated_home)}).default_model == "grok-4-fast"
    assert (tmp_path / "user" / ".config" / "autostart").is_dir()
    assert any((tmp_path / "user" / ".config" / "autostart").iterdir())


def test_settings_shows_an_unreadable_file_plainly(
    qtbot: QtBot, isolated_home: Path, settings_page: SettingsPage
) -> None:
    (isolated_home / "settings.toml").write_text("[server\nport = ", encoding="utf-8")
    settings_page.load()
    qtbot.waitUntil(lambda: not settings_page.banner.isHidden(), timeout=10_000)
    assert "is not valid TOML" in settings_page.banner.text()


def test_settings_lists_models_from_the_live_catalog(qtbot: QtBot, isolated_home: Path, tmp_path: Path) -> None:
    from grok_mcp.clients.launch import grok_mcp_command

    worker = Worker()
    page = SettingsPage(isolated_home, worker, grok_mcp_command())
    qtbot.addWidget(page)
    page.demo_mode.setChecked(True)  # the simulator's catalog: no key needed
    try:
        with qtbot.waitSignal(page.models_loaded, timeout=60_000) as loaded:
            page.load_models()
        assert signal_args(loaded)[0]
        assert page.model_box.count() == len(signal_args(loaded)[0])
        assert "simulated catalog" in page.models_hint.text()
    finally:
        page.shutdown()
        worker.shutdown()


def test_saving_conversations_and_logging_prompts_are_two_settings(
    qtbot: QtBot, isolated_home: Path, settings_page: SettingsPage
) -> None:
    path = isolated_home / "settings.toml"
    path.write_text("[logging]\ncontent = true\n", encoding="utf-8")
    with qtbot.waitSignal(settings_page.values_loaded, timeout=10_000):
        settings_page.load()
    assert settings_page.save_conversations.isChecked() and settings_page.log_content.isChecked()
    assert "requests.jsonl" in settings_page.log_content.text()
    assert "conversations" in settings_page.save_conversations.text().lower()

    settings_page.save_conversations.setChecked(False)
    with qtbot.waitSignal(settings_page.saved, timeout=10_000):
        settings_page.save()
    server_view = load_settings({"GROK_MCP_HOME": str(isolated_home)})
    assert (server_view.save_conversations, server_view.log_content) == (False, True)

    settings_page.save_conversations.setChecked(True)
    settings_page.log_content.setChecked(False)
    with qtbot.waitSignal(settings_page.saved, timeout=10_000):
        settings_page.save()
    server_view = load_settings({"GROK_MCP_HOME": str(isolated_home)})
    assert (server_view.save_conversations, server_view.log_content) == (True, False)


def test_in_demo_mode_the_demo_box_is_ticked_and_models_come_from_the_simulator(
    qtbot: QtBot, isolated_home: Path, make_supervisor: Callable[..., ServerSupervisor]
) -> None:
    from grok_mcp.clients.launch import grok_mcp_command

    supervisor = make_supervisor(simulate=True)  # no key: demo mode
    worker = Worker()
    page = SettingsPage(isolated_home, worker, grok_mcp_command(), server_is_simulated=lambda: supervisor.is_simulated)
    qtbot.addWidget(page)
    try:
        assert page.demo_mode.isChecked()
        with qtbot.waitSignal(page.models_loaded, timeout=60_000):
            page.activate()  # loads settings.toml and the model list at once
        qtbot.waitUntil(lambda: page.values().port > 0 and not page.demo_mode.isEnabled(), timeout=10_000)
        assert page.demo_mode.isChecked()
        assert "Keys page" in page.demo_hint.text() and "grok-mcp" not in page.demo_hint.text()
        assert "simulated catalog" in page.models_hint.text()
        with qtbot.waitSignal(page.saved, timeout=10_000):
            page.save()
        # Ticked only for want of a key: once one is added, the saved settings do not keep demo mode on.
        assert read_values(isolated_home).demo_mode is False
    finally:
        page.shutdown()
        worker.shutdown()


def test_the_model_list_problem_gives_no_command_line_advice(
    qtbot: QtBot, isolated_home: Path, simulator: RunningSimulator
) -> None:
    from grok_mcp.clients.launch import grok_mcp_command

    from tests.support.processes import server_env

    worker = Worker()
    page = SettingsPage(
        isolated_home,
        worker,
        grok_mcp_command(),
        environ=server_env(isolated_home, base_url=simulator.base_url, key="xai-this-key-is-invalid-02"),
    )
    qtbot.addWidget(page)
    try:
        with qtbot.waitSignal(page.models_finished, timeout=60_000):
            page.load_models()
    finally:
        page.shutdown()
        worker.shutdown()
    hint = page.models_hint.text()
    assert "rejected the API key" in hint and "Type a model name instead" in hint
    assert "grok-mcp" not in hint and "`" not in hint and "xai-this-key-is-invalid-02" not in hint


def test_settings_says_when_the_model_list_cannot_be_had(qtbot: QtBot, settings_page: SettingsPage) -> None:
    settings_page.load_models()
    qtbot.waitUntil(lambda: "Could not list the models" in settings_page.models_hint.text(), timeout=10_000)
    assert "Type a model name instead" in settings_page.models_hint.text()


# --- Logs -------------------------------------------------------------------------------------------


def test_logs_show_the_tail_follow_new_lines_and_copy(
    qtbot: QtBot, desktop_settings: Settings, make_supervisor: Callable[..., ServerSupervisor]
) -> None:
    supervisor = make_supervisor()
    page = LogsPage(supervisor, desktop_settings.logs_dir, open_urls=False)
    qtbot.addWidget(page)
    assert page.view.toPlainText() == "\n".join(supervisor.log_tail())
    supervisor.log_appended.emit("server said hello")
    assert page.view.toPlainText().endswith("server said hello")
    page.copy_button.click()
    assert QGuiApplication.clipboard().text().endswith("server said hello")
    with qtbot.waitSignal(page.folder_open_requested, timeout=1_000) as requested:
        page.open_button.click()
    assert signal_args(requested) == [str(desktop_settings.logs_dir)]
    assert desktop_settings.logs_dir.is_dir()


def test_logs_show_a_real_server_child_output(
    qtbot: QtBot,
    desktop_settings: Settings,
    make_supervisor: Callable[..., ServerSupervisor],
    script: Callable[[str, str], list[str]],
) -> None:
    command = script("talker", "import sys\nsys.stderr.write('starting up on purpose\\n')\nsys.exit(1)\n")
    supervisor = make_supervisor(command)
    page = LogsPage(supervisor, desktop_settings.logs_dir, open_urls=False)
    qtbot.addWidget(page)
    supervisor.start()
    qtbot.waitUntil(lambda: "starting up on purpose" in page.view.toPlainText(), timeout=15_000)
    supervisor.stop()
