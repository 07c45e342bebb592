"""The first-run welcome: paste an xAI key (validated by `grok-mcp keys set --json`, key on stdin) or keep demo mode."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from grok_mcp_desktop.cli_runner import CliOutcome, CliRunner


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
        self._cli = CliRunner(cli_command, environ=environment, parent=self)
        self.setWindowTitle("Welcome to Grok MCP")
        self.setMinimumWidth(460)
        self.key_edit = self._key_edit()
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        buttons = self._buttons(is_demo)
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        for widget in (self._intro(is_demo), self.key_edit, self.status, buttons):
            layout.addWidget(widget)

    @staticmethod
    def _intro(is_demo: bool) -> QLabel:
        demo = (
            "No xAI API key is stored yet, so the server runs in <b>demo mode</b>: answers come from a "
            "built-in simulator and are marked as simulated.<br><br>"
        )
        intro = QLabel(
            "<b>Grok MCP puts xAI's Grok into every MCP client.</b><br><br>"
            + (demo if is_demo else "")
            + 'Paste a key from <a href="https://console.x.ai">console.x.ai</a> (API Keys) to use Grok for real. '
            "It is checked with xAI, then kept in your OS keychain."
        )
        intro.setWordWrap(True)
        intro.setOpenExternalLinks(True)
        return intro

    @staticmethod
    def _key_edit() -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName("key")
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        edit.setPlaceholderText("xai-…")
        return edit

    def _buttons(self, is_demo: bool) -> QDialogButtonBox:
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
        return buttons

    @property
    def is_checking(self) -> bool:
        return self._cli.is_busy

    def _on_save_button_clicked(self) -> None:
        key = self.key_edit.text().strip()
        if not key or self._cli.is_busy:
            return
        self.save_button.setEnabled(False)
        self.key_edit.setEnabled(False)
        self.status.setText("Checking the key with xAI…")
        # The key goes to the child's stdin, never its command line.
        self._cli.run(["keys", "set", "--json"], self._on_keys_set, stdin_text=key)
        self.key_edit.clear()

    def _on_keys_set(self, outcome: CliOutcome) -> None:
        self.key_edit.setEnabled(True)
        if outcome.is_ok:
            stored = str(outcome.data.get("stored", "")) if isinstance(outcome.data, dict) else ""
            self.status.setText(f"Saved {stored}. Grok MCP now uses your key.")
            self.key_stored.emit(stored)
            self.accept()
            return
        # grok-mcp's message says what went wrong and what to do; it never contains the key.
        self.status.setText(outcome.message)
        self.key_edit.setFocus()
