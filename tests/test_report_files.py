"""The goal, SLA, closed-loop and meeting reports as files: the PDF read back with pypdf,
the workbook with openpyxl, on reports made by hand (the read models are tested apart)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader

from domain.agreement import Standing
from domain.periods import Period
from domain.report import (
    Chart,
    ChartKind,
    Figure,
    Quote,
    Report,
    ReportKind,
    Section,
    Series,
    Trend,
    Unit,
    shown,
)
from domain.tables import ColumnKind, TableColumn, TableData
from reports import report_pdf, report_xlsx
from reports.output import CannotWrite
from reports.report_file import NotAReportFile, write_report
from reports.report_pdf import write_report_pdf
from reports.report_xlsx import UNIT_KINDS, write_report_xlsx
from reports.tabular import NUMBER_FORMATS, ExportCancelled

HOSTILE = '=cmd|" /C calc"!A0 <b>bold</b> & 東京 서울'
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun")
BLACK_HOLE = [TableColumn("Account"), TableColumn("Rep"),
              TableColumn("Handed off", ColumnKind.DATE),
              TableColumn("Business days overdue", ColumnKind.INTEGER),
              TableColumn("Accepted", ColumnKind.SHARE),
              TableColumn("Deal value", ColumnKind.AMOUNT)]  # fmt: skip


def _report(rows: int = 150, raw_rows: int = 50) -> Report:
    goal = Section("The goal", figures=[
        Figure("New revenue won", 182_000, Unit.AMOUNT, 400_000, Standing.MISSED, Trend.UP,
               "from 9 wins", "Stage changes"),
        Figure("Forecast", 371_000, Unit.AMOUNT, 400_000, Standing.CLOSE),
        Figure("Gap", None, Unit.AMOUNT),
    ], charts=[
        Chart("Cumulative revenue against the pace", ChartKind.LINE,
              tuple(f"W{i}" for i in range(1, 27)),
              (Series("Actual", tuple(7000.0 * i for i in range(26))),
               Series("Pace", tuple(15_400.0 * i for i in range(26)))),
              Unit.AMOUNT, ("Pace",)),
        Chart("Won by tier", ChartKind.STACKED_BAR, MONTHS,
              (Series("Tier A", (3, 4, 5, 2, 6, 1)), Series("Tier B", (2, 2, 1, 3, None, 2)))),
    ])  # fmt: skip
    marketing = Section("Marketing's side", figures=[
        Figure("Hand-offs against agreed", 58, Unit.COUNT, 67, Standing.CLOSE, Trend.DOWN,
               "58 of 67 agreed", "Hand-offs"),
        Figure("Accepted share", 0.74, Unit.SHARE, 0.7, Standing.MET, basis="37 of 50 rated"),
        Figure("Average rating", 3.8, Unit.RATING),
    ], charts=[
        Chart("Hand-offs a month", ChartKind.BAR, MONTHS,
              (Series("Hand-offs", (60, 55, 70, 58, None, 40)), Series("Agreed", (67,) * 6)),
              references=("Agreed",)),
    ], tables=[
        TableData("Black hole", BLACK_HOLE,
                  [(f"{HOSTILE} {i}", "Rita Rep", date(2026, 3, 1 + i % 28), i, i / rows,
                    1000 * i) for i in range(rows)], rows),
    ], notes=["No hand-offs in May 2026."])  # fmt: skip
    learned = Section("What the field learned", quotes=[
        Quote(f"They buy in spring {HOSTILE}", "Rita Rep", "Acme", date(2026, 2, 3), "Tier A"),
        Quote("Budget frozen", "Rob Rep", "Beta", date(2026, 3, 3), "Tier B"),
    ])  # fmt: skip
    decisions = Section("Decisions and next steps", lines=8)
    at = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    columns = [TableColumn("Account"), TableColumn("At", ColumnKind.DATETIME)]
    raw = TableData("Interactions", columns, ((HOSTILE, at) for _ in range(raw_rows)), raw_rows)
    return Report(ReportKind.MEETING, "Acme & Co <team>", Period.parse("2026-01..2026-06"),
                  datetime(2026, 6, 15, 9, 0, tzinfo=UTC), ("Olivia Owner", "Mark Marketer"),
                  [goal, marketing, learned, decisions], [raw])  # fmt: skip


def _pages(path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def test_a_report_prints_its_cover_figures_tables_and_page_numbers(tmp_path):
    out = tmp_path / "meeting.pdf"
    write_report_pdf(_report(), out)
    pages = _pages(out)
    cover = pages[0]
    for said in ("Sales and marketing meeting", "Acme & Co <team>", "January 2026 – June 2026",
                 "Goal owners: Olivia Owner and Mark Marketer"):  # fmt: skip
        assert said in cover
    assert all(f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, 1))
    assert all("Acme & Co <team>" in page for page in pages)  # the footer
    text = "\n".join(pages)
    for said in ("182,000", "Target 400,000", "missed", "close", "up on the previous period",
                 "from 9 wins", "74%", "37 of 50 rated", "3.8 of 5", "no data",
                 "No hand-offs in May 2026.", "Cumulative revenue against the pace",
                 "Budget frozen", "Rob Rep · Beta · 2026-03-03",
                 "Decisions and next steps"):  # fmt: skip
        assert said in text, said
    assert f"{HOSTILE} 0" in text  # user text as typed: markup and scripts print
    assert "Interactions" not in text  # the raw rows are the workbook's


def test_a_long_table_splits_across_pages_with_its_header_on_each(tmp_path):
    out = tmp_path / "meeting.pdf"
    write_report_pdf(_report(rows=150), out)
    with_rows = [p for p in _pages(out) if re.search(r"Rita Rep\s+2026-03-", p)]
    assert len(with_rows) >= 3
    assert all(re.search(r"Business\s+days\s+overdue", page) for page in with_rows)
    last = with_rows[-1]
    assert "149" in last and "149,000" in last and "99%" in last


def test_a_table_longer_than_a_handout_prints_its_first_rows_and_says_where_the_rest_is(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(report_pdf, "PRINTED_ROWS", 20)
    out = tmp_path / "meeting.pdf"
    write_report_pdf(_report(rows=150), out)
    text = " ".join(_pages(out))
    assert f"{HOSTILE} 19" in text and f"{HOSTILE} 20" not in text
    said = "The first 20 rows of 150 are printed; the report's workbook (XLSX) lists every one."
    assert said in re.sub(r"\s+", " ", text)


def test_a_period_without_data_says_so_on_its_pages(tmp_path):
    empty = Section("The goal", figures=[Figure("New revenue won", None, Unit.AMOUNT, 400_000)],
                    charts=[Chart("Won a month", ChartKind.BAR, MONTHS,
                                  (Series("Won", (None,) * 6),)),
                            Chart("Won against the pace", ChartKind.LINE, MONTHS,
                                  (Series("Won", (None,) * 6), Series("Pace", (None,) * 6)),
                                  references=("Pace",)),
                            Chart("Hand-offs against agreed", ChartKind.BAR, MONTHS,
                                  (Series("Hand-offs", (None,) * 6),
                                   Series("Agreed", (None,) * 6)), references=("Agreed",))],
                    tables=[TableData("Black hole", BLACK_HOLE, [], 0)],
                    notes=["No deal was won in this period."])  # fmt: skip
    report = Report(ReportKind.GOAL, "Acme", Period.parse("2026-07"),
                    datetime(2026, 8, 1, tzinfo=UTC), sections=[empty])  # fmt: skip
    out = tmp_path / "goal.pdf"
    write_report_pdf(report, out)
    text = "\n".join(_pages(out))
    for said in ("no data", "No data in this period", "No deal was won in this period.",
                 "None in this period.", "July 2026", "Won against the pace"):  # fmt: skip
        assert said in text
    assert text.count("No data in this period") == 3  # each chart, a line chart's too
    assert "nan" not in text.lower() and "0%" not in text
    book = tmp_path / "goal.xlsx"
    write_report_xlsx(report, book)
    summary = load_workbook(book)["Summary"]
    values = {row[1]: row[2] for row in summary.iter_rows(values_only=True) if row[0]}
    assert values["New revenue won"] == "no data"


def test_a_short_word_beside_a_long_text_keeps_whole(tmp_path):
    guidance = "What they do, for whom, how big, where; how they make money. " * 3
    table = TableData("Dossier template", [TableColumn("Section"), TableColumn("In a dossier"),
                                           TableColumn("What it holds")],
                      [("Decision makers and buying roles", "required", guidance)], 1)  # fmt: skip
    report = Report(
        ReportKind.PLAN,
        "Acme",
        Period.parse("2026-07"),
        datetime(2026, 8, 1, tzinfo=UTC),
        sections=[Section("Plan", tables=[table])],
    )
    out = tmp_path / "plan.pdf"
    write_report_pdf(report, out)
    words = "\n".join(_pages(out)).split()
    assert "required" in words and "require" not in words
    assert "Decision" in words and "dossier" in words


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler's pdftoppm")
def test_every_page_renders(tmp_path):
    out = tmp_path / "meeting.pdf"
    write_report_pdf(_report(), out)
    subprocess.run(["pdftoppm", "-png", "-r", "20", str(out), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) == len(PdfReader(out).pages)


def test_the_workbook_has_a_summary_tables_charts_and_the_raw_rows(tmp_path):
    out = tmp_path / "meeting.xlsx"
    written = write_report_xlsx(_report(rows=150, raw_rows=50), out)
    assert written.rows == 50 and written.warning is None
    book = load_workbook(out)
    assert book.sheetnames == ["Summary", "The goal", "Marketing's side", "Black hole",
                               "What the field learned quotes", "Interactions"]  # fmt: skip

    summary = book["Summary"]
    assert summary["A1"].value == "Sales and marketing meeting"
    rows = {r[1].value: r for r in summary.iter_rows() if r[1].value}
    won = rows["New revenue won"]
    assert (won[2].value, won[2].number_format) == (182_000, "#,##0")
    assert (won[3].value, won[4].value, won[5].value) == (400_000, "✗ missed", "up")
    assert (won[6].value, won[7].value) == ("from 9 wins", "Stage changes")
    share = rows["Accepted share"]
    assert (share[2].value, share[2].number_format) == (0.74, "0%")
    assert rows["Gap"][2].value == "no data"
    assert "Figures" in summary.tables
    header_row = int(summary.tables["Figures"].ref.split(":")[0][1:])
    assert summary.freeze_panes == f"A{header_row + 1}"
    assert len(summary._charts) == 1
    assert any(r[1].value == "No hand-offs in May 2026." for r in summary.iter_rows() if r[1])

    goal = book["The goal"]
    kinds = sorted(type(c).__name__ for c in goal._charts)
    assert kinds == ["BarChart", "LineChart"]
    stacked = next(c for c in goal._charts if type(c).__name__ == "BarChart")
    assert stacked.grouping == "stacked"
    line = next(c for c in goal._charts if type(c).__name__ == "LineChart")
    dashes = [s.graphicalProperties.line.prstDash for s in line.series]
    assert dashes == ["solid", "dash"]  # the pace is dashed
    assert goal["B2"].value == "Actual" and goal["B4"].value == 7000

    agreed = book["Marketing's side"]._charts[0]
    assert type(agreed).__name__ == "BarChart"  # the agreed number a line over the bars
    assert any(type(c).__name__ == "LineChart" for c in agreed._charts)

    hole = book["Black hole"]
    assert hole.freeze_panes == "A2"
    table = hole.tables["Black_hole"]
    assert table.ref == "A1:F151"
    assert [c.name for c in table.tableColumns][:2] == ["Account", "Rep"]
    first = hole[2]
    assert first[0].data_type == "s" and first[0].value == f"{HOSTILE} 0"
    assert first[2].value == datetime(2026, 3, 1) and first[2].number_format == "yyyy-mm-dd"
    assert hole["E3"].number_format == "0%" and hole["F3"].number_format == "#,##0"
    assert hole.page_setup.orientation == "landscape" and hole.print_title_rows == "$1:$1"
    assert 20 < hole.column_dimensions["A"].width <= 50

    quotes = book["What the field learned quotes"]
    assert quotes["B2"].value == f"They buy in spring {HOSTILE}"
    raw = book["Interactions"]
    assert raw.max_row == 51 and raw["A2"].data_type == "s"
    assert raw["B2"].value == datetime(2026, 1, 5, 9, 30)  # UTC
    assert "Interactions" in raw.tables


def test_a_report_goes_to_the_file_its_suffix_says_and_nowhere_else(tmp_path):
    report = _report(rows=5, raw_rows=5)
    with pytest.raises(NotAReportFile, match=r"report.csv: a report is written as a \.pdf"):
        write_report(report, tmp_path / "report.csv")
    with pytest.raises(CannotWrite, match="the folder does not exist"):
        write_report(report, tmp_path / "missing" / "report.pdf")
    assert write_report(report, tmp_path / "report.pdf") is None
    assert write_report(report, tmp_path / "report.xlsx") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf", "report.xlsx"]


def test_a_cancelled_workbook_leaves_no_file(tmp_path):
    out = tmp_path / "meeting.xlsx"
    with pytest.raises(ExportCancelled):
        write_report_xlsx(_report(raw_rows=5000), out, cancel=lambda: True)
    assert list(tmp_path.iterdir()) == []


def test_a_raw_sheet_holds_at_most_its_limit_and_says_where_the_rest_is(tmp_path, monkeypatch):
    monkeypatch.setattr(report_xlsx, "RAW_ROWS", 20)
    out = tmp_path / "meeting.xlsx"
    assert write_report_xlsx(_report(rows=5, raw_rows=50), out).rows == 20
    book = load_workbook(out)
    raw = book["Interactions"]
    assert raw.tables["Interactions"].ref == "A1:B21"
    said = "The sheet 'Interactions' holds the first 20 of 50 rows"
    assert raw["A23"].value.startswith(said)
    assert "Export interactions to CSV for every row." in raw["A23"].value
    notes = [row[1] for row in book["Summary"].iter_rows(values_only=True) if row[0] == "Raw rows"]
    assert len(notes) == 1 and notes[0].startswith(said)


def test_a_charts_names_print_in_any_script(tmp_path):
    """Each category's name in a font that has its letters: one Latin name among Chinese
    and Korean ones is not set in the CJK font, which lacks its letters."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart

    from reports.pdf_kit import FALLBACK, HANGUL, SANS
    from reports.report_pdf import _drawing

    names = ("製造業", "소매", "Retail <b>", "Software & IT")
    chart = Chart("Lead quality by industry", ChartKind.BAR, names,
                  (Series("Average rating", (3.2, 4.1, None, 2.5)),), Unit.RATING)  # fmt: skip
    bars = next(c for c in _drawing(chart).contents if isinstance(c, VerticalBarChart))
    fonts = [bars.categoryAxis.labels[i].fontName for i in range(len(names))]
    assert fonts == [FALLBACK, HANGUL, SANS, SANS]
    sections = [Section("Lead quality", charts=[chart])]
    report = Report(ReportKind.CLOSED_LOOP, "東京 Team", Period.parse("2026-01"),
                    datetime(2026, 2, 1, tzinfo=UTC), sections=sections)  # fmt: skip
    write_report_pdf(report, tmp_path / "loop.pdf")
    text = _pages(tmp_path / "loop.pdf")[1]
    assert all(name in text for name in names[2:]) and "3.2" in text


