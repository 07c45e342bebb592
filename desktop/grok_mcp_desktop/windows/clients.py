"""The Clients page: every MCP client's status and start check, with Connect, Disconnect, Show config and Undo.

Everything that reads or writes a file, or starts a server to check an entry, runs on the worker.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grok_mcp.clients import (
    ChangeOutcome,
    ClientManager,
    ClientReport,
    HttpEndpoint,
    StartCheck,
    StartProblem,
    Status,
)
from grok_mcp.clients.base import SIMULATE_FLAG
from grok_mcp.clients.manager import HIDDEN_TOKEN
from grok_mcp.errors import UserFacingError
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from grok_mcp_desktop.widgets.page import SPACING, Page
from grok_mcp_desktop.worker import Task, Worker

logger = logging.getLogger(__name__)

STDIO = "stdio"
HTTP = "http"
HIDDEN_TOKEN_HERE = "<hidden: press Reveal token to show it>"  # noqa: S105 - a placeholder, not a token
MODE_LABELS = {STDIO: "stdio", HTTP: "HTTP (tray)"}
MODE_TIPS = {
    STDIO: "The client starts its own Grok MCP; the key stays in the keychain.",
    HTTP: "The client connects to the tray's server with its URL and bearer token.",
}
COLUMNS = ("Client", "Status", "Mode", "Config file", "Starts", "")
_CLIENT, _STATUS, _MODE, _PATH, _STARTS, _ACTIONS = range(len(COLUMNS))
CHECKING = "checking…"
_STARTS_COLOR = QColor(46, 160, 67)
_FAILS_COLOR = QColor(200, 50, 50)
_GUI_ADVICE = {
    StartProblem.NO_KEY: "Add a key on the Keys page, then press Connect again; or connect in demo mode on purpose.",
    StartProblem.KEYCHAIN: (
        "Unlock the keychain (log in to the desktop session, or unlock the Login keyring in Passwords and Keys), "
        "then press Connect again; or connect in demo mode on purpose."
    ),
    StartProblem.UNREACHABLE: "Start the server from the tray, then press Connect again.",
    StartProblem.TOKEN_REFUSED: "Press Connect again to write the token the tray's server uses now.",
}
"""What to do, in the tray's words (the check's own advice names CLI commands)."""
_STATUS_COLORS = {
    Status.CONFIGURED: QColor(46, 160, 67),
    Status.STALE: QColor(201, 138, 0),
    Status.OUTDATED: QColor(201, 138, 0),
    Status.NOT_CONFIGURED: QColor(110, 110, 115),
    Status.NOT_INSTALLED: QColor(110, 110, 115),
}

TokenSource = Callable[[], str | None]


@dataclass(frozen=True)
class ClientAction:
    """What one Connect, Disconnect or Undo did: the outcome, or the error the user was shown."""

    client: str
    verb: str
    """connect, disconnect or undo."""
    outcome: ChangeOutcome | None = None
    error: str | None = None
    refused: StartCheck | None = None
    """Connect did not write: started as the client starts it, the entry failed this check."""

    @property
    def is_ok(self) -> bool:
        return self.error is None and self.refused is None


@dataclass
class ClientRow:
    """The widgets of one client's row (tests and keyboard users reach the buttons through it)."""

    name: str
    row: int
    connect: QPushButton
    disconnect: QPushButton
    show_config: QPushButton
    mode: QComboBox | None


def display_path(path: Path, home: Path) -> str:
    """`path` with the user's home written as `~`, as people recognise it."""
    try:
        return str(Path("~") / path.relative_to(home))
    except ValueError:
        return str(path)


def status_text(report: ClientReport) -> str:
    """The Status cell: the client's status, whether its config file is unreadable, and whether it runs."""
    text = "stale" if report.status is Status.STALE else str(report.status)
    if report.problem:
        text += " (config file unreadable)"
    if report.is_running:
        text += " · running"
    return text


def advice(check: StartCheck) -> str:
    """What to do about a failed check, in the tray's words."""
    return _GUI_ADVICE.get(check.problem, "Check the Logs page; if you know better, press Connect anyway.")


