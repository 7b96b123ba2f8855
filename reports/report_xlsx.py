"""Any report (:class:`domain.report.Report`) as a workbook for the analyst (openpyxl).

- **Summary**: what the report is (title, period, workspace, when, whose), every section's
  figures as an Excel table (value and target as numbers in the figure's format, met /
  close / missed, up or down, what each is made of and the raw sheet it traces to), the
  sections' notes, and the report's first chart.
- A sheet per section with charts: each chart's numbers, and the chart itself as a native
  Excel chart (bars side by side or stacked, lines; the references dashed), in the
  palette the PDF and the dashboard use.
- A sheet per table, and one for the quotes: an Excel table (header style, filter, banded
  rows), numbers, shares and dates with their formats, the header frozen, columns sized to
  their content, printed landscape as wide as the page with the header on every page.
- The raw rows (hand-offs, interactions, stage changes), one sheet each, streamed: the
  workbook is write-only, so memory stays flat however many rows there are.

User text is always a string cell (:func:`reports.tabular.sheet_cell`), never a formula.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Any

from domain import palette
from domain.progress import Cancel, Progress
from domain.report import AHEAD, RAW_ROWS, Chart, ChartKind, Figure, Report, Section, Unit
from domain.tables import ColumnKind, TableColumn, TableData
from domain.values import in_words
from reports.output import writing
from reports.tabular import (
    NUMBER_FORMATS,
    StreamedWorkbook,
    Ticker,
    Written,
    add_table,
    sheet_cell,
    sheet_title,
)

#: How a figure's unit is written in a cell.
UNIT_KINDS = {
    Unit.COUNT: ColumnKind.INTEGER,
    Unit.AMOUNT: ColumnKind.AMOUNT,
    Unit.SHARE: ColumnKind.SHARE,
    Unit.DAYS: ColumnKind.DECIMAL,
    Unit.RATING: ColumnKind.DECIMAL,
}
FIGURE_COLUMNS = ("Section", "Figure", "Value", "Target", "Standing", "Trend", "Made of",
                  "Traced to")  # fmt: skip
_SUMMARY_WIDTHS = (26, 36, 14, 14, 12, 10, 30, 18)
#: The rows a chart takes on its sheet (its numbers beside it) at least, and its size in cm.
CHART_ROWS, CHART_WIDTH, CHART_HEIGHT = 20, 18.0, 9.0
#: Excel's preset dashes for the palette's line dashes, in the same order.
_DASH_NAMES = ("solid", "dash", "sysDot", "dashDot", "sysDash", "lgDash")
_MARKERS = ("circle", "square", "triangle", "diamond", "x")
QUOTE_COLUMNS = (TableColumn("Group"), TableColumn("What was learned"), TableColumn("Rep"),
                 TableColumn("Account"), TableColumn("Date", ColumnKind.DATE))  # fmt: skip


@dataclass(frozen=True)
class _Placed:
    """Where a chart's numbers are: the sheet's title and the row of the chart's title (its
    header row is the next, then a row per category; a column per series after the
    categories')."""

    chart: Chart
    sheet: str
    row: int

    def reference(self, column: int, first: int, last: int) -> str:
        from openpyxl.utils import get_column_letter

        letter = get_column_letter(column)
        quoted = self.sheet.replace("'", "''")
        return f"'{quoted}'!${letter}${first}:${letter}${last}"


def write_report_xlsx(
    report: Report, path: Path, *, progress: Progress | None = None, cancel: Cancel | None = None
) -> Written:
    """Write ``report`` to ``path`` (the file appears only when complete); what it wrote:
    the raw rows, and the cells whose text was cut to what a cell holds."""
    titles = _Titles()
    summary = titles.take("Summary")
    chart_sheets = {id(s): titles.take(s.title) for s in report.sections if s.charts}
    placed = []
    for section in report.sections:
        row = 1
        for chart in section.charts:
            placed.append(_Placed(chart, chart_sheets[id(section)], row))
            row += _rows(chart)
    total = sum(min(t.count or 0, RAW_ROWS) for t in report.raw) or None
    done = 0

    def raw_progress(rows: int, _: int | None) -> None:
        if progress is not None:
            progress(done + rows, total)

    with writing(path) as partial, StreamedWorkbook(path) as book:
        _summary(book, summary, report, placed[:1])
        for section in report.sections:
            if section.charts:
                _chart_sheet(book, [p for p in placed if p.sheet == chart_sheets[id(section)]])
            for table in section.tables:
                book.table_sheet(replace(table, title=titles.take(table.title)), table.rows,
                                 titles.table(table.title))  # fmt: skip
            if section.quotes:
                quotes = _quote_table(section, titles.take(f"{section.title} quotes"))
                book.table_sheet(quotes, quotes.rows, titles.table(quotes.title))
        for table in report.raw:
            rows = iter(table.rows)
            ticked = Ticker(total, raw_progress, cancel).rows(islice(rows, RAW_ROWS))
            named = replace(table, title=titles.take(table.title))
            written = book.table_sheet(named, ticked, titles.table(table.title))
            done += written
            if next(rows, None) is not None:  # more than a sheet here holds: say so below it
                sheet = book.sheets[-1]
                sheet.append([])
                sheet.append([sheet_cell(sheet, _cut_note(table, written), ColumnKind.TEXT)])
        book.save(partial)
    return Written(path, done, tuple(f"{sheet}!{cell}" for sheet, cell, _, _ in book.cut))


