"""The Overview page: the server's state and endpoint, today's and this month's usage (real or demo, never both
summed), and recent errors."""

from __future__ import annotations

from dataclasses import dataclass

from grok_mcp.config import Settings
from grok_mcp.store import RequestRecord, Store, UsageGroup
from grok_mcp.store.units import start_of_day, start_of_month
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QLabel,
    QWidget,
)

from grok_mcp_desktop.store_access import StoreAccess
from grok_mcp_desktop.supervisor import ServerState, ServerSupervisor
from grok_mcp_desktop.widgets.formatting import count, usd, when
from grok_mcp_desktop.widgets.page import SPACING, Page, StatCard, spaced_row
from grok_mcp_desktop.widgets.tables import Column, RecordTableModel, record_view
from grok_mcp_desktop.widgets.usage_kind import DEMO_NOTE, UsageKindBox
from grok_mcp_desktop.worker import Task

REFRESH_INTERVAL_MS = 15_000
RECENT_ERRORS = 20

STATE_COLORS = {
    ServerState.RUNNING: "#2e9e44",
    ServerState.STARTING: "#c98a00",
    ServerState.BACKING_OFF: "#c98a00",
    ServerState.DEGRADED: "#d9640f",
    ServerState.ERROR: "#d3302f",
    ServerState.STOPPED: "#808080",
}


@dataclass(frozen=True)
class OverviewData:
    """Totals for today and this month, and the newest failed calls, of real or (`simulated`) demo-mode calls."""

    today: UsageGroup
    month: UsageGroup
    errors: list[RequestRecord]
    simulated: bool = False


def load_overview(store: Store, *, simulated: bool = False, now: float | None = None) -> OverviewData:
    """Read the overview's figures of real (or demo-mode) calls; runs on the worker."""
    today = store.usage_summary(since=start_of_day(now), group_by="model", simulated=simulated).total
    month = store.usage_summary(since=start_of_month(now), group_by="model", simulated=simulated).total
    return OverviewData(today, month, store.recent_errors(RECENT_ERRORS, simulated=simulated), simulated)


ERROR_COLUMNS: list[Column[RequestRecord]] = [
    Column("When", lambda r: r.ts, when),
    Column("Tool", lambda r: r.tool),
    Column("Model", lambda r: r.model, lambda m: m or "–"),
    Column("Status", lambda r: r.status, lambda s: str(s) if s else "no response", is_numeric=True),
    Column("Error", lambda r: r.error or ""),
]


def _budget_note(spent_ticks: int, budget_usd: float | None) -> str:
    if budget_usd is None or budget_usd <= 0:
        return ""
    share = spent_ticks / 1e10 / budget_usd
    return f"{share:.0%} of the ${budget_usd:,.2f} budget"


class OverviewPage(Page):
    """At a glance: is the server up, where clients reach it, what today and this month cost, what failed."""

    title = "Overview"

    overview_loaded = Signal(object)

    def __init__(
        self, supervisor: ServerSupervisor, store: StoreAccess, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._supervisor = supervisor
        self._store = store
        self._settings = settings
        self._task: Task | None = None

        self.body.addLayout(self._status_form())
        self.usage_kind = UsageKindBox(simulated=supervisor.is_simulated, parent=self)
        self.usage_kind.kind_changed.connect(lambda _: self.refresh())
        self.body.addLayout(spaced_row(self.usage_kind, None))
        self.body.addLayout(self._stat_cards())
        self.body.addWidget(QLabel("Recent errors", self))
        self.errors = RecordTableModel(ERROR_COLUMNS, self)
        self.errors_view = record_view(self.errors, self, fit_to_contents=True)
        self.errors_view.setWordWrap(False)
        self.body.addWidget(self.errors_view, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_INTERVAL_MS)
        self._timer.timeout.connect(self.refresh)
        supervisor.state_changed.connect(self._on_state_changed)
        self._on_state_changed(supervisor.state)

    def _status_form(self) -> QFormLayout:
        """The server's state (and the demo-mode badge), its endpoint and the last problem."""
        status = QFormLayout()
        status.setHorizontalSpacing(SPACING)
        self.state_label = QLabel(self)
        font = QFont(self.state_label.font())
        font.setBold(True)
        self.state_label.setFont(font)
        self.simulated_label = QLabel("SIMULATED — demo mode: answers come from the built-in simulator", self)
        self.simulated_label.setObjectName("simulatedBadge")
        self.simulated_label.setStyleSheet(
            "QLabel#simulatedBadge { background: rgba(201, 138, 0, 60); border-radius: 4px; padding: 2px 6px; }"
        )
        self.endpoint_label = QLabel(self)
        self.endpoint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        status.addRow("Server:", self.state_label)
        status.addRow("", self.simulated_label)
        status.addRow("Endpoint:", self.endpoint_label)
        status.addRow("Last problem:", self.error_label)
        return status

    def _stat_cards(self) -> QGridLayout:
        """Requests, tokens and cost, today (first row) and this month (second row)."""
        grid = QGridLayout()
        grid.setSpacing(SPACING)
        self.cards: dict[str, StatCard] = {}
        for column, period in enumerate(("today", "month")):
            caption = "today" if period == "today" else "this month"
            for row, (key, label) in enumerate((("requests", "Requests"), ("tokens", "Tokens"), ("cost", "Cost"))):
                card = StatCard(f"{label} {caption}", self)
                self.cards[f"{key}_{period}"] = card
                grid.addWidget(card, column, row)
        return grid

    def _on_state_changed(self, state: ServerState) -> None:
        supervisor = self._supervisor
        color = STATE_COLORS.get(state, "#808080")
        self.state_label.setText(f'<span style="color:{color}">●</span> {state.value.capitalize()}')
        self.simulated_label.setVisible(supervisor.is_simulated)
        self.endpoint_label.setText(supervisor.endpoint_url if state.is_up else f"{supervisor.endpoint_url} (not up)")
        self.error_label.setText(supervisor.last_error or "none")
        self.usage_kind.follow_server(simulated=supervisor.is_simulated)
        if state == ServerState.RUNNING and self.isVisible():
            self.refresh()

    def activate(self) -> None:
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._timer.stop()  # no polling while nobody looks

    def refresh(self) -> None:
        """Reload the figures in the background."""
        if self._task is not None:
            self._task.cancel()  # the other kind of usage was asked for meanwhile
        simulated = self.usage_kind.shows_simulated
        self._task = self._store.query(
            "overview",
            lambda store: load_overview(store, simulated=simulated),
            on_success=self._on_loaded,
            on_failure=self._on_failed,
        )

    def _on_failed(self, error: Exception) -> None:
        self._task = None
        self.banner.show_error(f"Could not read the usage ledger: {error}")

    def _on_loaded(self, data: OverviewData) -> None:
        self._task = None
        self.banner.clear_message()
        for period, group, budget in (
            ("today", data.today, self._settings.daily_budget_usd),
            ("month", data.month, self._settings.monthly_budget_usd),
        ):
            self.cards[f"requests_{period}"].set_value(count(group.requests))
            self.cards[f"tokens_{period}"].set_value(count(group.prompt_tokens + group.completion_tokens))
            # Budgets count real spend only: demo usage is marked instead.
            note = DEMO_NOTE if data.simulated else _budget_note(group.cost_ticks, budget)
            self.cards[f"cost_{period}"].set_value(usd(group.cost_ticks) + (f"  ({note})" if note else ""))
        self.errors.set_records(data.errors)
        self.overview_loaded.emit(data)
