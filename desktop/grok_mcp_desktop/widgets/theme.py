"""Light and dark palettes for the dashboard, following the system's colour scheme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

_ROLES = QPalette.ColorRole

_LIGHT = {
    _ROLES.Window: "#f5f5f7",
    _ROLES.WindowText: "#1d1d1f",
    _ROLES.Base: "#ffffff",
    _ROLES.AlternateBase: "#f0f0f3",
    _ROLES.Text: "#1d1d1f",
    _ROLES.Button: "#ebebef",
    _ROLES.ButtonText: "#1d1d1f",
    _ROLES.Highlight: "#2f6fde",
    _ROLES.HighlightedText: "#ffffff",
    _ROLES.ToolTipBase: "#ffffe8",
    _ROLES.ToolTipText: "#1d1d1f",
    _ROLES.PlaceholderText: "#6e6e73",
    _ROLES.Link: "#2f6fde",
}

_DARK = {
    _ROLES.Window: "#1e1f22",
    _ROLES.WindowText: "#e6e6e9",
    _ROLES.Base: "#26272b",
    _ROLES.AlternateBase: "#2c2d31",
    _ROLES.Text: "#e6e6e9",
    _ROLES.Button: "#303136",
    _ROLES.ButtonText: "#e6e6e9",
    _ROLES.Highlight: "#3d7bea",
    _ROLES.HighlightedText: "#ffffff",
    _ROLES.ToolTipBase: "#303136",
    _ROLES.ToolTipText: "#e6e6e9",
    _ROLES.PlaceholderText: "#9a9aa1",
    _ROLES.Link: "#6ea2ff",
}


def palette(*, dark: bool) -> QPalette:
    """Our light or dark palette (disabled text dimmed in both)."""
    result = QPalette()
    for role, color in (_DARK if dark else _LIGHT).items():
        result.setColor(role, QColor(color))
    dimmed = QColor(_DARK[_ROLES.PlaceholderText] if dark else _LIGHT[_ROLES.PlaceholderText])
    for role in (_ROLES.WindowText, _ROLES.Text, _ROLES.ButtonText):
        result.setColor(QPalette.ColorGroup.Disabled, role, dimmed)
    return result


def system_prefers_dark() -> bool:
    """Whether the desktop asks for a dark colour scheme."""
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_system_palette(app: QGuiApplication) -> None:
    """Use the palette matching the system's scheme now and whenever the user switches it."""
    QGuiApplication.setPalette(palette(dark=system_prefers_dark()))
    app.styleHints().colorSchemeChanged.connect(
        lambda scheme: QGuiApplication.setPalette(palette(dark=scheme == Qt.ColorScheme.Dark))
    )
