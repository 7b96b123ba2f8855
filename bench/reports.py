"""The goal, SLA, closed-loop and meeting reports written as PDF and as XLSX: seconds and
peak memory of each, against a baseline measured in the same run (the same rows written by
a bare openpyxl write-only workbook; the same tables set by a bare ReportLab document).
Each figure is measured in a fresh process, so that its peak memory is its own.

    python bench/reports.py                 # the field workspace: 1M accounts, 5M interactions
    python bench/reports.py --accounts 3000 --interactions 30000
    python bench/reports.py --hand-made     # reports made by hand, of the same size
    python bench/reports.py --workspace COPY.sqlite --report goal --report closed-loop

On the field workspace the reports are made by the read models (storage/read_models/), as
``accord report`` makes them. The field workspace has no goal: the bench sets one
(``--metric``, six months to this month) in a transaction that it rolls back, so that the
goal's pages (in the goal report and the meeting pack) are read and timed. ``--hand-made``
writes reports of the size a six-month period of the field workspace gives (a table per rep,
a black hole of ``--black-hole`` rows, 26 weeks of charts, and ``--raw`` raw rows behind
each report), for when the read models are not there to make them. ``--workspace`` names a
workspace file instead of the cached field workspace (a copy: opening it migrates it),
``--report`` measures only the reports named, and the machine's load is printed before and
after: the figures move with it.
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


def _one(args: argparse.Namespace) -> dict[str, float]:
    """Measure one report in one format in this process."""
    kind, out = ReportKind(args.kind), Path(args.out)
    start, cpu = time.perf_counter(), time.process_time()
    read, read_cpu = 0.0, 0.0
    if args.baseline:
        rows, read, read_cpu = _baseline(kind, out, args)
        start, cpu = start + read, cpu + read_cpu  # the floor is the writing alone
    elif args.hand_made:
        from reports.report_file import write_report

        write_report(hand_made(kind, args.raw, args.black_hole), out)
        rows = 0
    else:
        from reports.report_file import write_report

        with _field_report(kind, args) as report:
            write_report(report, out)
        rows = 0
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    return {"seconds": seconds, "cpu": time.process_time() - cpu, "peak_mb": peak,
            "rows": rows, "read": read, "read_cpu": read_cpu}  # fmt: skip


@contextmanager
def _field_report(kind: ReportKind, args: argparse.Namespace) -> Iterator[Report]:
    """The report as ``accord report`` makes it, its raw rows streaming while it is open."""
    from bench.field_data import field_workspace, set_bench_goal
    from storage.read_models.reports import make_report, report_scope
    from storage.workspace import open_workspace

    path = args.workspace or field_workspace(args.accounts, args.interactions)
    workspace = open_workspace(path)
    now = datetime.now(UTC)
    # the field workspace has no goal: one is set for the report and rolled back after
    with workspace.engine.connect() as conn, conn.begin() as transaction:
        set_bench_goal(conn, args.metric, now)
        scope = report_scope(conn, now)
        yield make_report(conn, kind, scope, workspace.name)
        transaction.rollback()
    workspace.close()


def _baseline(kind: ReportKind, out: Path, args: argparse.Namespace) -> tuple[int, float, float]:
    """The same rows (as many as the report's workbook holds) written by a bare openpyxl
    write-only workbook, or the same tables set in a bare ReportLab document; with the
    seconds and CPU seconds it took to read them, which the floor leaves out. The
    workbook's rows are the report's own (read from the workspace, unless
    ``--hand-made``), the PDF's hand-made."""
    from reports.report_xlsx import RAW_ROWS

    start, cpu = time.perf_counter(), time.process_time()
    if out.suffix == ".xlsx":
        from openpyxl import Workbook

        with ExitStack() as stack:
            if args.hand_made:
                report = hand_made(kind, min(args.raw, RAW_ROWS), args.black_hole)
            else:
                report = stack.enter_context(_field_report(kind, args))
            tables = [(t.title, t.columns, list(t.rows)) for s in report.sections for t in s.tables]
            tables += [(t.title, t.columns, list(islice(t.rows, RAW_ROWS))) for t in report.raw]
        read, read_cpu = time.perf_counter() - start, time.process_time() - cpu
        book = Workbook(write_only=True)
        count = 0
        for title, columns, rows in tables:
            sheet = book.create_sheet(title[:31])
            sheet.append([c.label for c in columns])
            for row in rows:  # Excel has no time zones
                sheet.append([v.replace(tzinfo=None) if isinstance(v, datetime) else v
                              for v in row])  # fmt: skip
                count += 1
        book.save(out)
        return count, read, read_cpu
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table

    report = hand_made(kind, min(args.raw, RAW_ROWS), args.black_hole)
    printed = [t for s in report.sections for t in s.tables]
    read, read_cpu = time.perf_counter() - start, time.process_time() - cpu
    story = [Table([[c.label for c in t.columns], *([str(v) for v in r] for r in t.rows)],
                   repeatRows=1) for t in printed]  # fmt: skip
    SimpleDocTemplate(str(out), pagesize=A4).build(story)
    return sum(t.count or 0 for t in printed), read, read_cpu


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
    print("xlsx: the baseline is the floor, the report's own rows written by a bare openpyxl "
          "workbook (reading them apart); its ratio is the report's writing (its CPU seconds "
          "less the reading's) to the floor's, in CPU seconds")  # fmt: skip
    print(f"{'report':<14}{'as':<6}{'seconds':>9}{'CPU s':>7}{'peak MB':>9}{'baseline s':>12}"
          f"{'CPU s':>7}{'ratio':>7}")  # fmt: skip
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
            measured = json.loads(subprocess.run(common, check=True, capture_output=True,
                                                 text=True).stdout)  # fmt: skip
            base = json.loads(subprocess.run([*common, "--baseline"], check=True,
                                             capture_output=True, text=True).stdout)  # fmt: skip
            ratio = (measured["cpu"] - base["read_cpu"]) / base["cpu"]
            read = ""
            if suffix == ".xlsx":
                read = f"  reading the rows {base['read']:.2f} s, {base['read_cpu']:.2f} CPU s"
            print(f"{kind.value:<14}{suffix[1:]:<6}{measured['seconds']:>9.2f}"
                  f"{measured['cpu']:>7.2f}{measured['peak_mb']:>9.0f}{base['seconds']:>12.2f}"
                  f"{base['cpu']:>7.2f}{ratio:>7.1f}{read}")  # fmt: skip
            out.unlink(missing_ok=True)
    print("Targets: each report 10 s or less as PDF and as XLSX, memory under 500 MB.")
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
