"""The app icon and its per-state tray variants, drawn from resources/icons/grok-mcp.svg (one loader, frozen or not)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtSvg import QSvgRenderer

from grok_mcp_desktop.supervisor import ServerState

ICON_NAME = "grok-mcp.svg"
TRAY_SIZES = (16, 22, 24, 32, 48, 64, 128)

# The status dot in the icon's lower right corner; STOPPED has none (the mark is drawn dimmed instead).
STATE_COLORS: dict[ServerState, str] = {
    ServerState.STARTING: "#f59e0b",
    ServerState.RUNNING: "#22c55e",
    ServerState.DEGRADED: "#f97316",
    ServerState.BACKING_OFF: "#f59e0b",
    ServerState.ERROR: "#ef4444",
}


def resources_dir() -> Path:
    """Where resources/ is: inside the PyInstaller bundle when frozen, else next to the source tree."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def icon_path() -> Path:
    return resources_dir() / "icons" / ICON_NAME


class IconSet:
    """Renders the mark once per size and state; cheap to ask again (cached)."""

    def __init__(self, svg_path: Path | None = None) -> None:
        path = svg_path or icon_path()
        self._renderer = QSvgRenderer(str(path)) if path.is_file() else None
        self._cache: dict[ServerState | None, QIcon] = {}

    @property
    def has_artwork(self) -> bool:
        return self._renderer is not None and self._renderer.isValid()

    def app_icon(self) -> QIcon:
        """The plain mark, for windows and dialogs."""
        return self._icon(None)

    def for_state(self, state: ServerState) -> QIcon:
        """The tray icon for `state`: dimmed when stopped, with a coloured status dot otherwise."""
        return self._icon(state)

    def _icon(self, state: ServerState | None) -> QIcon:
        cached = self._cache.get(state)
        if cached is not None:
            return cached
        icon = QIcon()
        for size in TRAY_SIZES:
            icon.addPixmap(self.pixmap(state, size))
        self._cache[state] = icon
        return icon

    def pixmap(self, state: ServerState | None, size: int) -> QPixmap:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if state is ServerState.STOPPED:
            painter.setOpacity(0.45)
        self._paint_mark(painter, size)
        painter.setOpacity(1.0)
        color = STATE_COLORS.get(state) if state is not None else None
        if color is not None:
            radius = max(size * 0.2, 3.0)
            center = QPointF(size - radius - size * 0.02, size - radius - size * 0.02)
            painter.setPen(QPen(QColor("#0b1020"), max(size / 16, 1.0)))
            painter.setBrush(QBrush(QColor(color)))
            painter.drawEllipse(center, radius, radius)
        painter.end()
        return pixmap

    def _paint_mark(self, painter: QPainter, size: int) -> None:
        if self._renderer is not None and self._renderer.isValid():
            self._renderer.render(painter, QRectF(0, 0, size, size))
            return
        # No artwork installed (a bare wheel): a plain tile keeps the tray usable.
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor("#1f2937")))
        painter.drawRoundedRect(QRectF(0, 0, size, size), size * 0.22, size * 0.22)
        painter.setBrush(QBrush(QColor("#818cf8")))
        painter.drawEllipse(QPointF(size / 2, size / 2), size * 0.2, size * 0.2)
