"""The colours and dashes of every chart: the PDF's, the workbook's and the dashboard's
(one palette, so a series looks the same wherever it is shown). Hex colours, so that
ReportLab, openpyxl and Qt each read them.

The series' colours are told apart in black and white too: their greys run from dark to
light, in the order a chart gives its series, and a line chart dashes each series its own
way. A reference (the pace, the agreed number) is drawn in :data:`REFERENCE`, dashed.
"""

from __future__ import annotations

from domain.agreement import Standing

#: One colour per series, in order: dark blue, orange, light blue, dark grey, gold, green
#: (greys of 29 %, 58 %, 65 %, 36 %, 62 %, 71 % lightness: neighbours differ).
SERIES = ("#1f4e79", "#e07b39", "#8fb3d9", "#4d4d4d", "#d4a72c", "#a5c882")
#: A reference series: the pace line, the agreed number.
REFERENCE = "#222222"
#: Dash patterns (on, off, in points) for each series of a line chart; () is solid.
DASHES: tuple[tuple[int, ...], ...] = ((), (6, 3), (2, 2), (8, 3, 2, 3), (1, 3), (10, 4))
#: The reference's dash.
REFERENCE_DASH = (4, 4)
#: Met, close and missed, each with a mark that says it without colour.
STANDING = {
    Standing.MET: ("#2e7d32", "✓"),
    Standing.CLOSE: ("#b7791f", "≈"),
    Standing.MISSED: ("#c62828", "✗"),
}
#: Up and down against the previous period.
TREND_MARKS = {"up": "▲", "down": "▼", "same": "="}
#: Text, muted text and the rules between rows.
INK, MUTED, RULE = "#1f2933", "#5f6b7a", "#d5dbe3"
#: A table's header row.
HEADER = "#eef2f6"


def series_colour(index: int) -> str:
    """The colour of a chart's ``index``-th data series."""
    return SERIES[index % len(SERIES)]


def series_dash(index: int) -> tuple[int, ...]:
    """The dash of a line chart's ``index``-th data series."""
    return DASHES[index % len(DASHES)]
