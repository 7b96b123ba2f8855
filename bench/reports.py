"""The goal, SLA, closed-loop and meeting reports written as PDF and as XLSX: seconds, CPU
seconds and peak memory of each, against its physical floor measured in the same run. Each
figure is measured in a fresh process, so that its peak memory is its own.

    python bench/reports.py                 # the field workspace: 1M accounts, 5M interactions
    python bench/reports.py --accounts 3000 --interactions 30000
    python bench/reports.py --hand-made     # reports made by hand, of the same size
    python bench/reports.py --workspace COPY.sqlite --report goal --report closed-loop

A report's physical floor is what no way of making that file can do without:

- for a workbook, reading its raw rows by the plainest SELECT there is (the rows, columns
  and order its raw sheets hold, as many as a sheet holds, and how many there are, by bare
  sqlite3 on the same connection, fetched with no Python work per row: ``PLAIN``), then
  writing the report's own rows (its tables and those raw rows, as the read models give
  them) with a bare write-only workbook, each row as the XML openpyxl writes for its cells
  (``reports.sheet_rows``: openpyxl's own cells took twice as long);
- for a PDF, which lists no raw row, the report's own tables (as many rows as it prints,
  each cell the text it prints) set by a bare ReportLab document.

A workbook lists every row of a section's table (the black hole's too) and a raw sheet's
first ``RAW_ROWS``; a PDF prints a table's first ``PRINTED_ROWS``.

The sections' figures and tables are added up in SQL from the summaries: no plain SELECT
reads them, and the floor leaves them out; their reading is printed apart (``sections``:
read side by side, a thread a core, as a report reads them), and for a workbook the whole
reading, the sections with the raw rows side by side (``with raw rows``), beside the plain
SELECT's. CPU seconds count every thread's: above the wall's, the reading went side by
side. The ratio is the report's seconds to the floor's (wall, then CPU): when the floor
itself is over the 10 s target, the target is the floor, and the line says so.

On the field workspace the reports are made by the read models (storage/read_models/), as
``accord report`` makes them. The field workspace has no goal: the bench gives the report's
readers one (``--metric``, six months to this month) as the goal in force, writing nothing,
so that the goal's pages (in the goal report and the meeting pack) are read and timed.
``--hand-made`` writes reports of the size a six-month period of the field workspace gives
(a table per rep, a black hole of ``--black-hole`` rows, 26 weeks of charts, and ``--raw``
raw rows behind each report), for when the read models are not there to make them (their
floor has no reading). ``--workspace`` names a workspace file instead of the cached field
workspace (a copy: opening it migrates it), ``--report`` measures only the reports named,
and the machine's load is printed before and after: the figures move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from random import Random
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
)
from domain.tables import ColumnKind, TableColumn, TableData

#: Seconds each report is to take at most, as PDF and as XLSX (issue 16).
TARGET = 10.0
KINDS = [ReportKind.GOAL, ReportKind.SLA, ReportKind.CLOSED_LOOP, ReportKind.MEETING]
REPS = [f"Rep {n}" for n in range(1, 13)]
WEEKS = tuple(f"W{n}" for n in range(1, 27))
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun")
RAW = {
    "Interactions": [TableColumn("Account"), TableColumn("At", ColumnKind.DATETIME),
                     TableColumn("Channel"), TableColumn("Outcome"), TableColumn("Rep"),
                     TableColumn("Rating", ColumnKind.INTEGER), TableColumn("Learned")],
    "Hand-offs": [TableColumn("Account"), TableColumn("Handed off", ColumnKind.DATETIME),
                  TableColumn("Rep"), TableColumn("Tier"),
                  TableColumn("First touch", ColumnKind.DATETIME),
                  TableColumn("Business days", ColumnKind.INTEGER)],
    "Stage changes": [TableColumn("Account"), TableColumn("At", ColumnKind.DATETIME),
                      TableColumn("From"), TableColumn("To"), TableColumn("By"),
                      TableColumn("Deal value", ColumnKind.AMOUNT)],
}  # fmt: skip
RAW_OF = {
    ReportKind.GOAL: ["Stage changes", "Hand-offs"],
    ReportKind.SLA: ["Hand-offs", "Interactions"],
    ReportKind.CLOSED_LOOP: ["Stage changes", "Interactions"],
    ReportKind.MEETING: ["Hand-offs", "Interactions", "Stage changes"],
}


def _raw(title: str, rows: int) -> TableData:
    """``rows`` rows, made as they are read (a streaming query's rows)."""
    columns = RAW[title]
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def made() -> Iterator[list[object]]:
        for n in range(rows):
            row: list[object] = []
            for column in columns:
                if column.kind is ColumnKind.DATETIME:
                    row.append(start + timedelta(minutes=n))
                elif column.kind in (ColumnKind.INTEGER, ColumnKind.AMOUNT):
                    row.append(n % 5000)
                else:
                    row.append(f"{column.label} {n % 997} of the field history")
            yield row

    return TableData(title, columns, made(), rows)


def hand_made(kind: ReportKind, raw: int, black_hole: int) -> Report:
    """A report the size the field workspace's six months give."""
    rng = Random(7)
    figures = [Figure(f"Figure {n}", rng.random(), Unit.SHARE, 0.7, Standing.CLOSE, Trend.UP,
                      f"{n * 37} of {n * 148}", "Interactions") for n in range(1, 9)]  # fmt: skip
    pace = (Series("Actual", tuple(float(n * 7) for n in range(26))),
            Series("Pace", tuple(float(n * 9) for n in range(26))))  # fmt: skip
    line = Chart("Cumulative against the pace", ChartKind.LINE, WEEKS, pace, references=("Pace",))
    stacked = Chart("By tier", ChartKind.STACKED_BAR, MONTHS,
                    tuple(Series(f"Tier {t}", tuple(rng.randint(5, 60) for _ in MONTHS))
                          for t in "ABC"))  # fmt: skip
    columns = [TableColumn("Rep"), TableColumn("Hand-offs", ColumnKind.INTEGER),
               TableColumn("On time", ColumnKind.SHARE)]  # fmt: skip
    per_rep = TableData("By rep", columns, [(r, rng.randint(10, 90), rng.random()) for r in REPS])
    hole = TableData("Black hole", [TableColumn("Account"), TableColumn("Rep"),
                                    TableColumn("Handed off", ColumnKind.DATE),
                                    TableColumn("Business days overdue", ColumnKind.INTEGER)],
                     [(f"Account {n}", REPS[n % 12], date(2026, 3, 1), n % 40)
                      for n in range(black_hole)], black_hole)  # fmt: skip
    quotes = [Quote(f"What was learned on call {n}: the budget moves in spring.", REPS[n % 12],
                    f"Account {n}", date(2026, 2, 1 + n % 27), f"Tier {'ABC'[n % 3]}")
              for n in range(120)]  # fmt: skip
    sections = [Section(f"Part {n}", figures=figures[:4], charts=[line, stacked], tables=[per_rep])
                for n in range(6)]  # fmt: skip
    sections[2].tables.append(hole)
    sections.append(Section("What the field learned", quotes=quotes))
    sections.append(Section("Decisions and next steps", lines=16))
    return Report(kind, "Field workspace", Period.parse("2026-01..2026-06"),
                  datetime.now(UTC), ("Olivia Owner", "Mark Marketer"), sections,
                  [_raw(t, raw) for t in RAW_OF[kind]])  # fmt: skip


#: The plainest SELECT of each raw sheet's rows: the rows, columns and order the sheet
#: holds (a hand-off's the stored facts its cells are made from), the first ``:limit``;
#: and how many there are, counted in the ``(account_id, at)`` index alone (``+at``: not
#: through the time index, which looks up each row in random order to learn its account;
#: a join to the accounts reads them all), the deleted accounts by their own index.
#: ``:start`` and ``:end`` are the period's bounds, ``:now`` the report's moment, as the
#: workspace stores times.
PLAIN = {
    "Interactions": (
        "SELECT a.name, a.website, i.logged_by, i.channel, i.outcome, i.at, c.name,"
        " i.meaningful, i.learned, i.quality, i.lead, i.reason, i.commitments, i.next_step,"
        " i.follow_up, i.value,"
        " EXISTS (SELECT 1 FROM interactions l WHERE l.supersedes_id = i.id)"
        " FROM interactions i JOIN accounts a ON a.id = i.account_id"
        " LEFT JOIN contacts c ON c.id = i.contact_id"
        " WHERE i.at >= :start AND i.at < :end AND a.deleted_at IS NULL"
        " ORDER BY i.at, i.id LIMIT :limit",
        "SELECT count(*) FROM interactions i WHERE +i.at >= :start AND +i.at < :end"
        " AND i.account_id NOT IN (SELECT id FROM accounts WHERE deleted_at IS NOT NULL)",
    ),
    "Stage changes": (
        "SELECT s.at, a.name, s.from_stage, s.to_stage, s.changed_by, s.reason"
        " FROM stage_changes s JOIN accounts a ON a.id = s.account_id"
        " WHERE s.at >= :start AND s.at < :end AND a.deleted_at IS NULL"
        " ORDER BY s.at, s.id LIMIT :limit",
        "SELECT count(*) FROM stage_changes s WHERE +s.at >= :start AND +s.at < :end"
        " AND s.account_id NOT IN (SELECT id FROM accounts WHERE deleted_at IS NOT NULL)",
    ),
    "Hand-offs": (
        "SELECT a.name, u.name, f.tier, f.handed_off_at, f.attempt_1, f.attempt_2,"
        " f.attempt_3, f.attempt_4, f.attempt_5, f.attempt_6, f.attempt_7, f.attempt_8,"
        " f.attempt_9, f.attempt_10, f.closed_at, f.first_meaningful, f.rated_at, f.rating,"
        " f.rating_at, f.verdict, f.verdict_at"
        " FROM handoff_facts f JOIN accounts a ON a.id = f.account_id"
        " LEFT JOIN users u ON u.id = f.owner_id"
        " WHERE f.handed_off_at >= :start AND f.handed_off_at < :end"
        " AND f.handed_off_at <= :now ORDER BY f.handed_off_at, a.name LIMIT :limit",
        "SELECT count(*) FROM handoff_facts f"
        " WHERE f.handed_off_at >= :start AND f.handed_off_at < :end"
        " AND f.handed_off_at <= :now",
    ),
}


def _one(args: argparse.Namespace) -> dict[str, float]:
    """Measure one report in one format in this process: the report, or (``--baseline``)
    its floor and the reading the floor leaves out."""
    kind, out = ReportKind(args.kind), Path(args.out)
    if args.baseline:
        return _floor(kind, out, args)
    start, cpu = time.perf_counter(), time.process_time()
    from reports.report_file import write_report

    if args.hand_made:
        write_report(hand_made(kind, args.raw, args.black_hole), out)
    else:
        with _field_report(kind, args, out) as (_, report):
            pass  # read whole: written once its readers are closed, as `accord report` does
        write_report(report, out)
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
            "peak_mb": _peak_mb()}  # fmt: skip


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


