"""Which usage a page shows: real calls (xAI, billed) or demo-mode calls (the simulator), never both summed."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

SHOWING_REAL = "Showing: real usage"
SHOWING_DEMO = "Showing: demo usage (simulated, not billed)"
DEMO_NOTE = "simulated, not billed"
"""What a figure of demo usage says beside itself."""


class UsageKindBox(QComboBox):
    """The page's "Showing: …" choice. It follows the server's mode (demo or real) until the user picks one."""

    kind_changed = Signal(bool)
    """The usage shown changed: True for demo-mode (simulated) calls, False for real calls."""

    def __init__(self, *, simulated: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addItem(SHOWING_REAL, False)
        self.addItem(SHOWING_DEMO, True)
        self.setAccessibleName("Usage shown")
        self.setToolTip("Real calls cost money and count toward budgets; demo-mode calls are simulated and free.")
        self.setCurrentIndex(1 if simulated else 0)
        self._is_chosen_by_user = False
        self.activated.connect(self._on_activated)
        self.currentIndexChanged.connect(lambda _: self.kind_changed.emit(self.shows_simulated))

    @property
    def shows_simulated(self) -> bool:
        return bool(self.currentData())

    def follow_server(self, *, simulated: bool) -> None:
        """Show the usage of the server's mode, unless the user chose which to see."""
        if not self._is_chosen_by_user:
            self.setCurrentIndex(1 if simulated else 0)

    def _on_activated(self, _index: int) -> None:
        self._is_chosen_by_user = True
