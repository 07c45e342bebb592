"""A stacked bar chart drawn with QPainter (no QtCharts): one bar per category, one colour per series."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from grok_mcp_desktop.widgets.formatting import compact

# Mid-saturation hues that stay readable on light and dark backgrounds.
SERIES_COLORS = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


@dataclass(frozen=True)
class BarSegment:
    """One drawn piece of a stacked bar: its category, series, value and rectangle in widget pixels."""

    category: str
    series: str
    value: float
    rect: QRectF


def stacked_segments(
    categories: Sequence[str], series: Mapping[str, Sequence[float]], plot: QRectF, *, gap: float = 0.25
) -> tuple[list[BarSegment], float]:
    """Lay out stacked bars in `plot`; returns the segments and the value the top of the plot stands for."""
    if not categories:
        return [], 0.0
    totals = [sum(values[i] for values in series.values()) for i in range(len(categories))]
    top = max(totals, default=0.0) or 1.0
    slot = plot.width() / len(categories)
    width = max(slot * (1 - gap), 1.0)
    segments: list[BarSegment] = []
    for index, category in enumerate(categories):
        x = plot.left() + index * slot + (slot - width) / 2
        bottom = plot.bottom()
        for name, values in series.items():
            value = values[index]
            if value <= 0:
                continue
            height = plot.height() * value / top
            rect = QRectF(x, bottom - height, width, height)
            segments.append(BarSegment(category, name, value, rect))
            bottom -= height
    return segments, top


class StackedBarChart(QWidget):
    """Bars per category (days), stacked by series (models), with a value axis and a legend."""

    def __init__(self, title: str, *, value_format: Callable[[float], str] = compact, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self._format = value_format
        self._categories: list[str] = []
        self._series: dict[str, list[float]] = {}
        self.segments: list[BarSegment] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(180)
        self.setAccessibleName(title)

    def sizeHint(self) -> QSize:
        return QSize(480, 240)

    def set_data(self, categories: Sequence[str], series: Mapping[str, Sequence[float]]) -> None:
        """Show new data: `series` maps a name to one value per category."""
        self._categories = list(categories)
        self._series = {name: list(values) for name, values in series.items()}
        self.setToolTip(
            "\n".join(f"{name}: {self._format(sum(values))}" for name, values in self._series.items()) or self.title
        )
        self.update()

    def color_of(self, series_name: str) -> QColor:
        names = list(self._series)
        index = names.index(series_name) if series_name in names else 0
        return QColor(SERIES_COLORS[index % len(SERIES_COLORS)])

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        metrics = QFontMetricsF(self.font())
        line = metrics.height()
        bounds = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        painter.setPen(text)
        painter.drawText(QRectF(bounds.left(), bounds.top(), bounds.width(), line), self.title)
        self._paint_legend(painter, text, metrics, bounds)
        axis_width = metrics.horizontalAdvance("00.0k$") + 6
        plot = QRectF(
            bounds.left() + axis_width,
            bounds.top() + line * 1.5,
            bounds.width() - axis_width,
            bounds.height() - line * 4,
        )
        if plot.height() < 10 or not self._categories:
            painter.setPen(text)
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "No usage in this period")
            painter.end()
            return
        self.segments, top = stacked_segments(self._categories, self._series, plot)
        labels = QRectF(bounds.left(), plot.top(), axis_width, plot.height())
        self._paint_value_axis(painter, text, plot, labels, top)
        for segment in self.segments:
            painter.fillRect(segment.rect, self.color_of(segment.series))
        self._paint_category_labels(painter, text, metrics, plot)
        painter.end()

    def _paint_legend(self, painter: QPainter, text: QColor, metrics: QFontMetricsF, bounds: QRectF) -> None:
        """A colour swatch and the name of each series, along the bottom edge."""
        line = metrics.height()
        legend_top = bounds.bottom() - line
        x = bounds.left()
        for name in self._series:
            painter.fillRect(QRectF(x, legend_top + line * 0.2, line * 0.6, line * 0.6), self.color_of(name))
            x += line * 0.8
            painter.setPen(text)
            painter.drawText(QPointF(x, legend_top + metrics.ascent()), name)
            x += metrics.horizontalAdvance(name) + line

    def _paint_value_axis(self, painter: QPainter, text: QColor, plot: QRectF, labels: QRectF, top: float) -> None:
        """Five grid lines across the plot, from 0 to `top`, each labelled with its value in the `labels` column."""
        grid = QColor(text)
        grid.setAlpha(40)
        line = QFontMetricsF(self.font()).height()
        for step in range(5):
            y = plot.bottom() - plot.height() * step / 4
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(text)
            painter.drawText(
                QRectF(labels.left(), y - line / 2, labels.width() - 6, line),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                self._format(top * step / 4),
            )

    def _paint_category_labels(self, painter: QPainter, text: QColor, metrics: QFontMetricsF, plot: QRectF) -> None:
        """As many category labels under the bars as fit without overlapping (first, last and evenly between)."""
        label_width = max(metrics.horizontalAdvance(c) for c in self._categories) + 8
        every = max(1, int(len(self._categories) * label_width / max(plot.width(), 1)) + 1)
        slot = plot.width() / len(self._categories)
        painter.setPen(text)
        for index, category in enumerate(self._categories):
            if index % every and index != len(self._categories) - 1:
                continue
            center = plot.left() + slot * (index + 0.5)
            painter.drawText(
                QRectF(center - label_width / 2, plot.bottom() + 2, label_width, metrics.height()),
                int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
                category,
            )
