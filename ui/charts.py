"""Qt's charts of a :class:`domain.report.Chart`: the dashboard's and the closed loop
window's, in the colours of :mod:`domain.palette` as the PDF and the workbook draw them."""

from __future__ import annotations

import itertools
import math

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QCategoryAxis,
    QChart,
    QChartView,
    QLineSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QLocale, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen

from domain.palette import SERIES
from domain.report import Chart, ChartKind, Unit
from ui.messages import chart_text

#: Numbers on the axes as the figures read (``2,240,000``), whatever this computer's locale.
AXIS_LOCALE = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
#: Room around a category's label, in pixels.
LABEL_ROOM = 10


class FittedChart(QChart):
    """A chart whose category labels stay whole and apart at any width: a line chart
    labels every few points when all would not fit, a bar chart breaks its labels into
    lines between words, or turns them upright when a word alone is too wide."""

    def __init__(self, chart: Chart) -> None:
        super().__init__()
        self.texts = list(chart.categories)
        self.shown = [chart_text(category) for category in chart.categories]
        self.axis_x: QCategoryAxis | QBarCategoryAxis
        if chart.kind is ChartKind.LINE:
            self.axis_x = QCategoryAxis()
            self.axis_x.setLabelsPosition(
                QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue
            )
            self.axis_x.setRange(0, max(1, len(self.texts) - 1))
        else:
            self.axis_x = QBarCategoryAxis()
            self.axis_x.append(self.shown)
            self.axis_x.setTruncateLabels(False)  # they are made to fit instead
        self.step = 0
        self.plotAreaChanged.connect(self.fit_labels)

    def fit_labels(self, area: QRectF) -> None:
        if not self.texts or area.width() <= 0:
            return
        metrics = QFontMetricsF(self.axis_x.labelsFont())
        each = area.width() / len(self.texts)
        if isinstance(self.axis_x, QCategoryAxis):
            widest = max(metrics.horizontalAdvance(text) for text in self.texts) + LABEL_ROOM
            step = max(1, math.ceil(widest / each))
            if step != self.step:
                self.step = step
                for label in self.axis_x.categoriesLabels():
                    self.axis_x.remove(label)
                for at in range(0, len(self.texts), step):
                    self.axis_x.append(self.shown[at], at)
            return
        broken = [_broken(text, each - LABEL_ROOM, metrics) for text in self.texts]
        fits = all(lines is not None for lines in broken)
        labels = [
            "<br>".join(chart_text(line) for line in lines) if lines else shown
            for lines, shown in zip(broken, self.shown, strict=True)
        ]
        for old, new in zip(self.axis_x.categories(), labels, strict=True):
            if old != new:
                self.axis_x.replace(old, new)
        angle = 0 if fits else -90
        if angle != self.axis_x.labelsAngle():
            self.axis_x.setLabelsAngle(angle)


def _broken(text: str, room: float, metrics: QFontMetricsF) -> list[str] | None:
    """``text`` in lines no wider than ``room``, broken between words (at most three); None
    when a word alone is wider or it takes more lines."""
    lines: list[str] = []
    for word in text.split():
        if metrics.horizontalAdvance(word) > room:
            return None
        if lines and metrics.horizontalAdvance(f"{lines[-1]} {word}") <= room:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines if len(lines) <= 3 else None


def qt_chart(chart: Chart) -> QChart:
    """A domain chart drawn with Qt's charts: bars, stacked bars or lines over its
    categories in the palette's colours, references (pace, agreed) dashed, its words as
    typed, its numbers with thousands separators."""
    qchart = FittedChart(chart)
    qchart.setTitle(chart_text(chart.title))
    qchart.setLocale(AXIS_LOCALE)
    qchart.setLocalizeNumbers(True)
    qchart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    axis_x = qchart.axis_x
    axis_y = QValueAxis()
    share = chart.unit is Unit.SHARE
    axis_y.setLabelFormat("%.0f%" if share else "%.0f")  # localized: no "%%"
    scale = 100.0 if share else 1.0
    qchart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
    qchart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
    values = [v * scale for s in chart.series for v in s.values if v is not None]
    axis_y.setRange(min([0.0, *values]), max([1.0, *values]) * 1.1)
    axis_y.applyNiceNumbers()
    colours = itertools.cycle(SERIES)
    if chart.kind is ChartKind.LINE:
        for series in chart.series:
            line = QLineSeries()
            line.setName(chart_text(series.name))
            for x, value in enumerate(series.values):
                if value is not None:
                    line.append(x, value * scale)
            pen = QPen(QColor(next(colours)), 2.5)
            if series.name in chart.references:
                pen.setStyle(Qt.PenStyle.DashLine)
            line.setPen(pen)
            qchart.addSeries(line)
            line.attachAxis(axis_x)
            line.attachAxis(axis_y)
    else:
        bars = QStackedBarSeries() if chart.kind is ChartKind.STACKED_BAR else QBarSeries()
        for series in chart.series:
            bar_set = QBarSet(chart_text(series.name))
            bar_set.append([(v or 0.0) * scale for v in series.values])
            bar_set.setColor(QColor(next(colours)))
            bars.append(bar_set)
        qchart.addSeries(bars)
        bars.attachAxis(axis_x)
        bars.attachAxis(axis_y)
    return qchart


def chart_view(chart: Chart) -> QChartView:
    """:func:`qt_chart` in a view of its own."""
    view = QChartView(qt_chart(chart))
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(220)
    return view
