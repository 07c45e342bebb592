"""The first-run welcome: paste an xAI key (validated by `grok-mcp keys set --json`, key on stdin) or keep demo mode."""

from __future__ import annotations

import json
import logging

from PySide6.QtCore import QProcess, QProcessEnvironment, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

logger = logging.getLogger(__name__)

_KEY_TIMEOUT_MS = 60_000


class WelcomeDialog(QDialog):
    """Offers to store a key (validated with xAI before it is saved) or to keep trying demo mode.

    `key_stored(str)` carries the redacted key once `grok-mcp keys set` accepted and stored it.
    """

    key_stored = Signal(str)

    def __init__(
        self,
        cli_command: list[str],
        *,
        environment: dict[str, str] | None = None,
        is_demo: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._cli_command = cli_command
        self._environment = environment
        self._process: QProcess | None = None
        self.setWindowTitle("Welcome to Grok MCP")
        self.setMinimumWidth(460)

        intro = QLabel(
            "<b>Grok MCP puts xAI's Grok into every MCP client.</b><br><br>"
            + (
                "No xAI API key is stored yet, so the server runs in <b>demo mode</b>: answers come from a "
                "built-in simulator and are marked as simulated.<br><br>"
                if is_demo
                else ""
            )
            + 'Paste a key from <a href="https://console.x.ai">console.x.ai</a> (API Keys) to use Grok for real. '
            "It is checked with xAI, then kept in your OS keychain."
        )
        intro.setWordWrap(True)
        intro.setOpenExternalLinks(True)
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("key")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("xai-…")
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)

        buttons = QDialogButtonBox()
        self.save_button = QPushButton("Check and save key")
        self.save_button.setObjectName("save")
        self.save_button.setDefault(True)
        self.demo_button = QPushButton("Keep trying demo mode" if is_demo else "Later")
        self.demo_button.setObjectName("demo")
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.demo_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.demo_button.clicked.connect(self.reject)
        self.key_edit.textChanged.connect(lambda text: self.save_button.setEnabled(bool(text.strip())))
        self.save_button.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(intro)
        layout.addWidget(self.key_edit)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

    @property
    def is_checking(self) -> bool:
        return self._process is not None

    def _on_save_button_clicked(self) -> None:
        key = self.key_edit.text().strip()
        if not key or self._process is not None:
            return
        process = QProcess(self)
        program, *args = self._cli_command
        process.setProgram(program)
        process.setArguments([*args, "keys", "set", "--json"])
        if self._environment is not None:
            env = QProcessEnvironment()
            for name, value in self._environment.items():
                env.insert(name, value)
            process.setProcessEnvironment(env)
        process.finished.connect(self._on_process_finished)
        self._process = process
        self.save_button.setEnabled(False)
        self.key_edit.setEnabled(False)
        self.status.setText("Checking the key with xAI…")
        process.start()
        # The key goes to the child's stdin, never its command line.
        process.write((key + "\n").encode("utf-8"))
        process.closeWriteChannel()
        self.key_edit.clear()

    def _on_process_finished(self, exit_code: int, _status: QProcess.ExitStatus) -> None:
        process = self._process
        self._process = None
        if process is None:
            return
        out = bytes(process.readAllStandardOutput().data()).decode("utf-8", errors="replace")
        err = bytes(process.readAllStandardError().data()).decode("utf-8", errors="replace")
        process.deleteLater()
        self.key_edit.setEnabled(True)
        if exit_code == 0:
            try:
                stored = str(json.loads(out).get("stored", ""))
            except (ValueError, AttributeError):
                stored = ""
            self.status.setText(f"Saved {stored}. Grok MCP now uses your key.")
            self.key_stored.emit(stored)
            self.accept()
            return
        # grok-mcp's message says what went wrong and what to do; it never contains the key.
        message = err.strip().splitlines()[-1] if err.strip() else f"grok-mcp exited with code {exit_code}."
        self.status.setText(message.removeprefix("grok-mcp: "))
        self.key_edit.setFocus()
