"""The Usage page: cost and tokens by day and model as charts, latency percentiles, sortable tables, CSV export;
real or demo-mode usage, never both summed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from grok_mcp.store import Store, UsageCell, UsageGroup
from grok_mcp.store.units import start_of_day, ticks_to_usd
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QWidget,
)

from grok_mcp_desktop.exports import usage_csv
from grok_mcp_desktop.store_access import StoreAccess
from grok_mcp_desktop.supervisor import ServerSupervisor
from grok_mcp_desktop.widgets.chart import StackedBarChart
from grok_mcp_desktop.widgets.formatting import compact, count, milliseconds, usd
from grok_mcp_desktop.widgets.page import SPACING
from grok_mcp_desktop.widgets.tables import Column, RecordTableModel, record_view
from grok_mcp_desktop.widgets.usage_kind import DEMO_NOTE, UsageKindBox
from grok_mcp_desktop.windows.exporting import ExportingPage
from grok_mcp_desktop.worker import Task

PERIODS = (("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90), ("Last 365 days", 365))


@dataclass(frozen=True)
class UsageData:
    """What the page shows for one period: cells per day and model, and the per-model summary with latencies,
    of real calls or (`simulated`) of demo-mode calls."""

    since: float
    cells: list[UsageCell]
    by_model: list[UsageGroup]
    total: UsageGroup
    simulated: bool = False


def load_usage(store: Store, days: int, *, simulated: bool = False, now: float | None = None) -> UsageData:
    """Read a period's real (or demo-mode) usage: the last `days` local days, today included; runs on the worker."""
    since = start_of_day(now) - (days - 1) * 86_400
    summary = store.usage_summary(since=since, group_by="model", simulated=simulated)
    cells = store.usage_by_day_and_model(since=since, simulated=simulated)
    return UsageData(since, cells, summary.groups, summary.total, simulated)


def chart_series(cells: list[UsageCell], metric: str) -> tuple[list[str], dict[str, list[float]]]:
    """Days (oldest first) and, per model, one value per day: cost in USD (`cost`) or tokens (`tokens`).

    A model with nothing to draw (calls that failed before costing anything, such as a model name xAI does
    not know) gets no series: the tables still list its calls and errors.
    """
    days = sorted({cell.day for cell in cells})
    position = {day: i for i, day in enumerate(days)}
    series: dict[str, list[float]] = {}
    for cell in cells:
        value = ticks_to_usd(cell.cost_ticks) if metric == "cost" else cell.prompt_tokens + cell.completion_tokens
        if value or cell.model in series:
            series.setdefault(cell.model, [0.0] * len(days))[position[cell.day]] += value
    return [day[5:] for day in days], series


CELL_COLUMNS: list[Column[UsageCell]] = [
    Column("Day", lambda c: c.day),
    Column("Model", lambda c: c.model),
    Column("Requests", lambda c: c.requests, count, is_numeric=True),
    Column("Errors", lambda c: c.errors, count, is_numeric=True),
    Column("Prompt tokens", lambda c: c.prompt_tokens, count, is_numeric=True),
    Column("Completion tokens", lambda c: c.completion_tokens, count, is_numeric=True),
    Column("Cost", lambda c: c.cost_ticks, usd, is_numeric=True),
]

MODEL_COLUMNS: list[Column[UsageGroup]] = [
    Column("Model", lambda g: g.key),
    Column("Requests", lambda g: g.requests, count, is_numeric=True),
    Column("Errors", lambda g: g.errors, count, is_numeric=True),
    Column("Tokens", lambda g: g.prompt_tokens + g.completion_tokens, count, is_numeric=True),
    Column("Cost", lambda g: g.cost_ticks, usd, is_numeric=True),
    Column("Latency p50", lambda g: g.latency_p50_ms, milliseconds, is_numeric=True),
    Column("Latency p95", lambda g: g.latency_p95_ms, milliseconds, is_numeric=True),
]


def _usd_axis(value: float) -> str:
    return f"${value:.2f}" if value < 10 else f"${compact(value)}"


def _table(model: RecordTableModel[UsageCell] | RecordTableModel[UsageGroup], parent: QWidget) -> QTableView:
    view = record_view(model, parent, fit_to_contents=True)
    view.setSortingEnabled(True)
    return view