@contextmanager
def _field_report(
    kind: ReportKind, args: argparse.Namespace, out: Path, raw_rows: bool | None = None
) -> Iterator[tuple[Any, Report]]:
    """The report as ``accord report`` makes it to write ``out`` (with its raw rows, a
    workbook's, unless ``raw_rows`` says otherwise), with its scope and the connections it
    was read on, open meanwhile."""
    from bench.field_data import BENCH_GOAL_NUMBER, bench_goal, field_workspace
    from domain.goal import GoalVersion
    from reports.report_file import lists_raw_rows
    from storage.read_models import goal_progress, reports
    from storage.read_models.reports import make_report, report_readers, report_scope
    from storage.workspace import open_workspace

    path = args.workspace or field_workspace(args.accounts, args.interactions)
    workspace = open_workspace(path)
    now = datetime.now(UTC)
    # the field workspace has no goal, and the bench writes nothing into it: each of the
    # report's readers is told of the bench's goal as the one in force
    version = GoalVersion(bench_goal(args.metric, now), BENCH_GOAL_NUMBER, "Bench", now)
    for module in (goal_progress, reports):
        module.current_goal = lambda _conn: version  # type: ignore[attr-defined]
    listed = lists_raw_rows(out) if raw_rows is None else raw_rows
    with report_readers(workspace) as readers:
        scope = report_scope(readers[0], now)
        yield (readers, scope), make_report(readers, kind, scope, workspace.name, listed)
    workspace.close()