class _Titles:
    """Sheet titles and Excel table names, each once in the workbook."""

    def __init__(self) -> None:
        self.sheets: set[str] = set()
        self.tables: set[str] = set()

    def take(self, title: str) -> str:
        base = sheet_title(title)
        name, n = base, 1
        while name.lower() in self.sheets:
            n += 1
            suffix = f" ({n})"
            name = base[: 31 - len(suffix)] + suffix
        self.sheets.add(name.lower())
        return name

    def table(self, title: str) -> str:
        """An Excel table name for ``title``: its ASCII letters and digits (a name must not
        read as a cell, such as ``AB12``), else ``Table N``."""
        name = re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")[:200]
        if not name[:1].isalpha() or re.fullmatch(
            r"[A-Za-z]{1,3}\d+|[RrCc]\d*|[Rr]\d*[Cc]\d*", name
        ):
            name = f"Table{len(self.tables) + 1}"
        base, n = name, 1
        while name.lower() in self.tables:
            n += 1
            name = f"{base}_{n}"
        self.tables.add(name.lower())
        return name


def _summary(book: StreamedWorkbook, title: str, report: Report, charts: list[_Placed]) -> None:
    from openpyxl.styles import Alignment, Font

    about: list[tuple[str, Any, ColumnKind]] = [("Workspace", report.workspace, ColumnKind.TEXT)]
    if report.period is not None:
        about.append(("Period", report.period.label, ColumnKind.TEXT))
    if report.rep:
        about.append(("Figures of", report.rep, ColumnKind.TEXT))
    if report.people:
        about.append(("People", in_words(list(report.people)), ColumnKind.TEXT))
    about.append(("Made (UTC)", report.made_at, ColumnKind.DATETIME))
    header = len(about) + 3
    sheet = book.sheet(title, _SUMMARY_WIDTHS, freeze=f"A{header + 1}", printed_wide=True)
    sheet.print_title_rows = f"{header}:{header}"
    heading = sheet_cell(sheet, report.title, ColumnKind.TEXT)
    heading.font = Font(bold=True, size=14)
    sheet.append([heading])
    for label, value, kind in about:
        sheet.append([_bold(sheet, label), sheet_cell(sheet, value, kind)])
    sheet.append([])
    sheet.append([_bold(sheet, label) for label in FIGURE_COLUMNS])
    figures = [(s, f) for s in report.sections for f in s.figures]
    wrapped = Alignment(wrap_text=True, vertical="top")
    for section, figure in figures:
        cells = _figure_cells(sheet, section, figure)
        for cell in cells:
            cell.alignment = wrapped
        sheet.append(cells)
    if figures:
        add_table(sheet, "Figures", f"A{header}:H{header + len(figures)}", FIGURE_COLUMNS)
    else:
        sheet.append([sheet_cell(sheet, "This report has no figures.", ColumnKind.TEXT)])
    notes = [(s.title, n) for s in report.sections for n in s.notes]
    notes += [("Raw rows", _cut_note(t, RAW_ROWS)) for t in report.raw if (t.count or 0) > RAW_ROWS]
    if notes:
        sheet.append([])
        sheet.append([_bold(sheet, "Notes")])
        for section_title, note in notes:
            sheet.append([sheet_cell(sheet, section_title, ColumnKind.TEXT),
                          sheet_cell(sheet, note, ColumnKind.TEXT)])  # fmt: skip
    for each in charts:
        sheet.add_chart(_native(each), "J2")


def _bold(sheet: Any, label: str) -> Any:
    from openpyxl.styles import Font

    cell = sheet_cell(sheet, label, ColumnKind.TEXT)
    cell.font = Font(bold=True)
    return cell


def _figure_cells(sheet: Any, section: Section, figure: Figure) -> list[Any]:
    """A figure's row: the value and target as numbers in its unit's format ("no data"
    when the period has none), the standing with its mark in its colour."""
    from openpyxl.styles import Font

    kind = UNIT_KINDS[figure.unit]
    value = figure.value if figure.value is not None else "no data"
    standing = sheet_cell(sheet, None, ColumnKind.TEXT)
    if figure.standing is not None:
        colour, mark = palette.STANDING[figure.standing]
        standing = sheet_cell(sheet, f"{mark} {figure.standing.value}", ColumnKind.TEXT)
        standing.font = Font(bold=True, color=colour.lstrip("#"))
    trend = figure.trend.value if figure.trend is not None else None
    number = sheet_cell(sheet, value, kind)
    if figure.shortfall and figure.value is not None:  # a number still, read as a sentence
        shown = NUMBER_FORMATS[kind]
        number.number_format = f'{shown};"{AHEAD} "{shown}'
    return [
        sheet_cell(sheet, section.title, ColumnKind.TEXT),
        sheet_cell(sheet, figure.label, ColumnKind.TEXT),
        number,
        sheet_cell(sheet, figure.target, kind),
        standing,
        sheet_cell(sheet, trend, ColumnKind.TEXT),
        sheet_cell(sheet, figure.basis or None, ColumnKind.TEXT),
        sheet_cell(sheet, figure.rows or None, ColumnKind.TEXT),
    ]


