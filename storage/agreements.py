"""The service agreement's versions and the workspace calendar in the workspace: the stores
``domain.agreement.save_agreement`` and ``domain.calendar.save_calendar`` write through (a
new row and its change-log entry in one transaction), and the reads of what holds now.

Until the owner saves a calendar, the workspace calendar is Monday to Friday without
holidays in this computer's time zone (its IANA name from ``TZ`` or ``/etc/localtime``),
or in UTC where the computer does not name one (Windows): read afresh each time, so that a
workspace nobody has set up counts its deadlines on the days its user sees. Saving one
(the Calendar dialog, ``accord calendar``, the demo) fixes it for everybody.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection, func, insert, select

from domain.agreement import Agreement, AgreementVersion
from domain.calendar import WorkCalendar
from domain.errors import ValidationError
from domain.queue import QueueRules
from domain.users import User
from storage.change_log import log_change
from storage.schema import AgreementVersionRow, WorkCalendarRow, stored_utc, table_of, utcnow
from storage.workspace import Workspace

agreement_versions = table_of(AgreementVersionRow)
calendars = table_of(WorkCalendarRow)


class SqlAgreementStore:
    """``AgreementStore`` and ``CalendarStore``: each save one transaction."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def save_agreement(self, agreement: Agreement, user: User) -> AgreementVersion:
        document = agreement.to_document()
        with self.workspace.write() as conn:
            number = (conn.execute(select(func.max(agreement_versions.c.number))).scalar() or 0) + 1
            at = utcnow()
            conn.execute(
                insert(agreement_versions).values(
                    number=number, document=document, created_at=at, created_by=user.name
                )
            )
            log_change(conn, user, "agreement_versions", None, "save", {"number": number})
        return AgreementVersion(agreement, number, user.name, at)

    def save_calendar(self, calendar: WorkCalendar, user: User) -> None:
        document = calendar.to_document()
        with self.workspace.write() as conn:
            conn.execute(
                insert(calendars).values(document=document, created_at=utcnow(),
                                         created_by=user.name)
            )  # fmt: skip
            log_change(conn, user, "work_calendars", None, "save", document)


def current_agreement(conn: Connection) -> Agreement:
    """The agreement in force: the newest version, or the default one before any is saved."""
    newest = agreement_history(conn, limit=1)
    return newest[0].agreement if newest else Agreement()


def current_agreement_version(conn: Connection) -> AgreementVersion | None:
    """The newest saved version, None before any is saved."""
    newest = agreement_history(conn, limit=1)
    return newest[0] if newest else None


def agreement_history(conn: Connection, limit: int | None = None) -> list[AgreementVersion]:
    """The agreement's versions, newest first."""
    rows = conn.execute(
        select(agreement_versions).order_by(agreement_versions.c.number.desc()).limit(limit)
    )
    return [
        AgreementVersion(
            Agreement.from_document(row.document),
            row.number,
            row.created_by,
            stored_utc(row.created_at),
        )
        for row in rows
    ]


def current_calendar(conn: Connection) -> WorkCalendar:
    """The workspace calendar: the newest saved, or :func:`default_calendar`."""
    document = conn.execute(
        select(calendars.c.document).order_by(calendars.c.id.desc()).limit(1)
    ).scalar()
    return default_calendar() if document is None else WorkCalendar.from_document(document)


def default_calendar() -> WorkCalendar:
    """Monday to Friday, no holidays, in this computer's time zone when it names one."""
    for name in (os.environ.get("TZ", "").lstrip(":"), _zone_of_localtime()):
        if name:
            try:
                return WorkCalendar(name)
            except ValidationError:
                continue
    return WorkCalendar()


def _zone_of_localtime() -> str:
    """``Europe/Vienna`` from ``/etc/localtime -> /usr/share/zoneinfo/Europe/Vienna``."""
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        return ""
    _, found, name = target.partition("zoneinfo/")
    return name if found else ""


def queue_rules(conn: Connection) -> QueueRules:
    """The call queue's rules as the agreement and the calendar set them: a hand-off's
    first-touch deadline is the agreement's business days on the workspace calendar."""
    return QueueRules(
        first_touch_business_days=current_agreement(conn).sales.first_touch_days,
        calendar=current_calendar(conn),
    )
