"""The Keys page: add, rotate and remove the xAI key through `grok-mcp keys`, showing only redacted keys."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from grok_mcp_desktop.cli_runner import CliOutcome, CliRunner
from grok_mcp_desktop.widgets.page import Page, form_group, spaced_row

log = logging.getLogger(__name__)

KEYCHAIN_HINT = (
    "Unlock your system keychain (GNOME Keyring or KWallet on Linux, Keychain Access on macOS, "
    "Credential Manager on Windows), then press Refresh."
)


def describe_key_info(info: Mapping[str, Any]) -> dict[str, str]:
    """What xAI said about a key, as label → text for the page: name, redacted key, ACLs and status."""
    flags = [
        label
        for field, label in (
            ("api_key_blocked", "key blocked"),
            ("api_key_disabled", "key disabled"),
            ("team_blocked", "team blocked"),
        )
        if info.get(field)
    ]
    acls = [str(acl) for acl in info.get("acls") or []]
    return {
        "Name": str(info.get("name") or "–"),
        "Key": str(info.get("redacted_api_key") or "–"),
        "ACLs": ", ".join(acls) if acls else "(none: this key can call nothing)",
        "Status": "BLOCKED: " + ", ".join(flags) if flags else "active",
    }


class KeysPage(Page):
    """The configured xAI key (redacted), and the actions that change it, each run as a `grok-mcp keys` child."""

    title = "Keys"

    keys_loaded = Signal(object)
    """`keys show --json` answered: its JSON (source, redacted key, backend, previous key)."""

    key_saved = Signal(object)
    """`keys set` or `keys rotate` stored a key: its JSON (stored, validated, key_info …)."""

    action_finished = Signal(object)
    """Any keys command ended: its CliOutcome (success or failure)."""

    def __init__(
        self,
        cli_command: list[str],
        *,
        environ: Mapping[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._cli = CliRunner(cli_command, environ=environ, parent=self)
        self._has_key = False
        self._has_previous = False
        # The save or rotate that failed because xAI could not be reached, for "Save anyway" to repeat unchecked.
        self._unchecked_save: list[str] | None = None
        self.confirm_box: QMessageBox | None = None
        self.body.addWidget(self._configured_key_group())
        self.body.addWidget(self._change_key_group())
        self.body.addWidget(self._key_info_group())
        self.status_label = QLabel("", self)
        self.body.addWidget(self.status_label)
        self.body.addStretch(1)

        self.refresh_button.clicked.connect(self.refresh)
        self.save_button.clicked.connect(self.save_key)
        self.rotate_button.clicked.connect(self.rotate_key)
        self.save_anyway_button.clicked.connect(self.save_anyway)
        self.end_grace_button.clicked.connect(self.end_grace_period)
        self.remove_button.clicked.connect(self.request_remove)
        self.key_edit.returnPressed.connect(self.save_key)
        self.key_edit.textChanged.connect(lambda _: self._update_buttons())
        self._update_buttons()

    def _configured_key_group(self) -> QGroupBox:
        group, form = form_group("Configured key", self)
        self.active_label = QLabel("…", group)
        self.source_label = QLabel("", group)
        self.previous_label = QLabel("none", group)
        for label in (self.active_label, self.source_label, self.previous_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Active:", self.active_label)
        form.addRow("Stored in:", self.source_label)
        form.addRow("Previous:", self.previous_label)
        self.refresh_button = QPushButton("&Refresh", group)
        self.end_grace_button = QPushButton("&End grace period", group)
        self.remove_button = QPushButton("Re&move key…", group)
        form.addRow(spaced_row(self.refresh_button, None, self.end_grace_button, self.remove_button))
        return group

    def _change_key_group(self) -> QGroupBox:
        group, form = form_group("Add or rotate a key", self)
        self.key_edit = QLineEdit(group)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("xai-…  (paste from console.x.ai)")
        self.key_edit.setAccessibleName("New xAI API key")
        self.grace_minutes = QDoubleSpinBox(group)
        self.grace_minutes.setRange(0, 7 * 24 * 60)
        self.grace_minutes.setDecimals(0)
        self.grace_minutes.setValue(60)
        self.grace_minutes.setSuffix(" min")
        self.grace_minutes.setAccessibleName("Grace period for the old key")
        self.save_button = QPushButton("&Save key", group)
        self.rotate_button = QPushButton("R&otate", group)
        self.save_anyway_button = QPushButton("Save &anyway", group)
        self.save_anyway_button.setToolTip("Keep the key without checking it; it is checked once xAI answers again.")
        self.save_anyway_button.setVisible(False)
        form.addRow("New key:", self.key_edit)
        form.addRow("Keep the old key for:", self.grace_minutes)
        form.addRow(spaced_row(None, self.save_anyway_button, self.save_button, self.rotate_button))
        return group

    def _key_info_group(self) -> QGroupBox:
        group, self.info_form = form_group("What xAI says about the key", self)
        self.info_labels: dict[str, QLabel] = {}
        for name in ("Name", "Key", "ACLs", "Status"):
            label = QLabel("–", group)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.info_labels[name] = label
            self.info_form.addRow(f"{name}:", label)
        return group

    # --- running commands ----------------------------------------------------------------------------

    @property
    def is_busy(self) -> bool:
        return self._cli.is_busy

    def _run(
        self,
        arguments: list[str],
        done: Callable[[CliOutcome], None],
        *,
        stdin_text: str | None = None,
        doing: str,
        failed: Callable[[CliOutcome], None] | None = None,
    ) -> None:
        """Run `grok-mcp ARGUMENTS`; `done` gets a success, `failed` (default: the banner shows why) a failure."""
        if self._cli.is_busy:
            return

        def finished(outcome: CliOutcome) -> None:
            self.status_label.setText("")
            if outcome.is_ok:
                self.banner.clear_message()
                done(outcome)
            elif failed is not None:
                failed(outcome)
            else:
                self._show_failure(outcome)
            self._update_buttons()
            self.action_finished.emit(outcome)

        self.status_label.setText(doing)
        self._cli.run(arguments, finished, stdin_text=stdin_text)
        self._update_buttons()

    def _show_failure(self, outcome: CliOutcome) -> None:
        if outcome.is_keychain_unavailable:
            self.banner.show_error(f"{outcome.message}\n{KEYCHAIN_HINT}")
        else:
            self.banner.show_error(outcome.message)

    def _update_buttons(self) -> None:
        idle = not self._cli.is_busy
        has_text = bool(self.key_edit.text().strip())
        self.refresh_button.setEnabled(idle)
        self.save_button.setEnabled(idle and has_text)
        self.save_anyway_button.setVisible(self._unchecked_save is not None)
        self.save_anyway_button.setEnabled(idle and has_text)
        self.rotate_button.setEnabled(idle and has_text and self._has_key)
        self.remove_button.setEnabled(idle and self._has_key)
        self.end_grace_button.setEnabled(idle and self._has_previous)
        self.key_edit.setEnabled(idle)

    # --- actions -------------------------------------------------------------------------------------

    def activate(self) -> None:
        if not self._has_key and not self._cli.is_busy:
            self.refresh()

    def refresh(self) -> None:
        """Ask `grok-mcp keys show --json` which key is configured (redacted)."""
        self._run(["keys", "show", "--json"], self._on_shown, doing="Reading the keychain…")

    def _on_shown(self, outcome: CliOutcome) -> None:
        data: dict[str, Any] = outcome.data if isinstance(outcome.data, dict) else {}
        key = data.get("key")
        self._has_key = bool(key) and data.get("source") == "keychain"
        if not key:
            self.active_label.setText("No key yet: paste one below, or use demo mode.")
            self.source_label.setText(f"OS keychain ({data.get('backend', 'unknown backend')})")
        elif data.get("validated") is False:
            self.active_label.setText(f"{key} (not checked with xAI yet)")
        else:
            self.active_label.setText(str(key))
        if key:
            where = (
                "the XAI_API_KEY environment variable (it wins over the keychain)"
                if data.get("source") == "env"
                else f"OS keychain ({data.get('backend', 'unknown backend')})"
            )
            self.source_label.setText(where)
        previous = data.get("previous_key")
        self._has_previous = bool(previous)
        if previous:
            until = data.get("previous_expires_at")
            ends = f" until {datetime.fromtimestamp(float(until)).strftime('%H:%M')}" if until else ""
            self.previous_label.setText(f"{previous} (still accepted{ends})")
        else:
            self.previous_label.setText("none")
        self.keys_loaded.emit(data)
        if data.get("validated") is False:
            self._check_unchecked_key()

    def _check_unchecked_key(self) -> None:
        """The key was stored unchecked: ask xAI about it now (`keys test` notes a key xAI accepts as checked)."""

        def failed(outcome: CliOutcome) -> None:
            self.status_label.setText(f"The key is still not checked with xAI: {outcome.message}")

        self._run(["keys", "test", "--json"], self._on_key_tested, doing="Checking the key with xAI…", failed=failed)

    def _on_key_tested(self, outcome: CliOutcome) -> None:
        if isinstance(outcome.data, dict):
            for name, text in describe_key_info(outcome.data).items():
                self.info_labels[name].setText(text)
        self.refresh()

    def save_key(self) -> None:
        """Validate the typed key with xAI and store it (`keys set --json`, key on stdin)."""
        self._save(["keys", "set", "--json"], doing="Checking the key with xAI…")

    def rotate_key(self) -> None:
        """Validate the typed key, make it active, and keep the old one for the grace period (`keys rotate`)."""
        minutes = f"{self.grace_minutes.value():g}"
        self._save(["keys", "rotate", "--json", "--grace-minutes", minutes], doing="Checking the new key with xAI…")

    def save_anyway(self) -> None:
        """xAI could not be reached: store the typed key unchecked, as the failed save or rotation would have."""
        if self._unchecked_save is not None:
            self._save([*self._unchecked_save, "--no-validate"], doing="Saving the key without checking it…")

    def _save(self, arguments: list[str], *, doing: str) -> None:
        key = self.key_edit.text().strip()
        if not key or self._cli.is_busy:
            return

        def failed(outcome: CliOutcome) -> None:
            data: dict[str, Any] = outcome.data if isinstance(outcome.data, dict) else {}
            if not data.get("unreachable"):
                self._unchecked_save = None
                self._show_failure(outcome)
                return
            self._unchecked_save = [arg for arg in arguments if arg != "--no-validate"]
            self.banner.show_error(
                f"xAI could not be reached, so the key was not checked or saved. {data.get('message', '')}\n"
                "Save anyway keeps it unchecked; Grok MCP checks it with xAI once the network is back "
                "(when the tray starts, or press Refresh here)."
            )

        self._run(arguments, self._on_saved, stdin_text=key, doing=doing, failed=failed)

    def _on_saved(self, outcome: CliOutcome) -> None:
        self.key_edit.clear()
        self._unchecked_save = None
        data: dict[str, Any] = outcome.data if isinstance(outcome.data, dict) else {}
        info = data.get("key_info")
        if isinstance(info, dict):
            for name, text in describe_key_info(info).items():
                self.info_labels[name].setText(text)
        note = f"Stored {data.get('stored', 'the key')}."
        if data.get("validated") is False:
            note += " It is not checked with xAI yet; that happens once xAI answers again."
        if data.get("env_overrides"):
            note += " XAI_API_KEY is set in the environment and takes precedence over the keychain."
        self.banner.show_info(note)
        self.key_saved.emit(data)
        self.refresh()

    def end_grace_period(self) -> None:
        """Forget the previous key now (`keys remove --previous`)."""
        self._run(["keys", "remove", "--previous"], lambda _: self.refresh(), doing="Ending the grace period…")

    def request_remove(self) -> None:
        """Ask for confirmation, then remove the key from the keychain (`keys remove`)."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Remove key",
            "Remove the xAI key from the keychain? Grok MCP cannot call xAI until you add a key again.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.confirm_box = box

        def answered() -> None:
            self.confirm_box = None
            clicked = box.clickedButton()
            if clicked is not None and box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole:
                self._run(["keys", "remove"], self._on_removed, doing="Removing the key…")
            box.deleteLater()

        box.finished.connect(answered)
        box.open()

    def _on_removed(self, outcome: CliOutcome) -> None:
        for label in self.info_labels.values():
            label.setText("–")
        self.banner.show_info("The key was removed from the keychain.")
        self.refresh()

    def shutdown(self) -> None:
        self._cli.shutdown()
