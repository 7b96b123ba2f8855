"""Qt's charts of a :class:`domain.report.Chart`: the dashboard's and the closed loop
window's, in the colours of :mod:`domain.palette` as the PDF and the workbook draw them."""

from __future__ import annotations

import itertools

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QLineSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPen

from domain.palette import SERIES
from domain.report import Chart, ChartKind
from ui.messages import chart_text


def qt_chart(chart: Chart) -> QChart:
    """A domain chart drawn with Qt's charts: bars, stacked bars or lines over its
    categories in the palette's colours, references (pace, agreed) dashed, its words as
    typed."""
    qchart = QChart()
    qchart.setTitle(chart_text(chart.title))
    qchart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    axis_x = QBarCategoryAxis()
    axis_x.append([chart_text(category) for category in chart.categories])
    axis_y = QValueAxis()
    axis_y.setLabelFormat("%.0f%%" if chart.unit.value == "share" else "%.0f")
    scale = 100.0 if chart.unit.value == "share" else 1.0
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
