"""Any report (:class:`domain.report.Report`) as a PDF to print and hand round (ReportLab).

A title page; then each section: its figures as cards (value, what it is made of, the
target with met/close/missed, up or down on the previous period, "no data" when the period
has none), its charts drawn as vectors (reportlab.graphics) readable in black and white
(the palette's greys, dashes and markers, values written on the bars), its tables split
across pages with the header row repeated, quotes, notes and ruled lines to write on. Each
page has the date, the workspace and "page N of M" at its foot (the dossier PDF's pages).
User text is escaped and set in a font that has its script (:func:`reports.dossier_pdf.text`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4 as PAGE
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    HRFlowable,
    KeepTogether,
    PageBreak,
    Spacer,
    Table,
    TableStyle,
)

from domain import palette
from domain.progress import Cancel, Progress
from domain.report import (
    Chart,
    ChartKind,
    Figure,
    Quote,
    Report,
    ReportKind,
    Section,
    Unit,
    shown,
    shown_value,
)
from domain.tables import ColumnKind, TableData, shown_cell
from domain.values import counted, in_words, shown_time
from reports.output import check_output, writing
from reports.pdf_kit import (
    BOLD,
    FALLBACK,
    HANGUL,
    INK,
    MUTED,
    RULE,
    SANS,
    Document,
    PdfCancelled,
    PdfParagraph,
    Styles,
    font_for,
    load_fonts,
    styled_table,
    text,
    text_style,
)

#: The text width of a page (A4 less the dossier PDF's margins).
WIDTH = PAGE[0] - 36 * mm
#: Figure cards a row.
CARDS = 4
CHART_HEIGHT = 62 * mm
#: The most bars a chart writes its values on: more would write over each other.
LABELLED_BARS = 24
#: The longest category name a chart prints whole.
CATEGORY_CHARS = 16


class _S:
    """The report's own paragraph styles, beside the dossier PDF's."""

    section = text_style("section", fontName=BOLD, fontSize=16, leading=20, spaceAfter=6)
    card_label = text_style("cardlabel", fontSize=8, leading=10, textColor=MUTED)
    card_value = text_style("cardvalue", fontName=BOLD, fontSize=17, leading=21)
    card_none = text_style("cardnone", fontSize=12, leading=21, textColor=MUTED)
    card_line = text_style("cardline", fontSize=7.5, leading=9.5)
    chart_title = text_style("charttitle", fontName=BOLD, fontSize=9.5, leading=12, spaceBefore=6)
    note = text_style("note", textColor=MUTED, spaceAfter=4)
    quote = text_style("reportquote", leftIndent=10, spaceAfter=1)
    said = text_style("said", fontSize=7.5, leading=9.5, textColor=MUTED, leftIndent=10,
                  spaceAfter=5)  # fmt: skip


def write_report_pdf(
    report: Report, path: Path, *, progress: Progress | None = None, cancel: Cancel | None = None
) -> None:
    """Write ``report`` to ``path``; the file appears only when complete."""
    check_output(path)
    load_fonts()
    made = shown_time(report.made_at, "%Y-%m-%d")
    footer = " · ".join(part for part in ("Accord", report.workspace, made) if part)
    story = _cover(report, made)
    steps = len(report.sections) + 1
    for done, section in enumerate(report.sections, 1):
        if cancel is not None and cancel():
            raise PdfCancelled
        story += [PageBreak()] if section.new_page else [Spacer(1, 8)]
        story += _section(section)
        if progress is not None:
            progress(done, steps)
    title = report.title if report.period is None else f"{report.title}, {report.period.label}"
    with writing(path) as partial:
        Document(partial, footer, title, None).build(story)
    if progress is not None:
        progress(steps, steps)


def _cover(report: Report, made: str) -> list[Flowable]:
    s = Styles
    lines = [report.workspace]
    if report.period is not None:
        lines.append(report.period.label)
    if report.rep:
        lines.append(f"Figures of {report.rep}")
    if report.people:
        who = "Signed by" if report.kind is ReportKind.PLAN else "Goal owners:"
        lines.append(f"{who} {in_words(list(report.people))}")
    lines.append(f"Made on {made}")
    story: list[Flowable] = [Spacer(1, 60 * mm)]
    story += [PdfParagraph(text(report.title, BOLD), s.cover_title), Spacer(1, 10)]
    story += [PdfParagraph(text(line), s.cover_line) for line in lines]
    if not report.sections:
        story += [Spacer(1, 12), PdfParagraph("This report has nothing to show.", s.cover_line)]
    return story


def _section(section: Section) -> list[Flowable]:
    story: list[Flowable] = [PdfParagraph(text(section.title, BOLD), _S.section)]
    story += [PdfParagraph(text(note), _S.note) for note in section.notes]
    if section.figures:
        story.append(_cards(section.figures))
    for chart in section.charts:
        story.append(KeepTogether([PdfParagraph(text(chart.title, BOLD), _S.chart_title),
                                   _drawing(chart)]))  # fmt: skip
    for table in section.tables:
        story += _table_flowables(table)
    story += _quotes(section.quotes)
    for _ in range(section.lines):
        story += [Spacer(1, 9 * mm), HRFlowable(width="100%", thickness=0.6, color=MUTED)]
    return story


# Figures


def _cards(figures: Sequence[Figure]) -> Table:
    """The figures as cards, :data:`CARDS` a row."""
    width = WIDTH / CARDS
    cells = [_card(f) for f in figures]
    cells += [[]] * (-len(cells) % CARDS)
    rows = [cells[i : i + CARDS] for i in range(0, len(cells), CARDS)]
    table = Table(rows, colWidths=[width] * CARDS)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
        ("LINEABOVE", (0, 0), (-1, -1), 1.2, INK),
        ("LINEBELOW", (0, -1), (-1, -1), 0.4, RULE),
    ]))  # fmt: skip
    return table


def _value_style(value: str) -> ParagraphStyle:
    """The value's style, its size cut until it fits its card on one line (a figure that
    breaks in two reads as two)."""
    style = _S.card_value
    room = WIDTH / CARDS - 2 * 6
    size = min(style.fontSize, style.fontSize * room / stringWidth(value, BOLD, style.fontSize))
    if size >= style.fontSize:
        return style
    return ParagraphStyle(f"cardvalue{size:.1f}", parent=style, fontSize=size,
                          leading=style.leading)  # fmt: skip


def _card(figure: Figure) -> list[Flowable]:
    """A figure: its label, its value large, then target and standing, trend and basis."""
    card: list[Flowable] = [PdfParagraph(text(figure.label), _S.card_label)]
    if figure.value is None:
        card.append(PdfParagraph("no data", _S.card_none))
    else:
        value = shown_value(figure)
        card.append(PdfParagraph(text(value, BOLD), _value_style(value)))
    if figure.target is not None:
        against = f"Target {text(shown(figure.target, figure.unit))}"
        if figure.standing is not None:
            colour, mark = palette.STANDING[figure.standing]
            against += f' · <font color="{colour}">{mark} {figure.standing.value}</font>'
        card.append(PdfParagraph(against, _S.card_line))
    if figure.trend is not None:
        mark = palette.TREND_MARKS[figure.trend.value]
        said = "same as" if figure.trend.value == "same" else f"{figure.trend.value} on"
        card.append(PdfParagraph(f"{mark} {said} the previous period", _S.card_line))
    if figure.basis:
        card.append(PdfParagraph(text(figure.basis), _S.card_line))
    return card


# Charts


def _drawing(chart: Chart) -> Drawing:
    """``chart`` as a vector drawing: bars (side by side or stacked) or lines, the
    references (pace, agreed) dashed over them, a legend below."""
    drawing = Drawing(WIDTH, CHART_HEIGHT)
    data = [s for s in chart.series if s.name not in chart.references]
    references = [s for s in chart.series if s.name in chart.references]
    bottom = 16 + 12 * _legend_rows(chart)
    angle = 30 if len(chart.categories) > 8 else 0
    plot = {"x": 44, "y": bottom + (22 if angle else 12), "width": WIDTH - 54}
    plot["height"] = CHART_HEIGHT - plot["y"] - 8
    top = _top(chart)
    empty = not any(v is not None for s in chart.series for v in s.values)
    if chart.kind is ChartKind.LINE and not empty:
        line_series, bars = data + references, None
    else:  # bars; or a line chart without a value, whose axes an empty bar chart draws
        line_series = references
        bars = VerticalBarChart()
        _place(bars, plot, chart, top, angle, [s.values for s in data])
        stacked = chart.kind is ChartKind.STACKED_BAR
        if stacked:
            bars.categoryAxis.style = "stacked"
        bars.barSpacing = 0 if stacked else 1
        bars.groupSpacing = 6
        for index, _ in enumerate(data):
            bars.bars[index].fillColor = colors.HexColor(palette.series_colour(index))
            bars.bars[index].strokeColor = colors.white
            bars.bars[index].strokeWidth = 0.4
        if len(chart.categories) * max(len(data), 1) <= LABELLED_BARS:
            label = _label(chart.unit)
            # a stack's empty part has no bar to write 0 on
            bars.barLabelFormat = (lambda v: label(v) if v else "") if stacked else label
            bars.barLabels.fontName, bars.barLabels.fontSize = SANS, 6
            bars.barLabels.boxTarget = "mid" if stacked else "hi"
            bars.barLabels.nudge = 0 if stacked else 5
        drawing.add(bars)
    # a line without a single value is not drawn (ReportLab cannot), its colour kept
    drawn = [(i, s) for i, s in enumerate(line_series) if any(v is not None for v in s.values)]
    if drawn:
        lines = HorizontalLineChart()
        _place(lines, plot, chart, top, angle, [s.values for _, s in drawn])
        if bars is not None:  # drawn over the bars: their axes and grid are the bars'
            lines.valueAxis.visible = lines.categoryAxis.visible = False
            lines.valueAxis.visibleGrid = False
        for line, (index, series) in enumerate(drawn):
            style = lines.lines[line]
            if series.name in chart.references:
                style.strokeColor = colors.HexColor(palette.REFERENCE)
                style.strokeDashArray = list(palette.REFERENCE_DASH)
                style.strokeWidth = 1.2
            else:
                style.strokeColor = colors.HexColor(palette.series_colour(index))
                style.strokeDashArray = list(palette.series_dash(index)) or None
                style.strokeWidth = 1.6
                style.symbol = makeMarker(_MARKERS[index % len(_MARKERS)], size=4)
                style.symbol.fillColor = style.strokeColor
        drawing.add(lines)
    _legend(drawing, chart, data, references)
    if empty:
        drawing.add(String(plot["x"] + plot["width"] / 2, plot["y"] + plot["height"] / 2,
                           "No data in this period", fontName=SANS, fontSize=9,
                           fillColor=MUTED, textAnchor="middle"))  # fmt: skip
    return drawing


_MARKERS = ("FilledCircle", "FilledSquare", "FilledTriangle", "FilledDiamond", "Cross")


def _top(chart: Chart) -> float:
    """The top of the value axis: the highest value (of a stack, when stacked)."""
    data = [s for s in chart.series if s.name not in chart.references]
    values = [v or 0 for s in chart.series for v in s.values]
    if chart.kind is ChartKind.STACKED_BAR and data:
        stacks = [sum(s.values[i] or 0 for s in data) for i in range(len(chart.categories))]
        values += stacks
    top = max(values, default=0)
    return top * 1.12 if top > 0 else 1


def _place(chart: Any, plot: dict[str, float], spec: Chart, top: float, angle: int,
           data: list[tuple[float | None, ...]]) -> None:  # fmt: skip
    """Lay a bar or line chart on ``plot`` with the same axes, so that lines drawn over
    bars meet their categories."""
    chart.x, chart.y, chart.width, chart.height = (plot[k] for k in ("x", "y", "width", "height"))
    chart.data = data or [tuple(None for _ in spec.categories)]
    axis = chart.valueAxis
    axis.valueMin, axis.valueMax = 0, top
    axis.labels.fontName, axis.labels.fontSize = SANS, 7
    axis.labelTextFormat = _label(spec.unit)
    axis.visibleGrid, axis.gridStrokeColor, axis.gridStrokeWidth = True, RULE, 0.4
    axis.strokeColor = MUTED
    categories = chart.categoryAxis
    categories.categoryNames = [_short(c) for c in spec.categories]
    categories.labels.fontSize = 7
    categories.labels.fillColor = INK
    categories.strokeColor = MUTED
    if angle:
        categories.labels.angle, categories.labels.boxAnchor = angle, "ne"
        categories.labels.dx, categories.labels.dy = 4, -2
    # a category's name is user text (an industry, a rep): each in a font that has its script
    categories.labels.fontName = SANS
    for index, name in enumerate(spec.categories):
        if (font := _string_font(name)) != SANS:
            categories.labels[index].fontName = font


def _short(name: str) -> str:
    return name if len(name) <= CATEGORY_CHARS else name[: CATEGORY_CHARS - 1] + "…"


def _string_font(value: str) -> str:
    """A font that draws all of ``value`` (a chart's text has one font): the main one
    where it can, else Korean's or the CJK fallback."""
    fonts = {font_for(ch, SANS) for ch in value}
    if fonts <= {SANS}:
        return SANS
    return HANGUL if HANGUL in fonts else FALLBACK


def _label(unit: Unit) -> Callable[[float], str]:
    """An axis's or a bar's number: the figure's, without its words (days, of 5)."""

    def label(value: float) -> str:
        return shown(value, unit).removesuffix(" days").removesuffix(" of 5")

    return label


def _legend_rows(chart: Chart) -> int:
    return (len(chart.series) + 2) // 3


def _legend(drawing: Drawing, chart: Chart, data: list[Any], references: list[Any]) -> None:
    """A swatch (a bar's colour, or a line's colour and dash) and the name of each
    series, three a row under the chart: the chart reads without colour."""
    column = WIDTH / 3
    entries = [(s, i, False) for i, s in enumerate(data)] + [(s, 0, True) for s in references]
    for n, (series, index, reference) in enumerate(entries):
        x, y = 44 + (n % 3) * column, 4 + 12 * (_legend_rows(chart) - 1 - n // 3)
        if reference:
            drawing.add(
                Line(
                    x,
                    y + 3,
                    x + 18,
                    y + 3,
                    strokeColor=colors.HexColor(palette.REFERENCE),
                    strokeWidth=1.2,
                    strokeDashArray=list(palette.REFERENCE_DASH),
                )
            )
        elif chart.kind is ChartKind.LINE:
            drawing.add(
                Line(
                    x,
                    y + 3,
                    x + 18,
                    y + 3,
                    strokeWidth=1.6,
                    strokeColor=colors.HexColor(palette.series_colour(index)),
                    strokeDashArray=list(palette.series_dash(index)) or None,
                )
            )
        else:
            drawing.add(
                Rect(
                    x + 4,
                    y,
                    10,
                    7,
                    strokeColor=None,
                    fillColor=colors.HexColor(palette.series_colour(index)),
                )
            )
        name = _short(series.name) if len(series.name) > 40 else series.name
        drawing.add(String(x + 22, y, name, fontName=_string_font(name), fontSize=7.5,
                           fillColor=INK))  # fmt: skip


# Tables


#: A table prints at most this many rows: the PDF is a handout for the meeting, and a big
#: workspace's black hole holds tens of thousands of hand-offs, which the workbook lists.
PRINTED_ROWS = 200


def _table_flowables(table: TableData) -> list[Flowable]:
    """A table under its title, as wide as the page, split across pages with its header
    repeated; an empty one says so, a longer one than :data:`PRINTED_ROWS` how many more
    the workbook lists."""
    kinds = [c.kind for c in table.columns]
    given = iter(table.rows)
    rows = [[shown_cell(v, k) for v, k in zip(row, kinds, strict=True)]
            for row in islice(given, PRINTED_ROWS)]  # fmt: skip
    more = sum(1 for _ in given)
    padding = _CELL_PADDING
    widths = _widths(table, rows, padding)
    if sum(widths) > WIDTH + 0.5 or _squeezed(table, rows, widths, padding):
        padding = _NARROW_PADDING  # many columns: closer together rather than words cut
        widths = _widths(table, rows, padding)
    header = [text(c.label, BOLD) for c in table.columns]
    printed = styled_table([header, *([text(v) for v in row] for row in rows)], widths)
    if padding != _CELL_PADDING:
        printed.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), padding),
                                     ("RIGHTPADDING", (0, 0), (-1, -1), padding)]))  # fmt: skip
    numbers = [i for i, k in enumerate(kinds) if k not in _TEXT]
    printed.setStyle(TableStyle([("ALIGN", (i, 0), (i, -1), "RIGHT") for i in numbers]))
    title = PdfParagraph(text(table.title, BOLD), Styles.heading)
    story: list[Flowable] = [CondPageBreak(30 * mm), title, printed]
    if not rows:
        story.append(PdfParagraph("None in this period.", _S.note))
    if more:
        said = (f"The first {counted(len(rows), 'row')} of {len(rows) + more:,} are printed; "
                "the report's workbook (XLSX) lists every one.")  # fmt: skip
        story.append(PdfParagraph(text(said), _S.note))
    return story


