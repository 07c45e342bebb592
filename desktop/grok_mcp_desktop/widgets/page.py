"""Small widgets every page shares: the page frame (heading, message banner), form groups, rows and stat cards."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

SPACING = 12
"""The one spacing unit between widgets (px, scaled by Qt on high-DPI screens)."""

MARGIN = 16


def form_group(title: str, parent: QWidget) -> tuple[QGroupBox, QFormLayout]:
    """A titled box holding a form at the page spacing: the box (to add to a page) and its form (to fill)."""
    group = QGroupBox(title, parent)
    form = QFormLayout(group)
    form.setHorizontalSpacing(SPACING)
    return group, form


def spaced_row(*items: QWidget | None, expanding: QWidget | None = None) -> QHBoxLayout:
    """A row of widgets at the page spacing; None is a stretch, and `expanding` takes the room left over."""
    row = QHBoxLayout()
    row.setSpacing(SPACING)
    for item in items:
        if item is None:
            row.addStretch(1)
        else:
            row.addWidget(item, 1 if item is expanding else 0)
    return row


class MessageBanner(QLabel):
    """A line above a page's content saying what went wrong (or what to do next); hidden when there is nothing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setContentsMargins(8, 6, 8, 6)
        self.setObjectName("messageBanner")
        self.hide()

    def show_error(self, text: str) -> None:
        self._show(text, "error")

    def show_info(self, text: str) -> None:
        self._show(text, "info")

    def _show(self, text: str, kind: str) -> None:
        self.setProperty("kind", kind)
        # Translucent tints read well on light and dark palettes alike.
        tint = "rgba(220, 50, 47, 45)" if kind == "error" else "rgba(38, 139, 210, 40)"
        self.setStyleSheet(f"QLabel#messageBanner {{ background: {tint}; border-radius: 4px; }}")
        self.setText(text)
        self.show()

    def clear_message(self) -> None:
        self.setText("")
        self.hide()


class Page(QWidget):
    """A dashboard page: a heading, a banner for messages, then the page's own content in `body`."""

    title = "Page"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        outer.setSpacing(SPACING)
        heading = QLabel(self.title, self)
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        heading.setFont(font)
        heading.setAccessibleName(f"{self.title} heading")
        outer.addWidget(heading)
        self.banner = MessageBanner(self)
        outer.addWidget(self.banner)
        self.body = QVBoxLayout()
        self.body.setSpacing(SPACING)
        outer.addLayout(self.body, 1)

    def activate(self) -> None:
        """Called when the page is shown; pages load or refresh their data here."""

    def shutdown(self) -> None:
        """Called before the window goes away; pages stop their child processes here."""


class StatCard(QFrame):
    """A figure with a caption (e.g. "Cost today  $1.23"), as the overview shows them."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACING, SPACING, SPACING, SPACING)
        layout.setSpacing(4)
        self.caption = QLabel(caption, self)
        self.caption.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.value = QLabel("–", self)
        font = QFont(self.value.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.value.setFont(font)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)

    def set_value(self, text: str) -> None:
        self.value.setText(text)
