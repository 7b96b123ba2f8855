"""A report read side by side: its parts, each on a connection of its own, read one snapshot
(a write committed meanwhile shows in none of them or in all), a cancel stops them all at
once, and a part's error is raised as it was."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select, text

from domain.accounts import delete_account
from domain.errors import Cancelled, NotFound
from domain.goal import Goal, Metric
from domain.report import Report, ReportKind
from domain.users import Role
from storage.demo.build import build_demo
from storage.read_models import reports
from storage.read_models.reports import make_report, report_readers, report_scope, side_by_side
from storage.repositories import SqlUnitOfWork
from storage.schema import GoalVersionRow, InteractionRow, table_of
from storage.workspace import Workspace

goals = table_of(GoalVersionRow)


def _goal_versions(conn: Any, _scope: Any = None) -> int:
    return int(conn.execute(select(func.count()).select_from(goals)).scalar_one())


def _set_goal(workspace: Workspace, number: int) -> None:
    goal = Goal(Metric.NEW_REVENUE, 400_000, datetime(2026, 1, 1).date(), 6, ("Olivia Owner",))
    with workspace.write() as conn:
        row = {"number": number, "document": goal.to_document(), "created_at": datetime.now(UTC)}
        conn.execute(insert(goals).values(**row, created_by="Olivia Owner"))


def test_a_write_committed_as_the_readers_begin_shows_in_all_of_them_or_none(workspace):
    _set_goal(workspace, 1)
    begun: list[Any] = []

    def commit_once(conn: Any) -> None:  # as the third reader begins, once
        if conn not in begun:
            begun.append(conn)
            if len(begun) == 3:
                _set_goal(workspace, 2)

    event.listen(workspace.engine, "begin", commit_once)
    try:
        with workspace.read_together(3) as readers:
            _set_goal(workspace, 3)  # once they are open: seen by none
            seen = [_goal_versions(conn) for conn in readers]
    finally:
        event.remove(workspace.engine, "begin", commit_once)
    assert len(readers) == 3 and len(begun) > 3
    assert seen in ([1, 1, 1], [2, 2, 2])
    with workspace.read() as conn:
        assert _goal_versions(conn) == 3


def test_writes_that_never_stop_committing_leave_one_reader(sqlite_workspace):
    _set_goal(sqlite_workspace, 1)
    numbers = iter(range(2, 100))
    writing = False

    def commit(conn: Any) -> None:  # a write commits as each reader begins
        nonlocal writing
        if not writing:
            writing = True
            try:
                _set_goal(sqlite_workspace, next(numbers))
            finally:
                writing = False

    event.listen(sqlite_workspace.engine, "begin", commit)
    try:
        with sqlite_workspace.read_together(2) as readers:
            assert len(readers) == 1
            assert _goal_versions(readers[0]) > 1
    finally:
        event.remove(sqlite_workspace.engine, "begin", commit)


def _content(report: Report) -> list[Any]:
    """What a report says, every table's rows listed."""
    sections = [(s.title, s.figures, s.charts, s.quotes, s.notes,
                 [(t.title, t.count, [list(row) for row in t.rows]) for t in s.tables])
                for s in report.sections]  # fmt: skip
    raw = [(t.title, t.count, [list(row) for row in t.rows]) for t in report.raw]
    return [report.people, sections, raw]


def _meeting(workspace: Workspace, now: datetime) -> list[Any]:
    with report_readers(workspace) as readers:
        scope = report_scope(readers[0], now)
        return _content(make_report(readers, ReportKind.MEETING, scope, "Acme"))


def test_a_write_committed_while_a_report_is_read_shows_in_none_of_its_parts(
    workspace, people, monkeypatch
):
    build_demo(workspace, accounts=300, seed=3, replace=True)  # with a goal
    now = datetime.now(UTC)
    before = _meeting(workspace, now)
    with workspace.read() as conn:  # the accounts most talked to
        busiest = conn.execute(
            select(InteractionRow.account_id).group_by(InteractionRow.account_id)
            .order_by(func.count().desc(), InteractionRow.account_id).limit(40)
        ).scalars().all()  # fmt: skip
    funnels = reports.funnels

    def deleting_first(conn: Any, scope: Any) -> Any:  # the first part read deletes them
        with SqlUnitOfWork(workspace) as uow:
            loaded = [uow.accounts.get(account_id) for account_id in busiest]
        for account in loaded:
            assert account is not None
            delete_account(SqlUnitOfWork(workspace), people[Role.OWNER], account)
        return funnels(conn, scope)

    monkeypatch.setattr(reports, "funnels", deleting_first)
    assert _meeting(workspace, now) == before
    monkeypatch.setattr(reports, "funnels", funnels)
    after = _meeting(workspace, now)  # read after it, the deletion shows
    assert after[1] != before[1] and after[2] != before[2]


NEVER_ENDS = {
    "sqlite": "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
    "SELECT count(*) FROM n",
    "postgresql": "SELECT pg_sleep(3600)",
}


def _never_ends(started: threading.Event) -> Any:
    def read(conn: Any, _scope: Any) -> Any:
        started.set()
        return conn.execute(text(NEVER_ENDS[conn.dialect.name])).scalar_one()

    return read


def test_a_cancel_stops_every_part_at_once(workspace):
    first, second = threading.Event(), threading.Event()
    both = [_never_ends(first), _never_ends(second)]
    with workspace.read_together(2) as readers, pytest.raises(Cancelled):
        side_by_side(readers, None, both, lambda: first.is_set() and second.is_set())
    with workspace.read() as conn:
        assert _goal_versions(conn) == 0


def test_a_part_that_fails_stops_the_others_and_its_error_is_raised(workspace):
    started = threading.Event()

    def missing(_conn: Any, _scope: Any) -> Any:
        started.wait()
        raise NotFound("This account does not exist.")

    with workspace.read_together(2) as readers, pytest.raises(NotFound, match="does not exist"):
        side_by_side(readers, None, [_never_ends(started), missing], None)