def check_text(check: StartCheck | None, *, is_pending: bool) -> tuple[str, str]:
    """The Starts cell and its tooltip: `starts`, `fails: <problem>` (why and what to do in the tooltip), or blank."""
    if is_pending:
        return CHECKING, "Starting the entry as the client would…"
    if check is None:
        return "", "No grok entry of this Grok MCP to check."
    if check.starts:
        return "starts", "Started as the client starts it, the entry answers MCP initialize."
    return f"fails: {check.problem}", f"Fails: {check.reason}.\nWhat to do: {advice(check)}"


def _is_demo_entry(report: ClientReport) -> bool:
    args = (report.entry or {}).get("args")
    return isinstance(args, list) and SIMULATE_FLAG in args


def _entry_mode(report: ClientReport) -> str:
    entry = report.entry or {}
    return HTTP if any(key in entry for key in ("url", "serverUrl", "httpUrl", "uri")) else STDIO


class ConfigDialog(QDialog):
    """A client's ready config fragment, read-only, with Copy; an HTTP token stays hidden until "Reveal token".

    `reveal_requested(bool)` asks the page for the fragment with (True) or without (False) the real token.
    """

    reveal_requested = Signal(bool)

    def __init__(self, report: ClientReport, snippet: str, *, mode: str, home: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"{report.display_name}: Grok MCP config")
        self.setObjectName("clientConfigDialog")
        self.client = report.name
        self._hidden_snippet = snippet
        self.is_revealed = False
        layout = QVBoxLayout(self)
        layout.setSpacing(SPACING)
        where = QLabel(
            f"Add this to <b>{html.escape(display_path(report.config_path, home))}</b> ({html.escape(report.format)}), "
            "merging it with what is there — or press Connect on the Clients page to have it done safely.",
            self,
        )
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(where)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName("Config fragment")
        self.text.setPlainText(snippet)
        layout.addWidget(self.text, 1)
        self.token_note = QLabel("", self)
        self.token_note.setWordWrap(True)
        layout.addWidget(self.token_note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.reveal_button = QPushButton("&Reveal token", self)
        self.reveal_button.setCheckable(True)
        self.copy_button = QPushButton("&Copy", self)
        buttons.addButton(self.reveal_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.reveal_button.setVisible(mode == HTTP)  # after addButton, which shows it
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.reveal_button.toggled.connect(self._on_reveal_toggled)
        self.copy_button.clicked.connect(self.copy)
        if mode == HTTP:
            self.token_note.setText("The bearer token is hidden. Press Reveal token to show (and copy) it.")
        self.resize(640, 360)

    def set_snippet(self, text: str, *, is_revealed: bool) -> None:
        """Show `text`; with the real token only when the Reveal toggle is still pressed."""
        if is_revealed and not self.reveal_button.isChecked():
            return  # the user hid it again before the token arrived
        self.is_revealed = is_revealed
        self.text.setPlainText(text)
        self.token_note.setText(
            "The bearer token is shown: anyone with it can use your Grok MCP server. Keep it private."
            if is_revealed
            else "The bearer token is hidden. Press Reveal token to show (and copy) it."
        )

    def copy(self) -> None:
        """Put the fragment as shown on the clipboard (with the token only when it is revealed)."""
        QGuiApplication.clipboard().setText(self.text.toPlainText())

    def _on_reveal_toggled(self, checked: bool) -> None:
        if checked:
            self.reveal_requested.emit(True)
        else:
            self.set_snippet(self._hidden_snippet, is_revealed=False)

    def done(self, result: int) -> None:
        self.text.clear()  # the token (if revealed) does not outlive the dialog
        super().done(result)


class ClientsPage(Page):
    """Every MCP client with its status and config file; Connect, Disconnect, Show config and Undo per the user.

    All `ClientManager` calls run on the worker, one at a time; a failure (a config file that does not parse:
    its file and line) goes to the banner and changes nothing.
    """

    title = "Clients"

    clients_loaded = Signal(object)
    """The statuses were read: the list of ClientReport."""

    action_finished = Signal(object)
    """A Connect, Disconnect or Undo ended and the statuses were read again: its ClientAction."""

    config_shown = Signal(object)
    """Show config opened its dialog: the ConfigDialog."""

    checks_finished = Signal(object)
    """Every configured entry was started as its client starts it: {client: StartCheck or None}."""

    def __init__(
        self,
        worker: Worker,
        manager: ClientManager,
        *,
        http_url: str,
        http_token: TokenSource,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._manager = manager
        self._http_url = http_url
        self._http_token = http_token
        self._task: Task | None = None
        self._check_task: Task | None = None
        self.checks: dict[str, StartCheck | None] = {}
        self._refused: tuple[str, str] | None = None  # (client, mode) of the last Connect the check refused
        self._reports: dict[str, ClientReport] = {}
        self._changed: list[str] = []
        self.rows: dict[str, ClientRow] = {}
        self.dialog: ConfigDialog | None = None

        intro = QLabel(
            "Connect Grok MCP to the MCP clients on this computer. Only the <b>grok</b> entry is written: every "
            "other server, setting and comment in the client's file stays as it is, and a backup is kept.",
            self,
        )
        intro.setWordWrap(True)
        self.body.addWidget(intro)
        self.table = self._make_table()
        self.body.addWidget(self.table, 1)
        self.restart_note = self._make_restart_note()
        self.body.addWidget(self.restart_note)
        self.refusal = self._make_refusal()
        self.body.addWidget(self.refusal)

        actions = QHBoxLayout()
        actions.setSpacing(SPACING)
        self.refresh_button = QPushButton("&Refresh", self)
        self.undo_button = QPushButton("&Undo last change", self)
        self.undo_button.setToolTip("Put back the config file from before the last Connect or Disconnect made here.")
        self.status_label = QLabel("", self)
        actions.addWidget(self.refresh_button)
        actions.addWidget(self.undo_button)
        actions.addWidget(self.status_label, 1)
        self.body.addLayout(actions)

        self.refresh_button.clicked.connect(self.refresh)
        self.undo_button.clicked.connect(self.undo_last_change)
        self._update_buttons()

    def _make_table(self) -> QTableWidget:
        table = QTableWidget(0, len(COLUMNS), self)
        table.setHorizontalHeaderLabels(list(COLUMNS))
        table.setAccessibleName("MCP clients")
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.verticalHeader().setVisible(False)
        header = table.horizontalHeader()
        for column in (_CLIENT, _STATUS, _MODE, _ACTIONS):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(_PATH, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(_STARTS, QHeaderView.ResizeMode.ResizeToContents)
        return table

    def _make_restart_note(self) -> QLabel:
        note = QLabel("", self)
        note.setObjectName("restartNote")
        note.setWordWrap(True)
        note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        note.setStyleSheet(
            "QLabel#restartNote { background: rgba(201, 138, 0, 40); border-radius: 4px; padding: 6px; }"
        )
        note.hide()
        return note

    def _make_refusal(self) -> QWidget:
        """The note shown when Connect refused an entry that cannot start, with the two ways past it."""
        box = QWidget(self)
        box.setObjectName("refusal")
        layout = QHBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(SPACING)
        self.refusal_text = QLabel("", box)
        self.refusal_text.setWordWrap(True)
        self.refusal_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.refusal_text.setStyleSheet(
            "QLabel { background: rgba(200, 50, 50, 40); border-radius: 4px; padding: 6px; }"
        )
        self.connect_anyway_button = QPushButton("Connect &anyway", box)
        self.connect_anyway_button.setToolTip("Write the entry although it does not start now (if you know better).")
        self.demo_button = QPushButton("Connect in &demo mode", box)
        self.demo_button.setToolTip(
            "Write an entry that runs in demo mode: answers come from the built-in simulator, not from Grok, "
            "and are marked simulated."
        )
        layout.addWidget(self.refusal_text, 1)
        layout.addWidget(self.connect_anyway_button)
        layout.addWidget(self.demo_button)
        self.connect_anyway_button.clicked.connect(self._connect_anyway)
        self.demo_button.clicked.connect(self._connect_demo)
        box.hide()
        return box

    # --- reading -------------------------------------------------------------------------------------

    @property
    def is_busy(self) -> bool:
        return self._task is not None

    @property
    def is_checking(self) -> bool:
        """Whether the configured entries are being started to check them."""
        return self._check_task is not None

    @property
    def reports(self) -> dict[str, ClientReport]:
        return dict(self._reports)

    def activate(self) -> None:
        if not self._reports and self._task is None:
            self.refresh()

    def refresh(self) -> None:
        """Read every client's status on the worker."""
        self._reload(None)

    def _on_loaded(self, reports: list[ClientReport], after: ClientAction | None = None) -> None:
        previous, self._reports = self._reports, {report.name: report for report in reports}
        self._fill(reports, previous)
        problems = [f"{r.display_name}: {r.problem}" for r in reports if r.problem]
        if after is None or after.is_ok:
            if problems:
                self.banner.show_error("\n".join(problems))
            else:
                self.banner.clear_message()
        self._update_buttons()
        self._run_checks(reports)
        self.clients_loaded.emit(reports)
        if after is not None:
            self.action_finished.emit(after)

    def _run_checks(self, reports: list[ClientReport]) -> None:
        """Start every configured entry as its client would, on the worker; the Starts column shows the results."""
        if self._check_task is not None:
            self._check_task.cancel()
        manager = self._manager
        pending = {r.name for r in reports if r.status is Status.CONFIGURED}
        for report in reports:
            self._show_check(report.name, None, is_pending=report.name in pending)

        def finished(checks: dict[str, StartCheck | None]) -> None:
            self._check_task = None
            self.checks = checks
            for client, check in checks.items():
                self._show_check(client, check, is_pending=False)
            self.checks_finished.emit(checks)

        def failed(error: Exception) -> None:
            self._check_task = None
            logger.error("Checking the MCP clients' entries failed", exc_info=error)
            for client in pending:
                self._show_check(client, None, is_pending=False)

        self._check_task = self._worker.submit(
            "clients: start checks", lambda: manager.checks(reports), on_success=finished, on_failure=failed
        )

    def _show_check(self, client: str, check: StartCheck | None, *, is_pending: bool) -> None:
        row = self.rows.get(client)
        if row is None:
            return
        text, tip = check_text(check, is_pending=is_pending)
        report = self._reports.get(client)
        if check is not None and check.starts and report is not None and _is_demo_entry(report):
            text, tip = "starts (demo mode)", tip + " Answers come from the built-in simulator, not from Grok."
        item = QTableWidgetItem(text)
        item.setToolTip(tip)
        if check is not None:
            item.setForeground(QBrush(_STARTS_COLOR if check.starts else _FAILS_COLOR))
        self.table.setItem(row.row, _STARTS, item)

    def _on_load_failed(self, error: Exception, after: ClientAction | None = None) -> None:
        if not isinstance(error, UserFacingError):
            logger.error("Reading the MCP clients failed", exc_info=error)
        self.banner.show_error(f"Could not read the MCP clients' configuration: {error}")
        self._update_buttons()
        if after is not None:
            self.action_finished.emit(after)

    def _fill(self, reports: list[ClientReport], previous: dict[str, ClientReport]) -> None:
        if [r.name for r in reports] != list(self.rows):
            self._build_rows(reports)
            previous = {}
        home = self._manager.host.home
        for report in reports:
            row = self.rows[report.name]
            status = QTableWidgetItem(status_text(report))
            status.setForeground(QBrush(_STATUS_COLORS[report.status]))
            status.setToolTip(report.problem or report.detail)
            self.table.setItem(row.row, _STATUS, status)
            path = QTableWidgetItem(display_path(report.config_path, home))
            path.setToolTip("\n".join([str(report.config_path), *(f"also: {p}" for p in report.other_paths)]))
            self.table.setItem(row.row, _PATH, path)
            has_entry = report.status.has_entry
            row.connect.setText("Update" if has_entry else "Connect")
            row.connect.setToolTip(
                f"Write the grok entry into {report.config_path} again"
                if has_entry
                else f"Add the grok entry to {report.config_path}"
            )
            before = previous.get(report.name)
            if row.mode is not None and has_entry and (before is None or before.entry != report.entry):
                row.mode.setCurrentIndex(row.mode.findData(_entry_mode(report)))  # follow the file, not a stale pick

    def _build_rows(self, reports: list[ClientReport]) -> None:
        self.table.clearContents()
        self.table.setRowCount(len(reports))
        self.rows.clear()
        for index, report in enumerate(reports):
            name = QTableWidgetItem(report.display_name)
            name.setToolTip(report.name)
            self.table.setItem(index, _CLIENT, name)
            mode: QComboBox | None = None
            if report.supports_http:
                mode = QComboBox(self.table)
                for key, label in MODE_LABELS.items():
                    mode.addItem(label, key)
                    mode.setItemData(mode.count() - 1, MODE_TIPS[key], Qt.ItemDataRole.ToolTipRole)
                mode.setToolTip("stdio: " + MODE_TIPS[STDIO] + "\nHTTP: " + MODE_TIPS[HTTP])
                mode.setAccessibleName(f"{report.display_name} connection mode")
                self.table.setCellWidget(index, _MODE, mode)
            else:
                only = QTableWidgetItem("stdio only")
                only.setToolTip(f"{report.display_name} takes stdio entries only. " + MODE_TIPS[STDIO])
                self.table.setItem(index, _MODE, only)
            cell = QWidget(self.table)
            buttons = QHBoxLayout(cell)
            buttons.setContentsMargins(4, 0, 4, 0)
            buttons.setSpacing(6)
            connect = QPushButton("Connect", cell)
            disconnect = QPushButton("Disconnect", cell)
            show = QPushButton("Show config", cell)
            for button, verb in ((connect, "Connect"), (disconnect, "Disconnect"), (show, "Show config for")):
                button.setAccessibleName(f"{verb} {report.display_name}")
                buttons.addWidget(button)
            self.table.setCellWidget(index, _ACTIONS, cell)
            client = report.name
            connect.clicked.connect(lambda _=False, c=client: self.connect_client(c))
            disconnect.clicked.connect(lambda _=False, c=client: self.disconnect_client(c))
            show.clicked.connect(lambda _=False, c=client: self.show_config(c))
            self.rows[client] = ClientRow(client, index, connect, disconnect, show, mode)
        self.table.resizeRowsToContents()

    def mode_of(self, client: str) -> str:
        """The mode chosen for `client` (stdio unless it can take HTTP and the user picked that)."""
        row = self.rows.get(client)
        if row is None or row.mode is None:
            return STDIO
        return str(row.mode.currentData())

    def set_mode(self, client: str, mode: str) -> None:
        row = self.rows[client]
        if row.mode is None:
            raise ValueError(f"{client} takes stdio entries only")
        row.mode.setCurrentIndex(row.mode.findData(mode))

    # --- changing ------------------------------------------------------------------------------------

    def _endpoint(self) -> HttpEndpoint:
        """The tray's URL and token (runs on the worker: the token may come from the keychain)."""
        token = self._http_token()
        if not token:
            raise UserFacingError(
                "There is no local HTTP token yet. Start the server from the tray once, then connect again."
            )
        return HttpEndpoint(self._http_url, token)

    def connect_client(self, client: str, *, force: bool = False, simulate: bool = False) -> None:
        """Add (or update) the grok entry in `client`'s config, in the mode chosen in its row (`simulate`: demo mode).

        First the entry is started as the client will start it; if it cannot answer initialize nothing is written
        and the page says why, with Connect anyway (`force`) and Connect in demo mode beside it.
        """
        is_http = self.mode_of(client) == HTTP and not simulate
        manager = self._manager

        def install() -> ChangeOutcome | StartCheck:
            endpoint = self._endpoint() if is_http else None
            manager.install(client, http=endpoint, simulate=simulate, dry_run=True)  # a broken file stops us first
            if not force:
                check = manager.check(client, endpoint, simulate=simulate)
                if not check.starts:
                    return check
            return manager.install(client, http=endpoint, simulate=simulate)

        self.refusal.hide()
        self._refused = None
        self._change(client, "connect", install, "Checking that the entry starts…", is_demo=simulate)

    def _connect_anyway(self) -> None:
        if self._refused is not None:
            client, mode = self._refused
            if self.rows[client].mode is not None:
                self.set_mode(client, mode)
            self.connect_client(client, force=True)

    def _connect_demo(self) -> None:
        if self._refused is not None:
            self.connect_client(self._refused[0], simulate=True)

    def _show_refusal(self, client: str, check: StartCheck) -> str:
        """Say why Connect wrote nothing and offer the ways past it; returns the message."""
        name = self._display(client)
        message = (
            f"Not connected: started as {name} starts it, the entry fails: {check.reason}. "
            f"Nothing was written. {advice(check)}"
        )
        self._refused = (client, self.mode_of(client))
        self.refusal_text.setText(message)
        self.demo_button.setVisible(self.mode_of(client) != HTTP)
        self.refusal.show()
        self.restart_note.hide()
        self.banner.clear_message()
        return message

    def disconnect_client(self, client: str) -> None:
        """Remove the grok entry, and only it, from `client`'s config."""
        manager = self._manager
        self._change(client, "disconnect", lambda: manager.remove(client), "Disconnecting…")

    def undo_last_change(self) -> None:
        """Put back the file changed by the last Connect or Disconnect made on this page, from its backup."""
        if not self._changed:
            return
        client = self._changed[-1]
        manager = self._manager
        self._change(client, "undo", lambda: manager.undo(client), "Undoing…")

    def _change(
        self,
        client: str,
        verb: str,
        function: Callable[[], ChangeOutcome | StartCheck],
        doing: str,
        *,
        is_demo: bool = False,
    ) -> None:
        def succeeded(outcome: ChangeOutcome | StartCheck) -> None:
            if isinstance(outcome, StartCheck):
                message = self._show_refusal(client, outcome)
                self._reload(ClientAction(client, verb, error=message, refused=outcome))
                return
            if verb == "undo":
                self._changed.pop()
            elif outcome.action not in ("unchanged", "absent"):
                self._changed.append(client)
            self._show_outcome(verb, outcome, is_demo=is_demo)
            self._reload(ClientAction(client, verb, outcome=outcome))

        def failed(error: Exception) -> None:
            message = str(error)
            if not isinstance(error, UserFacingError):
                logger.error("%s %s failed", verb.capitalize(), client, exc_info=error)
                message = f"Could not {verb} {self._display(client)}: {error}"
            self.banner.show_error(message)
            self._reload(ClientAction(client, verb, error=message))

        self._submit(f"clients: {verb} {client}", function, succeeded, failed, doing)

    def _reload(self, after: ClientAction | None) -> None:
        """Read every client's status on the worker; `after` is the action whose end the reading reports."""
        self._submit(
            "clients: read statuses",
            self._manager.reports,
            lambda reports: self._on_loaded(reports, after),
            lambda error: self._on_load_failed(error, after),
            "Reading…",
        )

    def _show_outcome(self, verb: str, outcome: ChangeOutcome, *, is_demo: bool = False) -> None:
        name = self._display(outcome.client)
        path = html.escape(display_path(outcome.config_path, self._manager.host.home))
        if outcome.action == "unchanged":
            lines = [f"{html.escape(name)} already has this grok entry in {path}; nothing changed."]
        elif outcome.action == "absent":
            lines = [f"{html.escape(name)} has no grok entry in {path}; nothing to remove."]
        else:
            done = {"connect": "Connected", "disconnect": "Disconnected", "undo": "Restored the previous file of"}[verb]
            mode = " in demo mode: answers come from the built-in simulator, not from Grok" if is_demo else ""
            lines = [f"{done} {html.escape(name)}{mode} ({path})."]
            if outcome.restart_hint:
                lines.append(f"<b>Next:</b> {html.escape(outcome.restart_hint)}")
        lines += [f"<b>Warning:</b> {html.escape(warning)}" for warning in outcome.warnings]
        self.restart_note.setText("<br>".join(lines))
        self.restart_note.show()
        self.banner.clear_message()

    def _display(self, client: str) -> str:
        report = self._reports.get(client)
        return report.display_name if report is not None else client

    # --- show config ---------------------------------------------------------------------------------

    def show_config(self, client: str) -> None:
        """Open a read-only dialog with `client`'s config fragment (token hidden) and a Copy button."""
        report = self._reports.get(client)
        if report is None:
            return
        mode = self.mode_of(client)
        manager = self._manager

        def hidden_snippet() -> str:
            snippet = manager.snippet(client, self._endpoint() if mode == HTTP else None)
            return snippet.replace(HIDDEN_TOKEN, HIDDEN_TOKEN_HERE)  # the CLI's wording names a CLI flag

        def opened(snippet: str) -> None:
            self._update_buttons()
            if self.dialog is not None:
                self.dialog.close()
            dialog = ConfigDialog(report, snippet, mode=mode, home=manager.host.home, parent=self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.reveal_requested.connect(lambda _: self._reveal(dialog, client))
            dialog.finished.connect(lambda _: self._forget_dialog(dialog))
            self.dialog = dialog
            dialog.show()
            self.config_shown.emit(dialog)

        self._submit(f"clients: snippet {client}", hidden_snippet, opened, self._on_simple_failure, "Preparing…")

    def _reveal(self, dialog: ConfigDialog, client: str) -> None:
        manager = self._manager

        def revealed() -> str:
            return manager.snippet(client, self._endpoint(), reveal_token=True)

        def shown(snippet: str) -> None:
            self._update_buttons()
            if self.dialog is dialog:
                dialog.set_snippet(snippet, is_revealed=True)

        def failed(error: Exception) -> None:
            self._on_simple_failure(error)
            if self.dialog is dialog:
                dialog.reveal_button.setChecked(False)

        if self._task is not None:
            dialog.reveal_button.setChecked(False)
            return
        self._submit(f"clients: reveal {client}", revealed, shown, failed, "Reading the token…")

    def _forget_dialog(self, dialog: ConfigDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _on_simple_failure(self, error: Exception) -> None:
        if not isinstance(error, UserFacingError):
            logger.error("A Clients page task failed", exc_info=error)
        self.banner.show_error(str(error))
        self._update_buttons()

    # --- plumbing ------------------------------------------------------------------------------------

    def _submit(
        self,
        name: str,
        function: Callable[[], Any],
        on_success: Callable[[Any], object],
        on_failure: Callable[[Exception], object],
        doing: str,
    ) -> None:
        if self._task is not None:
            self.status_label.setText("Busy; try again in a moment.")
            return

        def succeeded(value: object) -> None:
            self._task = None
            self.status_label.setText("")
            on_success(value)

        def failed(error: Exception) -> None:
            self._task = None
            self.status_label.setText("")
            on_failure(error)

        self.status_label.setText(doing)
        self._task = self._worker.submit(name, function, on_success=succeeded, on_failure=failed)
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = self._task is None
        self.refresh_button.setEnabled(idle)
        self.undo_button.setEnabled(idle and bool(self._changed))
        if self._changed:
            self.undo_button.setText(f"&Undo last change ({self._display(self._changed[-1])})")
        else:
            self.undo_button.setText("&Undo last change")
        for client, row in self.rows.items():
            report = self._reports.get(client)
            has_entry = report is not None and report.status.has_entry
            row.connect.setEnabled(idle)
            row.disconnect.setEnabled(idle and has_entry)
            row.show_config.setEnabled(idle)
            if row.mode is not None:
                row.mode.setEnabled(idle)

    def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._check_task is not None:
            self._check_task.cancel()
            self._check_task = None
        if self.dialog is not None:
            self.dialog.close()
