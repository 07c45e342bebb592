"""The Settings page: default model, port, cache, budgets, saving conversations, logging prompts, start at login
and demo mode."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from grok_mcp.config import Settings
from grok_mcp.errors import ExitCode
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from grok_mcp_desktop.cli_runner import CliOutcome, CliRunner
from grok_mcp_desktop.settings_file import SettingsValues, read_values, validation_errors, write_values
from grok_mcp_desktop.widgets.page import Page, form_group, spaced_row
from grok_mcp_desktop.worker import Worker

NO_BUDGET = 0.0
DEMO_WITHOUT_KEY = "On while no xAI key can be used: add a key on the Keys page to leave demo mode."
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def model_list_problem(outcome: CliOutcome) -> str:
    """Why the model list could not be had, said for the window: what to do here, never a command to type."""
    if outcome.exit_code == ExitCode.NO_API_KEY:
        return "No xAI key is stored yet: add one on the Keys page, or turn on demo mode."
    if outcome.is_keychain_unavailable:
        return "The system keychain cannot be read, so no xAI key is available: see the Keys page."
    # The command's own message may advise commands (`grok-mcp keys set`): those sentences are left out here.
    sentences = [part for part in _SENTENCE_END.split(outcome.message.strip()) if "`" not in part and part]
    return " ".join(sentences) or "The command that lists them failed."


class StartAtLogin(Protocol):
    """Start-at-login control (grok_mcp_desktop.autostart provides it per OS)."""

    def is_enabled(self) -> bool: ...

    def set_enabled(self, enabled: bool) -> None: ...


class SettingsPage(Page):
    """Edits settings.toml in the data dir (comments and unknown keys kept); servers read it when they start."""

    title = "Settings"

    values_loaded = Signal(object)
    saved = Signal(object)
    """settings.toml was written: the SettingsValues."""

    models_loaded = Signal(list)
    models_finished = Signal()
    """The model-list command ended (listed or failed)."""
    save_failed = Signal(str)

    def __init__(
        self,
        home: Path,
        worker: Worker,
        cli_command: list[str],
        *,
        environ: Mapping[str, str] | None = None,
        autostart: StartAtLogin | None = None,
        server_is_simulated: Callable[[], bool] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`server_is_simulated` says whether the tray's server runs in demo mode now (for any reason)."""
        super().__init__(parent)
        self._home = home
        self._worker = worker
        self._autostart = autostart
        self._server_is_simulated = server_is_simulated or (lambda: False)
        self._stored_demo_mode = False
        self._models_cli = CliRunner(cli_command, environ=environ, parent=self)
        self._is_loaded = False
        self.body.addWidget(self._server_group())
        self.body.addWidget(self._budgets_group())
        self.body.addWidget(self._startup_group(can_start_at_login=autostart is not None))
        self.body.addLayout(self._save_row())
        self.body.addStretch(1)
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.load)

    def _server_group(self) -> QGroupBox:
        group, form = form_group("Server", self)
        self.model_box = QComboBox(group)
        self.model_box.setEditable(True)
        self.model_box.setAccessibleName("Default model")
        model_edit = self.model_box.lineEdit()
        if model_edit is not None:
            model_edit.setPlaceholderText("xAI's default")
        self.models_hint = QLabel("", group)
        self.models_hint.setWordWrap(True)
        self.port = QSpinBox(group)
        self.port.setRange(1, 65535)
        self.port.setAccessibleName("Port")
        self.cache_ttl = QSpinBox(group)
        self.cache_ttl.setRange(0, 7 * 24 * 3600)
        self.cache_ttl.setSuffix(" s")
        self.cache_ttl.setSpecialValueText("off")
        self.cache_ttl.setAccessibleName("Response cache time")
        form.addRow("Default &model:", self.model_box)
        form.addRow("", self.models_hint)
        form.addRow("&Port:", self.port)
        form.addRow("Response &cache:", self.cache_ttl)
        return group

    def _budgets_group(self) -> QGroupBox:
        group, form = form_group("Budgets", self)
        self.daily_budget = self._budget_box(group, "Daily budget")
        self.monthly_budget = self._budget_box(group, "Monthly budget")
        form.addRow("&Daily:", self.daily_budget)
        form.addRow("M&onthly:", self.monthly_budget)
        return group

    def _startup_group(self, *, can_start_at_login: bool) -> QGroupBox:
        group, form = form_group("Privacy and startup", self)
        self.save_conversations = QCheckBox("Save conversations (Grok continues them; you read them here)", group)
        self.save_conversations.setToolTip(
            "Off: no new conversation is kept, and Grok says it cannot remember one. Saved ones stay until deleted."
        )
        self.log_content = QCheckBox("Log prompts and answers in requests.jsonl (in the logs folder)", group)
        self.log_content.setToolTip("Off: the request log keeps times, tokens and costs, never what was said.")
        self.start_at_login = QCheckBox("Start Grok MCP when I log in", group)
        self.demo_mode = QCheckBox("Demo mode: answer from the built-in simulator (marked as simulated)", group)
        self.demo_mode.setChecked(self._server_is_simulated())
        self.demo_hint = QLabel("", group)
        self.demo_hint.setWordWrap(True)
        if not can_start_at_login:
            self.start_at_login.setEnabled(False)
            self.start_at_login.setToolTip("Start at login is not available on this system.")
        for box in (self.save_conversations, self.log_content, self.start_at_login, self.demo_mode, self.demo_hint):
            form.addRow(box)
        return group

    def _save_row(self) -> QHBoxLayout:
        self.save_button = QPushButton("&Save", self)
        self.save_button.setDefault(True)
        self.revert_button = QPushButton("Re&vert", self)
        self.note = QLabel("Servers read these settings when they start; restart the server to apply them.", self)
        self.note.setWordWrap(True)
        return spaced_row(self.note, self.revert_button, self.save_button, expanding=self.note)

    def _budget_box(self, parent: QWidget, name: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox(parent)
        box.setRange(NO_BUDGET, 1_000_000)
        box.setDecimals(2)
        box.setPrefix("$")
        box.setSpecialValueText("no budget")
        box.setAccessibleName(name)
        return box

    # --- loading -------------------------------------------------------------------------------------

    def activate(self) -> None:
        if not self._is_loaded:
            self.load()
        if not self._models_cli.is_busy and self.model_box.count() == 0:
            self.load_models()

    def load(self) -> None:
        """Read settings.toml (and the start-at-login state) in the background and show it."""
        home, autostart = self._home, self._autostart

        def read() -> tuple[SettingsValues, bool | None]:
            return read_values(home), autostart.is_enabled() if autostart is not None else None

        self._worker.submit("read settings", read, on_success=self._on_loaded, on_failure=self._on_load_failed)

    def _on_load_failed(self, error: Exception) -> None:
        self.banner.show_error(str(error))

    def _on_loaded(self, result: tuple[SettingsValues, bool | None]) -> None:
        values, starts_at_login = result
        self._is_loaded = True
        self.show_values(values)
        if starts_at_login is not None:
            self.start_at_login.setChecked(starts_at_login)
        self.banner.clear_message()
        self.values_loaded.emit(values)

    def show_values(self, values: SettingsValues) -> None:
        self.model_box.setCurrentText(values.default_model or "")
        self.port.setValue(values.port)
        self.cache_ttl.setValue(round(values.cache_ttl_s))
        self.daily_budget.setValue(values.daily_budget_usd or NO_BUDGET)
        self.monthly_budget.setValue(values.monthly_budget_usd or NO_BUDGET)
        self.save_conversations.setChecked(values.save_conversations)
        self.log_content.setChecked(values.log_content)
        self._stored_demo_mode = values.demo_mode
        self.show_demo_mode()

    @property
    def is_demo_mode_forced(self) -> bool:
        """Whether the server runs in demo mode though Settings do not ask for it (no key can be used)."""
        return not self._stored_demo_mode and self._server_is_simulated()

    def show_demo_mode(self) -> None:
        """Tick "Demo mode" whenever the server runs in demo mode; locked, saying why, when no key is the reason."""
        forced = self.is_demo_mode_forced
        self.demo_mode.setChecked(self._stored_demo_mode or forced)
        self.demo_mode.setEnabled(not forced)
        self.demo_hint.setText(DEMO_WITHOUT_KEY if forced else "")
        self.demo_hint.setVisible(forced)

    @property
    def is_loading_models(self) -> bool:
        return self._models_cli.is_busy

    def load_models(self) -> None:
        """Fill the model list from the live catalog (`grok-mcp models --json`, in a child process)."""
        demo = self._server_is_simulated() or self.demo_mode.isChecked()
        arguments = ["models", "--json"] + (["--simulate"] if demo else [])
        self.models_hint.setText("Asking xAI for the current models…")
        self._models_cli.run(arguments, self._on_models_finished)

    def _on_models_finished(self, outcome: CliOutcome) -> None:
        data: dict[str, Any] = outcome.data if isinstance(outcome.data, dict) else {}
        if not outcome.is_ok or not data:
            problem = model_list_problem(outcome)
            self.models_hint.setText(f"Could not list the models. {problem} Type a model name instead.")
            self.models_finished.emit()
            return
        chat = [str(m["id"]) for m in data.get("models", []) if isinstance(m, dict) and m.get("kind") == "chat"]
        typed = self.model_box.currentText()
        self.model_box.clear()
        self.model_box.addItems(chat)
        self.model_box.setCurrentText(typed)
        default = data.get("default_chat_model")
        simulated = " (simulated catalog)" if data.get("simulated") else ""
        self.models_hint.setText(f"{len(chat)} chat models{simulated}; empty uses xAI's default ({default or '–'}).")
        self.models_loaded.emit(chat)
        self.models_finished.emit()

    # --- saving --------------------------------------------------------------------------------------

    def values(self) -> SettingsValues:
        """The values as entered on the page."""
        model = self.model_box.currentText().strip()
        return SettingsValues(
            default_model=model or None,
            port=self.port.value(),
            cache_ttl_s=float(self.cache_ttl.value()),
            daily_budget_usd=self.daily_budget.value() or None,
            monthly_budget_usd=self.monthly_budget.value() or None,
            log_content=self.log_content.isChecked(),
            # Ticked only because no key can be used: saving must not keep demo mode on once there is one.
            demo_mode=self._stored_demo_mode if self.is_demo_mode_forced else self.demo_mode.isChecked(),
            save_conversations=self.save_conversations.isChecked(),
        )

    def save(self) -> None:
        """Validate and write settings.toml (and start at login) in the background; problems show in the banner."""
        values = self.values()
        errors = validation_errors(values)
        if errors:
            self._on_save_failed(ValueError("\n".join(errors)))
            return
        home, autostart = self._home, self._autostart
        wants_autostart = self.start_at_login.isChecked() if autostart is not None else None

        def write() -> Settings:
            settings = write_values(home, values)
            if autostart is not None and wants_autostart is not None and autostart.is_enabled() != wants_autostart:
                autostart.set_enabled(wants_autostart)
            return settings

        self.save_button.setEnabled(False)
        self._worker.submit(
            "write settings",
            write,
            on_success=lambda _: self._on_saved(values),
            on_failure=self._on_save_failed,
        )

    def _on_saved(self, values: SettingsValues) -> None:
        self.save_button.setEnabled(True)
        self.banner.show_info("Saved. The server restarts to apply the changes.")
        self.saved.emit(values)

    def _on_save_failed(self, error: Exception) -> None:
        self.save_button.setEnabled(True)
        self.banner.show_error(f"Not saved: {error}")
        self.save_failed.emit(str(error))

    def shutdown(self) -> None:
        self._models_cli.shutdown()
