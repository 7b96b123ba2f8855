"""The Reports menu: a report written off the GUI thread with its progress and Cancel."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from PySide6.QtCore import QDate, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from domain.periods import Month, Period
from domain.report import Figure, Report, ReportKind, Section, Unit
from domain.tables import ColumnKind, TableColumn, TableData
from domain.users import Role
from storage.read_models import reports
from storage.users import sign_in
from ui import report_actions, workers
from ui.main_window import MainWindow
from ui.report_actions import ReportDialog, ReportRequest


def _report(
    readers, kind, scope, workspace_name, raw_rows=True, cancel=None, rows: int = 10
) -> Report:
    """A stand-in for the read models: the scope it was asked for, and ``rows`` raw rows
    (none unless ``raw_rows``, as a PDF asks)."""
    columns = [TableColumn("Account"), TableColumn("N", ColumnKind.INTEGER)]
    raw = TableData("Interactions", columns, ((f"Acme {n}", n) for n in range(rows)), rows)
    figures = [Figure("Hand-offs", 58, Unit.COUNT, 67, basis=f"for {scope.rep or 'everyone'}")]
    sections = [Section(f"Months {scope.period}", figures=figures)]
    return Report(kind, workspace_name, scope.period, scope.now, sections=sections,
                  raw=[raw] if raw_rows else [])  # fmt: skip


@pytest.fixture
def window(qtbot, sqlite_workspace, sqlite_people, monkeypatch):
    monkeypatch.setattr(report_actions, "make_report", _report)
    window = MainWindow(sqlite_workspace, sqlite_people[Role.OWNER])
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _action(window: MainWindow, text: str) -> QAction:
    return next(a for a in window.findChildren(QAction) if a.text() == text)


def test_the_reports_menu_writes_the_report_chosen(qtbot, window, tmp_path):
    entries = [a.text() for a in window.menuBar().actions()]
    assert "&Reports" in entries
    meeting = _action(window, "Meeting pack…")
    assert meeting.shortcut().toString() == "Ctrl+Shift+B" and meeting.isEnabled()
    out = tmp_path / "meeting.pdf"

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ReportDialog)
        assert dialog.kind.currentData() == ReportKind.MEETING
        assert [dialog.rep.itemText(i) for i in range(dialog.rep.count())] == [
            "Everyone", "Rita Rep"]  # fmt: skip
        dialog.first.setDate(QDate(2026, 2, 1))
        dialog.last.setDate(QDate(2026, 4, 1))
        dialog.rep.setCurrentIndex(1)
        dialog.path.setText(str(out))
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

    QTimer.singleShot(0, fill)
    meeting.trigger()
    task = window.reports.task
    assert task is not None
    qtbot.waitUntil(lambda: not task.running and out.exists(), timeout=30_000)
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Months 2026-02..2026-04" in text and "for Rita Rep" in text
    assert window.statusBar().currentMessage() == (
        f"Wrote the sales and marketing meeting to {out}"
    )


def test_the_dialog_starts_on_the_default_months_and_refuses_them_backwards(
    qtbot, window, monkeypatch
):
    said: list[str] = []
    monkeypatch.setattr(report_actions, "show_error", lambda _p, _t, error: said.append(str(error)))
    dialog = ReportDialog(window.workspace, window.user, ReportKind.SLA, window)
    qtbot.addWidget(dialog)
    today = date.today()
    last = Period.months_from(Month.of(today).plus(-6), 6)
    assert (dialog.first.date().year(), dialog.first.date().month()) == (
        last.first.year, last.first.month)  # fmt: skip
    assert Path(dialog.path.text()).name == f"sla-{last.first}_{last.last}.pdf"
    dialog.format.setCurrentIndex(1)
    assert dialog.path.text().endswith(".xlsx")
    dialog.first.setDate(QDate(2026, 5, 1))
    dialog.last.setDate(QDate(2026, 1, 1))
    dialog.accept()
    assert dialog.request is None and "ends (2026-01) before it starts (2026-05)" in said[0]


def test_cancel_stops_the_report_and_leaves_no_file(qtbot, window, tmp_path, monkeypatch):
    errors: list[BaseException] = []
    monkeypatch.setattr(workers, "show_error", lambda _p, _t, error: errors.append(error))
    pressed = threading.Event()

    def made(*args):  # type: ignore[no-untyped-def]
        report = _report(*args, rows=2_000_000)
        (raw,) = report.raw

        def rows():  # type: ignore[no-untyped-def]
            # a workbook's rows are written faster than a person presses Cancel: after
            # the first few thousand (the progress shows), the rest once it was pressed
            for n, row in enumerate(raw.rows):
                if n == 5_000:
                    pressed.wait(30)
                yield row

        return replace(report, raw=[replace(raw, rows=rows())])

    monkeypatch.setattr(report_actions, "make_report", made)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "big.xlsx"
    period = Period.parse("2026-01..2026-06")
    task = window.reports.write(ReportRequest(ReportKind.SLA, period, None, out))
    assert task is not None
    qtbot.waitUntil(lambda: task.dialog.value() > 0, timeout=30_000)  # progress shows
    task.cancel()
    pressed.set()
    qtbot.waitUntil(lambda: not task.running, timeout=30_000)
    qtbot.waitUntil(lambda: bool(errors), timeout=5_000)
    assert "cancelled" in str(errors[0]) and not out.exists()
    assert [p.name for p in out.parent.iterdir()] == []  # nor its temporaries


def test_cancel_stops_a_report_still_being_read(
    qtbot, sqlite_workspace, sqlite_people, tmp_path, monkeypatch
):
    errors: list[BaseException] = []
    monkeypatch.setattr(workers, "show_error", lambda _p, _t, error: errors.append(error))
    started = threading.Event()

    def never_ends(conn, scope):  # a read that only a cancel stops
        started.set()
        return conn.exec_driver_sql(
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"
        ).scalar_one()

    monkeypatch.setattr(reports, "sla_sections", never_ends)
    window = MainWindow(sqlite_workspace, sqlite_people[Role.OWNER])
    qtbot.addWidget(window)
    out = tmp_path / "sla.pdf"
    task = window.reports.write(ReportRequest(ReportKind.SLA, Period.parse("2026-01"), None, out))
    assert task is not None
    qtbot.waitUntil(started.is_set, timeout=30_000)
    task.cancel()
    qtbot.waitUntil(lambda: not task.running, timeout=30_000)
    qtbot.waitUntil(lambda: bool(errors), timeout=5_000)
    assert str(errors[0]) == "The report was cancelled; no file was written."
    assert not out.exists()


def test_a_file_that_is_not_a_report_is_said_before_any_work(qtbot, window, tmp_path, monkeypatch):
    said: list[str] = []
    monkeypatch.setattr(report_actions, "show_error", lambda _p, _t, error: said.append(str(error)))
    request = ReportRequest(ReportKind.GOAL, Period.parse("2026-01"), None, tmp_path / "goal.doc")
    assert window.reports.write(request) is None
    assert said == ["goal.doc: a report is written as a .pdf or an .xlsx file."]


def test_a_rep_writes_a_workbook(qtbot, sqlite_workspace, sqlite_people, tmp_path, monkeypatch):
    monkeypatch.setattr(report_actions, "make_report", _report)
    rep = MainWindow(sqlite_workspace, sign_in(sqlite_workspace, "Rita Rep"))
    qtbot.addWidget(rep)
    assert _action(rep, "Closed-loop report…").isEnabled()
    out = tmp_path / "loop.xlsx"
    task = rep.reports.write(ReportRequest(ReportKind.CLOSED_LOOP, Period.parse("2026-03"),
                                           "Rita Rep", out))  # fmt: skip
    assert task is not None
    qtbot.waitUntil(lambda: not task.running and out.exists(), timeout=30_000)
    assert load_workbook(out)["Summary"]["A1"].value == "Closed-loop report"
