"""The Logs page: the server child's captured output, live, with copy and open-folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QWidget

from grok_mcp_desktop.supervisor import ServerSupervisor
from grok_mcp_desktop.widgets.page import SPACING, Page

MAX_LINES = 5_000


class LogsPage(Page):
    """The tail of the server log (the supervisor keeps it) growing as the server writes."""

    title = "Logs"

    folder_open_requested = Signal(str)
    """The user asked to open the log folder (its path); emitted before the desktop opens it."""

    def __init__(
        self, supervisor: ServerSupervisor, logs_dir: Path, *, open_urls: bool = True, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._supervisor = supervisor
        self._logs_dir = logs_dir
        self._open_urls = open_urls
        self.view = QPlainTextEdit(self)
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(MAX_LINES)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.view.setAccessibleName("Server log")
        self.view.setPlaceholderText("The server has written nothing yet.")
        self.path_label = QLabel(str(supervisor.log_path), self)
        self.copy_button = QPushButton("&Copy all", self)
        self.open_button = QPushButton("&Open log folder", self)
        row = QHBoxLayout()
        row.setSpacing(SPACING)
        row.addWidget(self.path_label, 1)
        row.addWidget(self.copy_button)
        row.addWidget(self.open_button)
        self.body.addLayout(row)
        self.body.addWidget(self.view, 1)
        self.view.setPlainText("\n".join(supervisor.log_tail()))
        self._scroll_to_end()
        supervisor.log_appended.connect(self.append_line)
        self.copy_button.clicked.connect(self.copy_all)
        self.open_button.clicked.connect(self.open_folder)

    def append_line(self, line: str) -> None:
        """Add a line at the end; keeps following the end only when the user was already there."""
        bar = self.view.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.view.appendPlainText(line.rstrip("\n"))
        if at_end:
            self._scroll_to_end()

    def _scroll_to_end(self) -> None:
        self.view.moveCursor(QTextCursor.MoveOperation.End)
        self.view.verticalScrollBar().setValue(self.view.verticalScrollBar().maximum())

    def copy_all(self) -> None:
        """Put the whole shown log on the clipboard."""
        QGuiApplication.clipboard().setText(self.view.toPlainText())
        self.banner.show_info("The log is on the clipboard.")

    def open_folder(self) -> None:
        """Open the log folder in the system's file manager."""
        self._logs_dir.mkdir(parents=True, exist_ok=True)
        self.folder_open_requested.emit(str(self._logs_dir))
        if self._open_urls and not QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._logs_dir))):
            self.banner.show_error(f"Could not open {self._logs_dir}; open it in your file manager.")
