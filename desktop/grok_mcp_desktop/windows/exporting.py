"""The base of the pages that export what they show: the save dialog, the write off the GUI thread, the report."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from grok_mcp_desktop.exports import write_text_atomically
from grok_mcp_desktop.store_access import StoreAccess
from grok_mcp_desktop.widgets.page import Page
from grok_mcp_desktop.worker import Task


class ExportingPage(Page):
    """A page over the store that writes exports; the save dialog suggests a name in `exports_dir`."""

    exported = Signal(str)
    """An export was written (its path)."""

    def __init__(self, store: StoreAccess, *, exports_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._exports_dir = exports_dir

    def _ask_export_path(self, caption: str, file_name: str, file_filter: str) -> Path | None:
        """The path the user chose in a save dialog that suggests `file_name`, or None if it was cancelled."""
        chosen, _ = QFileDialog.getSaveFileName(self, caption, str(self._exports_dir / file_name), file_filter)
        return Path(chosen) if chosen else None

    def _write_export(self, name: str, path: Path, text: str) -> Task:
        """Write `text` to `path` on the worker; the banner then says where it went, or why it could not."""
        return self._store.worker.submit(
            name,
            lambda: write_text_atomically(path, text),
            on_success=lambda _: self._on_exported(path),
            on_failure=lambda error: self.banner.show_error(f"Could not write {path}: {error}"),
        )

    def _on_exported(self, path: Path) -> None:
        self.banner.show_info(f"Exported to {path}")
        self.exported.emit(str(path))