def _chart_sheet(book: StreamedWorkbook, charts: Sequence[_Placed]) -> None:
    """Each chart's numbers (categories down, a column per series), the chart beside."""
    from openpyxl.utils import get_column_letter

    widest = max(len(p.chart.series) for p in charts)
    widths = [max((len(c) for p in charts for c in p.chart.categories), default=8) + 4]
    widths += [16] * widest
    sheet = book.sheet(charts[0].sheet, widths)
    for each in charts:
        chart = each.chart
        kind = UNIT_KINDS[chart.unit]
        sheet.append([_bold(sheet, chart.title)])  # the header row is the next one
        sheet.append([None] + [_bold(sheet, s.name) for s in chart.series])
        for index, category in enumerate(chart.categories):
            values = [sheet_cell(sheet, s.values[index], kind) for s in chart.series]
            sheet.append([sheet_cell(sheet, category, ColumnKind.TEXT), *values])
        for _ in range(_rows(chart) - len(chart.categories) - 2):
            sheet.append([])
        sheet.add_chart(_native(each), f"{get_column_letter(widest + 3)}{each.row}")


def _rows(chart: Chart) -> int:
    """The rows a chart's block takes: its title, header and categories, at least as many
    as the chart is tall, and one empty."""
    return max(CHART_ROWS, len(chart.categories) + 3)


def _native(placed: _Placed) -> Any:
    """A chart in Excel's own kind: it reads its numbers from its sheet, so an analyst
    sees where each bar comes from."""
    from openpyxl.chart import BarChart, LineChart, Reference, Series

    chart = placed.chart
    header, first = placed.row + 1, placed.row + 2
    last = placed.row + 1 + len(chart.categories)
    data = [(n, s) for n, s in enumerate(chart.series, 2) if s.name not in chart.references]
    references = [(n, s) for n, s in enumerate(chart.series, 2) if s.name in chart.references]

    def series(column: int) -> Any:
        values = Reference(range_string=placed.reference(column, header, last))
        return Series(values, title_from_data=True)

    lines = LineChart()
    if chart.kind is ChartKind.LINE:
        main = lines
        for index, (column, _) in enumerate(data):
            line = series(column)
            colour = palette.series_colour(index).lstrip("#")
            line.graphicalProperties.line.solidFill = colour
            line.graphicalProperties.line.dashStyle = _DASH_NAMES[index % len(_DASH_NAMES)]
            line.graphicalProperties.line.width = 22000  # EMU: 1.75 pt
            line.marker.symbol = _MARKERS[index % len(_MARKERS)]
            line.marker.graphicalProperties.solidFill = colour
            line.smooth = False
            lines.series.append(line)
    else:
        main = BarChart()
        main.type = "col"
        if chart.kind is ChartKind.STACKED_BAR:
            main.grouping, main.overlap = "stacked", 100
        for index, (column, _) in enumerate(data):
            bar = series(column)
            bar.graphicalProperties.solidFill = palette.series_colour(index).lstrip("#")
            main.series.append(bar)
    for column, _ in references:
        line = series(column)
        line.graphicalProperties.line.solidFill = palette.REFERENCE.lstrip("#")
        line.graphicalProperties.line.dashStyle = "dash"
        line.marker.symbol = "none"
        line.smooth = False
        lines.series.append(line)
    if main is not lines and lines.series:
        main += lines
    main.set_categories(Reference(range_string=placed.reference(1, first, last)))
    main.title = chart.title
    main.width, main.height = CHART_WIDTH, CHART_HEIGHT
    main.legend.position = "b"
    main.x_axis.delete = main.y_axis.delete = False  # openpyxl 3.1 hides the axes otherwise
    main.y_axis.numFmt = NUMBER_FORMATS[UNIT_KINDS[chart.unit]]
    return main


def _cut_note(table: TableData, written: int) -> str:
    """What a raw sheet cut to :data:`RAW_ROWS` rows says."""
    of = f"{table.count:,}" if table.count is not None else "more"
    return (
        f"The sheet '{table.title}' holds the first {written:,} of {of} rows: a workbook "
        f"written in seconds holds no more. Export {table.title.lower()} to CSV for every row."
    )


def _quote_table(section: Section, title: str) -> TableData:
    rows: Iterable[Sequence[Any]] = [(q.group or None, q.text, q.rep, q.account, q.at)
                                     for q in section.quotes]  # fmt: skip
    return TableData(title, QUOTE_COLUMNS, rows, len(section.quotes))