def _took(start: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - start[0], time.process_time() - start[1]


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _floor(kind: ReportKind, out: Path, args: argparse.Namespace) -> dict[str, float]:
    """The report's floor (see the module's docstring), and apart the reading it leaves
    out: the sections, and the raw rows as the read models give them."""
    from reports.report_pdf import PRINTED_ROWS
    from reports.report_xlsx import RAW_ROWS

    workbook = out.suffix == ".xlsx"
    plain = sections = raw = (0.0, 0.0)
    with ExitStack() as stack:
        if args.hand_made:
            report = hand_made(kind, min(args.raw, RAW_ROWS), args.black_hole)
        else:
            if workbook:  # the sections alone, then with the raw rows (apart, as ``raw``)
                start = _now()
                with _field_report(kind, args, out, raw_rows=False):
                    sections = _took(start)
            start = _now()
            (readers, scope), report = stack.enter_context(_field_report(kind, args, out))
            raw = _took(start)
            if not workbook:
                sections, raw = raw, (0.0, 0.0)
        printed = None if workbook else PRINTED_ROWS  # a workbook lists a section's all
        tables = [(t.title, t.columns, list(islice(t.rows, printed)))
                  for s in report.sections for t in s.tables]  # fmt: skip
        if workbook:
            tables += [(t.title, t.columns, list(islice(t.rows, RAW_ROWS))) for t in report.raw]
            if not args.hand_made:
                start = _now()
                _plain_select(readers[0], scope, [t.title for t in report.raw], RAW_ROWS)
                plain = _took(start)
    start = _now()
    if workbook:
        _bare_workbook(tables, out)
    else:
        _bare_pdf(tables, out)
    write = _took(start)
    return {"plain": plain[0], "plain_cpu": plain[1], "write": write[0], "write_cpu": write[1],
            "sections": sections[0], "sections_cpu": sections[1], "raw": raw[0],
            "raw_cpu": raw[1], "rows": sum(len(rows) for _, _, rows in tables)}  # fmt: skip


def _plain_select(conn: Any, scope: Any, titles: list[str], limit: int) -> None:
    """Each raw sheet's rows and count by :data:`PLAIN`, on the report's own connection
    (its SQLite connection, bare)."""
    zone = scope.calendar.zone

    def stored(moment: datetime) -> str:  # as the workspace stores a time: UTC, no zone
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    bounds = {"start": stored(scope.period.start(zone)), "end": stored(scope.period.end(zone)),
              "now": stored(scope.now), "limit": limit}  # fmt: skip
    cursor = conn.connection.driver_connection.cursor()
    for title in titles:
        rows, count = PLAIN[title]
        for _ in cursor.execute(rows, bounds):
            pass
        cursor.execute(count, bounds).fetchone()


def _bare_workbook(tables: list[tuple[str, Any, list[Any]]], out: Path) -> None:
    """The rows written by a bare write-only workbook, a sheet a table: each row as the XML
    openpyxl writes for its cells (:class:`reports.sheet_rows.RowXml`, the cheapest way
    known to write them: openpyxl's own cells took twice as long), numbers and times in
    their columns' formats, each sheet compressed as it is written, as a report's are
    (:func:`reports.sheet_rows.save_workbook`)."""
    from openpyxl import Workbook

    from reports.sheet_rows import RowXml, save_workbook
    from reports.tabular import NUMBER_FORMATS, write_beside

    book = Workbook(write_only=True)
    for title, columns, rows in tables:
        sheet = book.create_sheet(title[:31])
        write_beside(sheet, out)
        sheet.append([c.label for c in columns])
        xml = RowXml(sheet, [NUMBER_FORMATS.get(c.kind) for c in columns])
        for number, row in enumerate(rows, 2):  # Excel has no time zones
            values = [v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row]
            sheet.append(xml.row(number, values) or values)
    save_workbook(book, out)


def _bare_pdf(tables: list[tuple[str, Any, list[Any]]], out: Path) -> None:
    """The tables, each cell the text the report prints, set by a bare ReportLab document."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table

    from domain.tables import shown_cell

    shown = [[[c.label for c in columns],
              *([shown_cell(v, c.kind) for v, c in zip(row, columns, strict=True)]
                for row in rows)] for _, columns, rows in tables]  # fmt: skip
    SimpleDocTemplate(str(out), pagesize=A4).build([Table(t, repeatRows=1) for t in shown])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=5_000_000)
    parser.add_argument("--hand-made", action="store_true", help="reports made by hand")
    parser.add_argument("--raw", type=int, default=5_000_000,
                        help="hand-made: raw rows behind each report")  # fmt: skip
    parser.add_argument("--black-hole", type=int, default=2_000, metavar="ROWS")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument("--workspace", type=Path, help="a workspace file (a copy) to report on")
    parser.add_argument("--metric", default="new-revenue", help="the goal the bench sets")
    parser.add_argument("--report", action="append", choices=[k.value for k in KINDS],
                        help="only this report (again for more)")  # fmt: skip
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.kind:
        print(json.dumps(_one(args)))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    source = (
        "hand-made reports"
        if args.hand_made
        else f"the field workspace ({args.accounts:,} accounts, {args.interactions:,} interactions)"
    )
    if args.workspace:
        source = str(args.workspace)
    print(f"Reports on {source}; each figure in a fresh process; load {os.getloadavg()[0]:.1f}")
    print("floor: xlsx, the plain SELECT of the raw rows + the bare write of the report's "
          "rows as their cells' XML; pdf, the bare ReportLab build of its tables (see the "
          "docstring). Seconds, then CPU seconds; ratio = the report's to the floor's")  # fmt: skip
    print(f"{'report':<13}{'as':<5}{'seconds':>8}{'CPU':>7}{'MB':>6} |{'SELECT':>7}{'CPU':>6}"
          f"{'write':>7}{'CPU':>6}{'floor':>7}{'CPU':>6} |{'ratio':>6}{'CPU':>6} | reading "
          "apart: sections, with raw rows")  # fmt: skip
    above = []
    for kind in [k for k in KINDS if args.report is None or k.value in args.report]:
        for suffix in (".pdf", ".xlsx"):
            out = args.out / f"bench-{kind.value}{suffix}"
            common = [sys.executable, __file__, "--kind", kind.value, "--out", str(out),
                      "--accounts", str(args.accounts), "--interactions", str(args.interactions),
                      "--raw", str(args.raw), "--black-hole", str(args.black_hole),
                      "--metric", args.metric]  # fmt: skip
            if args.hand_made:
                common.append("--hand-made")
            if args.workspace:
                common += ["--workspace", str(args.workspace)]
            m = json.loads(subprocess.run(common, check=True, capture_output=True,
                                          text=True).stdout)  # fmt: skip
            f = json.loads(subprocess.run([*common, "--baseline"], check=True,
                                          capture_output=True, text=True).stdout)  # fmt: skip
            floor, floor_cpu = f["plain"] + f["write"], f["plain_cpu"] + f["write_cpu"]
            if max(floor, floor_cpu) > TARGET:
                above.append(f"{kind.value} {suffix[1:]} ({floor:.2f} s, {floor_cpu:.2f} CPU s)")
            reading = f"{f['sections']:.2f} ({f['sections_cpu']:.2f})"
            if suffix == ".xlsx":
                reading += f", {f['raw']:.2f} ({f['raw_cpu']:.2f})"
            ratio = f"{m['seconds'] / floor:>6.1f}{m['cpu'] / floor_cpu:>6.1f}"
            print(f"{kind.value:<13}{suffix[1:]:<5}{m['seconds']:>8.2f}{m['cpu']:>7.2f}"
                  f"{m['peak_mb']:>6.0f} |{f['plain']:>7.2f}{f['plain_cpu']:>6.2f}"
                  f"{f['write']:>7.2f}{f['write_cpu']:>6.2f}{floor:>7.2f}{floor_cpu:>6.2f} |"
                  f"{ratio} | {reading}")  # fmt: skip
            out.unlink(missing_ok=True)
    print(f"Targets: each report {TARGET:.0f} s or less as PDF and as XLSX, or as near its floor "
          "as it goes where the floor is over that; memory under 500 MB.")  # fmt: skip
    if above:  # on a shared machine the wall seconds wait for the others: read the CPU's
        print(f"The floor is over {TARGET:.0f} s for: {', '.join(above)}.")
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