class UsagePage(ExportingPage):
    """Where the money and tokens went, per day and per model, for a chosen period."""

    title = "Usage"

    usage_loaded = Signal(object)
    """The period's UsageData is on screen."""

    def __init__(
        self,
        store: StoreAccess,
        *,
        exports_dir: Path,
        supervisor: ServerSupervisor | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(store, exports_dir=exports_dir, parent=parent)
        self._task: Task | None = None
        self.data: UsageData | None = None
        self._supervisor = supervisor
        self.usage_kind = UsageKindBox(simulated=supervisor is not None and supervisor.is_simulated, parent=self)

        self.period = QComboBox(self)
        for label, days in PERIODS:
            self.period.addItem(label, days)
        self.period.setCurrentIndex(1)
        self.period.setAccessibleName("Period")
        self.latency_label = QLabel("", self)
        self.totals_label = QLabel("", self)
        self.export_button = QPushButton("Export &CSV…", self)
        self.refresh_button = QPushButton("&Refresh", self)
        top = QHBoxLayout()
        top.setSpacing(SPACING)
        top.addWidget(self.usage_kind)
        top.addWidget(self.period)
        top.addWidget(self.totals_label, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.export_button)
        self.body.addLayout(top)
        self.body.addWidget(self.latency_label)

        charts = QHBoxLayout()
        charts.setSpacing(SPACING)
        self.cost_chart = StackedBarChart("Cost per day, by model", value_format=_usd_axis, parent=self)
        self.token_chart = StackedBarChart("Tokens per day, by model", parent=self)
        charts.addWidget(self.cost_chart)
        charts.addWidget(self.token_chart)
        self.body.addLayout(charts, 2)

        self.by_model = RecordTableModel(MODEL_COLUMNS, self)
        self.cells = RecordTableModel(CELL_COLUMNS, self)
        tables = QSplitter(Qt.Orientation.Vertical, self)
        tables.addWidget(_table(self.by_model, self))
        tables.addWidget(_table(self.cells, self))
        tables.setChildrenCollapsible(False)
        self.body.addWidget(tables, 3)

        self.period.currentIndexChanged.connect(lambda _: self.refresh())
        self.usage_kind.kind_changed.connect(lambda _: self.refresh())
        if supervisor is not None:
            supervisor.state_changed.connect(lambda _: self.usage_kind.follow_server(simulated=supervisor.is_simulated))
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self._choose_export_path)

    def activate(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Load the chosen period's usage in the background."""
        if self._task is not None:
            self._task.cancel()
        days = int(self.period.currentData())
        simulated = self.usage_kind.shows_simulated
        self._task = self._store.query(
            "usage",
            lambda store: load_usage(store, days, simulated=simulated),
            on_success=self._on_loaded,
            on_failure=self._on_failed,
        )

    def _on_failed(self, error: Exception) -> None:
        self._task = None
        self.banner.show_error(f"Could not read the usage ledger: {error}")

    def _on_loaded(self, data: UsageData) -> None:
        self._task = None
        self.data = data
        self.banner.clear_message()
        days, cost = chart_series(data.cells, "cost")
        _, tokens = chart_series(data.cells, "tokens")
        self.cost_chart.set_data(days, cost)
        self.token_chart.set_data(days, tokens)
        self.by_model.set_records(data.by_model)
        self.cells.set_records(list(reversed(data.cells)))
        total = data.total
        self.totals_label.setText(
            f"{count(total.requests)} requests · {count(total.prompt_tokens + total.completion_tokens)} tokens · "
            f"{usd(total.cost_ticks)}" + (f" ({DEMO_NOTE})" if data.simulated else "")
        )
        self.latency_label.setText(
            f"Latency over all models: p50 {milliseconds(total.latency_p50_ms)} · "
            f"p95 {milliseconds(total.latency_p95_ms)}"
        )
        self.export_button.setEnabled(bool(data.cells))
        self.usage_loaded.emit(data)

    def export_file_name(self) -> str:
        """The file name an export of what is shown starts from: demo usage is named as such."""
        kind = "demo-usage" if self.usage_kind.shows_simulated else "usage"
        return f"grok-mcp-{kind}-{time.strftime('%Y-%m-%d')}.csv"

    def _choose_export_path(self) -> None:
        chosen = self._ask_export_path("Export usage", self.export_file_name(), "CSV (*.csv)")
        if chosen:
            self.export_csv(chosen)

    def export_csv(self, path: Path) -> Task | None:
        """Write the shown period's usage per day and model to `path` as CSV, in the background."""
        if self.data is None:
            return None
        return self._write_export("export usage", path, usage_csv(self.data.cells))
