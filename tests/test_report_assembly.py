"""The reports put together from the read models (stood in for here: each is tested with
its own part) and written from the command line."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader

from domain.errors import NotFound, ValidationError
from domain.goal import Goal, Metric
from domain.periods import Period
from domain.report import Figure, ReportKind, Scope, Section, Unit
from domain.tables import ColumnKind, TableColumn, TableData
from domain.users import Role
from main import main
from storage.read_models import reports
from storage.read_models.reports import make_report, report_scope
from storage.schema import GoalVersionRow, WorkCalendarRow

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


def _rows(title: str, scope: Scope) -> TableData:
    return TableData(title, [TableColumn("Account"), TableColumn("At", ColumnKind.DATETIME)],
                     iter([("Acme", scope.now)]), 1)  # fmt: skip


@pytest.fixture
def read_models(monkeypatch):
    """The read models as stand-ins that say what they were asked for."""
    asked: list[Scope] = []

    def sections(*titles: str):
        def read(conn, scope):
            asked.append(scope)
            return [Section(t, notes=[f"{t} for {scope.period}"]) for t in titles]

        return read

    def goal_sections(conn, scope):
        asked.append(scope)
        figures = [Figure("New revenue won", 120_000, Unit.AMOUNT, 400_000),
                   Figure("Forecast", 380_000, Unit.AMOUNT, 400_000),
                   Figure("Gap to the target", 20_000, Unit.AMOUNT, shortfall=True)]  # fmt: skip
        return [Section("Goal", figures=figures, notes=[f"Goal for {scope.period}"])]

    def sla_sections(conn, scope):
        asked.append(scope)
        return [Section("Marketing's side", figures=[Figure("Hand-offs", 58, target=67)]),
                Section("Sales' side", figures=[Figure("First touch on time", None)])]  # fmt: skip

    for name, value in {
        "goal_sections": goal_sections,
        "sla_sections": sla_sections,
        # the closed loop's four reads, its sections made of the first's (the scope here)
        "funnels": lambda conn, scope: scope,
        **{read: lambda conn, scope: None for read in ("lead_quality", "learnings", "calibration")},
        "_loop_sections": lambda scope, *_: sections(
            "Funnel", "What the field learned", "ICP calibration"
        )(None, scope),
        "plan_sections": sections("The plan"),
        "handoff_rows": lambda conn, scope: _rows("Hand-offs", scope),
        "interaction_rows": lambda conn, scope: _rows("Interactions", scope),
        "stage_change_rows": lambda conn, scope: _rows("Stage changes", scope),
    }.items():
        monkeypatch.setattr(reports, name, value)
    return asked


def _set_goal(workspace, start: date, owners=("Olivia Owner", "Rita Rep")) -> None:
    goal = Goal(Metric.NEW_REVENUE, 400_000, start, 6, owners)
    with workspace.engine.begin() as conn:
        conn.execute(GoalVersionRow.__table__.insert().values(
            id=uuid.uuid4(), number=1, document=goal.to_document(),
            created_at=NOW, created_by="Olivia Owner"))  # fmt: skip


def test_the_meeting_pack_runs_page_by_page(workspace, people, read_models):
    _set_goal(workspace, date(2026, 1, 12))
    with workspace.read() as conn:
        scope = report_scope(conn, NOW)
        report = make_report(conn, ReportKind.MEETING, scope, "Acme")
        titles = [s.title for s in report.sections]
        assert titles == ["Summary", "Marketing's side", "Sales' side", "Goal",
                          "Marketing's side", "Sales' side", "Funnel", "What the field learned",
                          "ICP calibration", "Decisions and next steps"]  # fmt: skip
        summary = report.sections[:3]
        assert [s.new_page for s in summary] == [True, False, False]  # one page
        assert [f.label for f in summary[0].figures] == [
            "New revenue won", "Forecast", "Gap to the target"]  # fmt: skip
        assert [f.label for f in summary[1].figures] == ["Hand-offs"]
        assert [f.label for f in summary[2].figures] == ["First touch on time"]
        chart = summary[0].charts[0]
        assert chart.categories == ("New revenue won", "Forecast")  # the gap is no bar
        assert [s.name for s in chart.series] == ["The goal", "Target"]
        assert chart.references == ("Target",)
        assert report.sections[-1].lines > 10
        assert [t.title for t in report.raw] == ["Hand-offs", "Interactions", "Stage changes"]
    assert report.people == ("Olivia Owner", "Rita Rep")
    assert report.period == Period.parse("2026-01..2026-06")  # the goal's period
    assert report.title == "Sales and marketing meeting"


@pytest.mark.parametrize(
    ("kind", "sections", "raw"),
    [
        (ReportKind.GOAL, ["Goal"], ["Stage changes", "Hand-offs"]),
        (ReportKind.SLA, ["Marketing's side", "Sales' side"], ["Hand-offs", "Interactions"]),
        (ReportKind.CLOSED_LOOP, ["Funnel", "What the field learned", "ICP calibration"],
         ["Stage changes", "Interactions"]),
        (ReportKind.PLAN, ["The plan"], []),
    ],
)  # fmt: skip
def test_each_report_holds_its_parts(sqlite_workspace, read_models, kind, sections, raw):
    with sqlite_workspace.read() as conn:
        report = make_report(conn, kind, report_scope(conn, NOW), "Acme")
    assert [s.title for s in report.sections] == sections
    assert [t.title for t in report.raw] == raw


def test_without_a_goal_a_report_covers_the_last_six_whole_months(workspace, people):
    calendar = {"time_zone": "Pacific/Auckland", "weekend": [5, 6], "holidays": []}
    with workspace.engine.begin() as conn:
        conn.execute(WorkCalendarRow.__table__.insert().values(
            document=calendar, created_at=NOW, created_by="Olivia Owner"))  # fmt: skip
    with workspace.read() as conn:
        # 31 May 2026 at 13:00 UTC is already 1 June in Auckland
        scope = report_scope(conn, datetime(2026, 5, 31, 13, 0, tzinfo=UTC))
        assert scope.period == Period.parse("2025-12..2026-05")
        assert scope.calendar.time_zone == "Pacific/Auckland"
        assert report_scope(conn, NOW, Period.parse("2026-02")).period == Period.parse("2026-02")
        assert report_scope(conn, NOW, rep="Rita Rep").rep == "Rita Rep"
        with pytest.raises(NotFound, match="There is no user called 'Rex'"):
            report_scope(conn, NOW, rep="Rex")
        with pytest.raises(ValidationError, match="Mark Marketer is marketing, not a rep"):
            report_scope(conn, NOW, rep="Mark Marketer")


def test_the_command_line_writes_each_report(tmp_path, sqlite_workspace, sqlite_people,
                                              read_models, capsys):  # fmt: skip
    db = str(tmp_path / "workspace.sqlite")  # the fixture's
    pdf, book = tmp_path / "meeting.pdf", tmp_path / "sla.xlsx"
    args = ["--db", db, "--user", "Olivia Owner", "report"]
    assert main([*args, "meeting", "--out", str(pdf), "--period", "2026-01..2026-03"]) == 0
    assert capsys.readouterr().out == (
        f"Wrote the sales and marketing meeting (January 2026 – March 2026) to {pdf}\n"
    )
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Funnel for 2026-01..2026-03" in text
    assert main([*args, "sla", "--out", str(book), "--month", "2026-04", "--rep", "Rita Rep"]) == 0
    assert "(April 2026, Rita Rep's figures)" in capsys.readouterr().out
    assert read_models[-1].rep == "Rita Rep" and read_models[-1].period == Period.parse("2026-04")
    assert main([*args, "plan", "--out", str(pdf), "--month", "2026-04"]) == 0
    assert capsys.readouterr().out == f"Wrote the plan (April 2026) to {pdf}\n"


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--period", "2026-13"], "period: '2026-13' is not a month written as YYYY-MM"),
        (["--period", "2026-06..2026-01"], "the period ends (2026-01) before it starts (2026-06)"),
        (["--month", "May"], "month: 'May' is not a month written as YYYY-MM"),
        (["--rep", "Rex"], "There is no user called 'Rex'."),
        (["--rep", "Olivia Owner"], "Olivia Owner is owner, not a rep"),
    ],
)
def test_bad_input_is_one_line_and_no_file(tmp_path, sqlite_workspace, sqlite_people,
                                           read_models, capsys, extra, said):  # fmt: skip
    out = tmp_path / "goal.pdf"
    db = str(tmp_path / "workspace.sqlite")
    assert main(["--db", db, "--user", "Olivia Owner", "report", "goal", "--out", str(out),
                 *extra]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1 and err.startswith("accord: ")
    assert not out.exists()


def test_an_output_that_cannot_be_written_is_one_line(tmp_path, sqlite_workspace, sqlite_people,
                                                      read_models, capsys):  # fmt: skip
    db = str(tmp_path / "workspace.sqlite")
    for out, said in (
        (tmp_path / "nowhere" / "goal.pdf", "the folder does not exist"),
        (tmp_path / "goal.docx", "a report is written as a .pdf or an .xlsx file"),
    ):
        assert main(["--db", db, "report", "goal", "--out", str(out)]) == 1
        err = capsys.readouterr().err
        assert said in err and err.count("\n") == 1
        assert not out.exists()


def test_a_rep_may_write_a_report(tmp_path, sqlite_workspace, sqlite_people, read_models):
    out = tmp_path / "loop.xlsx"
    db = str(tmp_path / "workspace.sqlite")
    assert sqlite_people[Role.REP].name == "Rita Rep"
    assert main(["--db", db, "--user", "Rita Rep", "report", "closed-loop", "--out", str(out)]) == 0
    assert out.exists()


def test_a_pdf_reads_no_raw_row_and_a_workbook_lists_them(tmp_path, sqlite_workspace,
                                                          sqlite_people, read_models,
                                                          monkeypatch):  # fmt: skip
    """A PDF prints no raw row, so writing one does not read them (counting a big
    workspace's interactions alone took a second); the workbook lists them, a sheet each."""
    from openpyxl import load_workbook

    read: list[str] = []
    for name, title in (("handoff_rows", "Hand-offs"), ("interaction_rows", "Interactions"),
                        ("stage_change_rows", "Stage changes")):  # fmt: skip

        def rows(conn, scope, title=title):
            read.append(title)
            return _rows(title, scope)

        monkeypatch.setattr(reports, name, rows)
    args = ["--db", str(tmp_path / "workspace.sqlite"), "--user", "Olivia Owner", "report",
            "meeting", "--out"]  # fmt: skip
    assert main([*args, str(tmp_path / "meeting.pdf")]) == 0
    assert read == []
    assert main([*args, str(tmp_path / "meeting.xlsx")]) == 0
    assert read == ["Hand-offs", "Interactions", "Stage changes"]
    sheets = load_workbook(tmp_path / "meeting.xlsx", read_only=True).sheetnames
    assert sheets[-3:] == ["Hand-offs", "Interactions", "Stage changes"]


def test_the_meeting_pack_reads_nothing_twice(sqlite_workspace):
    """The meeting pack holds the goal's, the agreement's and the closed loop's pages and
    their raw rows: each is read once for the whole pack, no statement over the summaries or
    the raw rows runs twice with the same values."""
    from collections import Counter

    from sqlalchemy import event

    from storage.demo.build import build_demo

    build_demo(sqlite_workspace, accounts=300, seed=3, replace=True)  # with a goal
    now = datetime.now(UTC)
    read: Counter[tuple[str, str]] = Counter()

    def reading(conn, cursor, statement, parameters, context, executemany):
        read[statement, repr(parameters)] += 1

    event.listen(sqlite_workspace.engine, "before_cursor_execute", reading)
    with sqlite_workspace.read() as conn:
        report = make_report(conn, ReportKind.MEETING, report_scope(conn, now), "Acme")
        tables = [t for s in report.sections for t in s.tables] + report.raw
        assert sum(len(list(t.rows)) for t in report.raw) > 0
        for table in tables:
            list(table.rows)
    event.remove(sqlite_workspace.engine, "before_cursor_execute", reading)
    big = ("interactions", "stage_changes", "handoff_facts", "follow_up_facts", "goal_facts",
           "account_reach", "queue_facts")  # fmt: skip
    # a probe for one row (is anything logged after the report's time?) reads no rows
    probes = ("SELECT EXISTS",)
    twice = [s for (s, _), n in read.items()
             if n > 1 and any(t in s for t in big) and not s.startswith(probes)]  # fmt: skip
    assert twice == []