@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(Unit)),
                          st.none() | st.floats(0, 10_000_000, allow_nan=False)),
                min_size=1, max_size=6))  # fmt: skip
def test_a_figure_is_the_same_number_in_the_pdf_and_the_workbook(tmp_path_factory, figures):
    tmp = tmp_path_factory.mktemp("same")
    shares = [(u, v if v is None or u is not Unit.SHARE else v / 10_000_000) for u, v in figures]
    section = Section("Figures", figures=[Figure(f"Figure {n}", v, u)
                                          for n, (u, v) in enumerate(shares)])  # fmt: skip
    report = Report(ReportKind.GOAL, "Acme", Period.parse("2026-01"),
                    datetime(2026, 2, 1, tzinfo=UTC), sections=[section])  # fmt: skip
    write_report_pdf(report, tmp / "r.pdf")
    write_report_xlsx(report, tmp / "r.xlsx")
    text = " ".join(_pages(tmp / "r.pdf")[1].split())
    cells = {r[1].value: r[2] for r in load_workbook(tmp / "r.xlsx")["Summary"].iter_rows()
             if r[1].value and str(r[1].value).startswith("Figure ")}  # fmt: skip
    for n, (unit, value) in enumerate(shares):
        assert f"Figure {n} {shown(value, unit)}" in text
        cell = cells[f"Figure {n}"]
        # the workbook keeps 15 digits, as Excel does
        assert cell.value == ("no data" if value is None else pytest.approx(value, rel=1e-14))
        if value is not None:
            assert cell.number_format == NUMBER_FORMATS[UNIT_KINDS[unit]]
