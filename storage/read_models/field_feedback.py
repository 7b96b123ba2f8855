"""The field feedback view's queries: what reps reported back after their calls and visits
(what they learned, how good the lead was, why they rejected it), newest first, filtered
and paged in SQL.

A line is an interaction that carries feedback (learned text, a lead-quality rating or an
accepted/rejected verdict) and that no later entry corrects: a superseded entry is left
out, its correction stands in its place. Pages follow each other by their last line's time
and id (keyset), so that the hundredth page costs what the first does; the newest lines
come from the interactions' time index, one rep's from their (logged_by, at) index.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select, tuple_

from domain.interactions import LeadVerdict, Outcome
from domain.users import Action
from storage.icps import list_versions
from storage.interactions import interactions
from storage.schema import AccountRow, AccountScoreRow, TargetRow, stored_utc, table_of
from storage.targets import users_by_name
from storage.workspace import Workspace

accounts = table_of(AccountRow)
scores = table_of(AccountScoreRow)
targets = table_of(TargetRow)

#: Lines a page holds.
PAGE_SIZE = 100
#: The most industries or sources a filter offers (a longer list is no use to pick from).
MAX_CHOICES = 500


@dataclass(frozen=True)
class FeedbackFilter:
    """Which feedback the view shows; None (or False) shows every line."""

    rep: str | None = None
    tier: str | None = None
    #: the ICP version that put the account on the target list
    icp_version_id: uuid.UUID | None = None
    industry: str | None = None
    source: str | None = None
    #: the lead-quality rating, 1 to 5
    rating: int | None = None
    #: only the leads the rep rejected
    rejected: bool = False


@dataclass(frozen=True)
class FeedbackLine:
    interaction_id: uuid.UUID
    account_id: uuid.UUID
    account: str
    at: datetime
    rep: str
    outcome: Outcome
    tier: str | None
    industry: str | None
    source: str | None
    rating: int | None
    lead: LeadVerdict | None
    reason: str
    learned: str

    @property
    def after(self) -> tuple[datetime, uuid.UUID]:
        """Where the next page starts."""
        return self.at, self.interaction_id


@dataclass(frozen=True)
class FeedbackChoices:
    """What the view's filters offer: the people who log, the accounts' industries and
    sources, the ICP versions (id, label)."""

    reps: list[str]
    industries: list[str]
    sources: list[str]
    versions: list[tuple[uuid.UUID, str]]


def _corrected() -> Any:
    later = interactions.alias("later")
    return exists().where(later.c.supersedes_id == interactions.c.id)


def _where(chosen: FeedbackFilter) -> list[Any]:
    conditions: list[Any] = [
        or_(interactions.c.learned != "", interactions.c.quality.is_not(None),
            interactions.c.lead.is_not(None)),
        ~_corrected(),
        accounts.c.deleted_at.is_(None),
    ]  # fmt: skip
    if chosen.rep is not None:
        # A rep's lines come from their (logged_by, at) index, unless the rating's or the
        # rejected leads' index, on fewer rows, can give them.
        narrower = chosen.rating is not None or chosen.rejected
        rep = _unindexed(interactions.c.logged_by) if narrower else interactions.c.logged_by
        conditions.append(rep == chosen.rep)
    if chosen.tier is not None:
        conditions.append(scores.c.tier == chosen.tier)
    if chosen.icp_version_id is not None:
        conditions.append(targets.c.icp_version_id == chosen.icp_version_id)
    if chosen.industry is not None:
        conditions.append(_unindexed(accounts.c.industry) == chosen.industry)
    if chosen.source is not None:
        conditions.append(_unindexed(accounts.c.source) == chosen.source)
    if chosen.rating is not None:
        conditions.append(interactions.c.quality == chosen.rating)
    if chosen.rejected:
        conditions.append(interactions.c.lead == LeadVerdict.REJECTED.value)
    return conditions


def _unindexed(column: Any) -> Any:
    """``column`` as an expression that no index serves, so that the database does not
    start from it: one industry or source has tens of thousands of accounts, whose
    interactions would all be read and sorted, while the newest lines, read by time, reach a
    page of any common one within a few thousand rows. (SQLite, without statistics, takes
    any index on an equality to be the narrowest.)"""
    return column + ""


def _joined(chosen: FeedbackFilter) -> Any:
    """The interactions with their accounts and fit; with the target list only to filter by
    the ICP version that put an account on it."""
    joined = interactions.join(accounts, accounts.c.id == interactions.c.account_id).outerjoin(
        scores, scores.c.account_id == interactions.c.account_id
    )
    if chosen.icp_version_id is None:
        return joined
    listed = and_(targets.c.account_id == interactions.c.account_id, targets.c.deleted_at.is_(None))
    return joined.join(targets, listed)


def feedback_page(
    workspace: Workspace,
    chosen: FeedbackFilter,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int = PAGE_SIZE,
) -> list[FeedbackLine]:
    """The ``limit`` newest lines of ``chosen`` that come after ``after`` (the previous
    page's last :attr:`FeedbackLine.after`), newest first."""
    conditions = _where(chosen)
    if after is not None:
        conditions.append(tuple_(interactions.c.at, interactions.c.id) < tuple_(*after))
    statement = (
        select(
            interactions.c.id, interactions.c.account_id, accounts.c.name, interactions.c.at,
            interactions.c.logged_by, interactions.c.outcome, scores.c.tier,
            accounts.c.industry, accounts.c.source, interactions.c.quality,
            interactions.c.lead, interactions.c.reason, interactions.c.learned,
        )
        .select_from(_joined(chosen))
        .where(*conditions)
        .order_by(interactions.c.at.desc(), interactions.c.id.desc())
        .limit(limit)
    )  # fmt: skip
    with workspace.read() as conn:
        return [_line(row) for row in conn.execute(statement)]


def _line(row: Any) -> FeedbackLine:
    return FeedbackLine(
        interaction_id=row.id,
        account_id=row.account_id,
        account=row.name,
        at=stored_utc(row.at),
        rep=row.logged_by,
        outcome=Outcome(row.outcome),
        tier=row.tier,
        industry=row.industry,
        source=row.source,
        rating=row.quality,
        lead=LeadVerdict(row.lead) if row.lead else None,
        reason=row.reason,
        learned=row.learned,
    )


def feedback_choices(workspace: Workspace) -> FeedbackChoices:
    """What the filters offer, read once when the view opens: the people who log, the
    accounts' industries and sources (each found by one index seek, not by reading a million
    accounts), and the ICP versions."""
    with workspace.read() as conn:
        reps = sorted((name for name, user in users_by_name(conn).items()
                       if user.can(Action.LOG_INTERACTION)), key=str.casefold)  # fmt: skip
        industries = _values(conn, accounts.c.industry)
        sources = _values(conn, accounts.c.source)
    listed = [(version.id, version.label) for version in list_versions(workspace)]
    return FeedbackChoices(reps, industries, sources, listed)


def _values(conn: Connection, column: Any) -> list[str]:
    """The first :data:`MAX_CHOICES` distinct values of ``column`` among the live accounts,
    by case-insensitive order: each the smallest one after the last, from the column's
    index (a loose index scan)."""
    found: list[str] = []
    while len(found) < MAX_CHOICES:
        statement = select(func.min(column)).where(accounts.c.deleted_at.is_(None))
        statement = statement.where(column > found[-1] if found else column.is_not(None))
        value = conn.execute(statement).scalar()
        if value is None:
            break
        found.append(value)
    return sorted((v for v in found if v.strip()), key=str.casefold)