_TEXT = (ColumnKind.TEXT, ColumnKind.CSV_CELL)


_CELL_PADDING, _NARROW_PADDING = 6, 2


def _squeezed(table: TableData, rows: list[list[str]], widths: list[float], padding: int) -> bool:
    """Whether a column came out narrower than it needs (its heading's longest word, a
    number): the page was too narrow for the table at that padding."""
    needed = _widths(table, rows, padding, least_only=True)
    return any(w < n - 0.5 for w, n in zip(widths, needed, strict=True))


def _widths(
    table: TableData, rows: list[list[str]], padding: int, least_only: bool = False
) -> list[float]:
    """Each column as wide as its longest cell (a text's of the first hundred rows), at least as
    wide as its heading's longest word and a text's longest word (up to a third of the page,
    for a web address); when that is wider than the page, the text columns share what the
    others leave (their text wraps between words), never a number or a date."""
    cell, pad = Styles.cell, 2 * padding + 2

    def width(value: str, font: str = cell.fontName) -> float:
        return float(stringWidth(value, font, cell.fontSize)) + pad

    def longest_word(values: Iterable[str], font: str = cell.fontName) -> float:
        return max((width(word, font) for value in values for word in value.split()), default=pad)

    natural, least = [], []
    for i, column in enumerate(table.columns):
        sample = rows[:100] if column.kind in _TEXT else rows  # a number never wraps
        values = max((width(row[i]) for row in sample), default=pad)
        heading = longest_word([column.label], BOLD)
        natural.append(max(values, width(column.label, BOLD)))
        if column.kind in _TEXT:
            words = min(longest_word(row[i] for row in sample), WIDTH / 3)
            least.append(max(heading, words))
        else:
            least.append(max(heading, values))
    if least_only:
        return least
    total = sum(natural)
    if total <= WIDTH:
        return [w * WIDTH / total for w in natural]
    wraps = [c.kind in _TEXT for c in table.columns]
    fixed = sum(m for m, wrap in zip(least, wraps, strict=True) if not wrap)
    flexible = sum(w for w, wrap in zip(natural, wraps, strict=True) if wrap) or 1
    left = max(WIDTH - fixed, 0)
    shrunk = [max(w * left / flexible, m) if wrap else m
              for w, m, wrap in zip(natural, least, wraps, strict=True)]  # fmt: skip
    scale = min(1.0, WIDTH / sum(shrunk))  # all numbers, and still too wide: all give
    return [w * scale for w in shrunk]


# Quotes


def _quotes(quotes: Iterable[Quote]) -> list[Flowable]:
    """What reps learned, under each group's heading in the order given: the words, then
    who, which account and when."""
    story: list[Flowable] = []
    group: str | None = None
    for quote in quotes:
        if quote.group != group:
            group = quote.group
            if group:
                story.append(PdfParagraph(text(group, BOLD), Styles.minor_heading))
        story.append(KeepTogether([
            PdfParagraph(f"“{text(quote.text)}”", _S.quote),
            PdfParagraph(f"{text(quote.rep)} · {text(quote.account)} · {quote.at.isoformat()}",
                       _S.said),
        ]))  # fmt: skip
    return story
