"""What the dashboard reads besides the report read models: the scope it shows (the goal's
period, or marketing's month, on the workspace calendar) and the dossiers marketing has to
write for the accounts at the head of the reps' call queues."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from domain.calendar import WorkCalendar
from domain.goal import Goal
from domain.periods import Month, Period
from domain.queue import RULES
from domain.report import Scope
from domain.tables import TableColumn, TableData
from domain.users import Role
from storage.dossiers import dossier_complete_sql
from storage.plan import goals
from storage.queue import queue_entries
from storage.schema import AccountRow, WorkCalendarRow, table_of
from storage.targets import users_by_name

calendars = table_of(WorkCalendarRow)
accounts = table_of(AccountRow)
#: The head of a rep's call queue: the accounts they will call in the next days.
QUEUE_HEAD = 10
#: A workspace without a goal shows this many months up to this one.
MONTHS_WITHOUT_GOAL = 6


def calendar_in(conn: Connection) -> WorkCalendar:
    """The workspace calendar saved last, or the default one (UTC, Saturday and Sunday)."""
    document = conn.execute(
        select(calendars.c.document).order_by(calendars.c.id.desc()).limit(1)
    ).scalar()
    return WorkCalendar() if document is None else WorkCalendar.from_document(document)


def dashboard_scope(
    conn: Connection, now: datetime, *, this_month: bool = False, rep: str | None = None
) -> Scope:
    """The goal's period (or the last six months while there is no goal), or only the
    month of ``now``, on the workspace calendar."""
    calendar = calendar_in(conn)
    month = Month.of(calendar.local_day(now))
    period = Period(month, month)
    if not this_month:
        document = conn.execute(
            select(goals.c.document).order_by(goals.c.number.desc()).limit(1)
        ).scalar()
        if document is None:
            period = Period.months_from(month.plus(1 - MONTHS_WITHOUT_GOAL), MONTHS_WITHOUT_GOAL)
        else:
            period = Goal.from_document(document).period
    return Scope(period, calendar, now, rep)


def dossiers_to_write(conn: Connection, now: datetime, per_rep: int = QUEUE_HEAD) -> TableData:
    """The accounts among the first ``per_rep`` of each rep's call queue whose dossier is
    not complete (none, or a required section empty), in queue order, rep by rep."""
    today = calendar_in(conn).local_day(now)
    reps = sorted((u for u in users_by_name(conn).values() if u.role is Role.REP),
                  key=lambda u: u.name)  # fmt: skip
    rows = []
    for rep in reps:
        head = queue_entries(conn, rep.id, now, today, per_rep, RULES)
        complete = set(
            conn.execute(
                select(accounts.c.id).where(
                    accounts.c.id.in_([e.account_id for e in head]), dossier_complete_sql()
                )
            ).scalars()
        )
        rows += [
            (rep.name, place, entry.account, entry.tier or "", entry.stage.value)
            for place, entry in enumerate(head, 1)
            if entry.account_id not in complete
        ]
    columns = [TableColumn(label) for label in ("Rep", "Place in queue", "Account", "Tier",
                                                 "Stage")]  # fmt: skip
    return TableData("Dossiers to write", columns, rows, len(rows))
