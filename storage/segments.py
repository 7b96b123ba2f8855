"""The closed loop's segments of every account (``account_segments``): its tier as scored
now, the ICP version that put it on the target list, its industry, its source, the rep who
owns it and the campaigns it engaged with (one text), one narrow row per account, so that
the closed loop's sections group the accounts they count by reading one row each instead of
looking up each account, its score and its target (a million lookups in random order into
the widest table of the workspace) and grouping the whole engagement by account.

It holds nothing of its own: :func:`refresh_segments` works the rows of some accounts out
again from ``accounts``, ``account_scores`` and ``targets``; every write to the target list
calls it for the accounts it touched, in its own transaction, and every scoring copies the
segments in (:func:`refresh_scored_segments`): every change of an account's fields and every
new account is scored; every write of engagement (an import and its undo, the demo, a sync)
works the campaigns of the accounts it touched out again (:func:`refresh_campaigns`). A
property test holds the table to a recomputation from the raw rows after random writes.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Select,
    Update,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from storage.queries import columns_read
from storage.schema import (
    AccountRow,
    AccountScoreRow,
    AccountSegmentRow,
    EngagementRow,
    TargetRow,
    table_of,
)
from storage.summaries import chooser, refresh, replaced

account_segments = table_of(AccountSegmentRow)
accounts = table_of(AccountRow)
scores = table_of(AccountScoreRow)
targets = table_of(TargetRow)
engagements = table_of(EngagementRow)

COLUMNS = ["account_id", "tier", "icp_version_id", "industry", "source", "owner_id", "campaigns"]

#: What separates an account's campaigns in one text: no stored text holds a control
#: character (``domain.values.clean_text`` at every door).
APART = "\x1f"


def _campaign_set(account_id: ColumnElement[Any], of: FromClause) -> ColumnElement[str]:
    """The campaigns the account whose id is ``account_id`` (a column of ``of``) engaged
    with, each once, in their order, :data:`APART` between them (none: NULL). Each database
    adds them up in the order the subquery gives them."""
    e = engagements.c
    each = (
        select(e.campaign)
        .where(e.account_id == account_id, e.campaign.is_not(None), e.campaign != "")
        .distinct()
        .order_by(e.campaign)
        .correlate(of)
        .subquery("each_campaign")
    )
    return select(func.aggregate_strings(each.c.campaign, APART)).scalar_subquery()


def _recomputed(chosen: Any) -> Select[Any]:
    """The rows of the accounts ``chosen`` picks (a function of an account id column)."""
    return (
        select(
            accounts.c.id,
            scores.c.tier,
            targets.c.icp_version_id,
            accounts.c.industry,
            accounts.c.source,
            targets.c.owner_id,
            _campaign_set(accounts.c.id, accounts),
        )
        .select_from(
            accounts.outerjoin(scores, scores.c.account_id == accounts.c.id).outerjoin(
                targets, targets.c.account_id == accounts.c.id
            )
        )
        .where(chosen(accounts.c.id))
    )


@functools.cache
def _statements(some: bool) -> tuple[Any, ...]:
    """The refresh's statements, for the accounts bound as ``ids`` (``some``) or for all."""
    chosen = chooser(some)
    return replaced(account_segments, chosen, _recomputed(chosen), COLUMNS)


def refresh_segments(conn: Connection, account_ids: Iterable[uuid.UUID] | None) -> None:
    """Work the segments of ``account_ids`` (None: every account) out again, in the caller's
    transaction."""
    refresh(conn, _statements, account_ids)


def refresh_scored_segments(conn: Connection, account_ids: Any) -> None:
    """Copy the tier, industry and source of ``account_ids`` (a SELECT of ids), just scored,
    into their segments, and add the rows of those that have none yet (a new account): only
    the rows whose segments changed are written, as applying an ICP scores every account."""
    of = scores.c.account_id == account_segments.c.account_id
    tier = select(scores.c.tier).where(of).scalar_subquery()
    own = accounts.c.id == account_segments.c.account_id
    industry = select(accounts.c.industry).where(own).scalar_subquery()
    source = select(accounts.c.source).where(own).scalar_subquery()
    now = {"tier": tier, "industry": industry, "source": source}
    changed = or_(
        *(account_segments.c[name].is_distinct_from(value) for name, value in now.items())
    )
    conn.execute(
        update(account_segments)
        .where(account_segments.c.account_id.in_(account_ids), changed)
        .values(now)
    )
    missing = ~exists().where(account_segments.c.account_id == accounts.c.id)
    new = _recomputed(lambda column: column.in_(account_ids)).where(missing)
    conn.execute(insert(account_segments).from_select(COLUMNS, new))


def _campaigns_of(chosen: Any) -> Update:
    """The statement that works the campaigns of the accounts ``chosen`` picks (a function
    of an account id column) out again."""
    of = account_segments.c.account_id
    campaigns = _campaign_set(of, account_segments)
    return update(account_segments).where(chosen(of)).values(campaigns=campaigns)


@functools.cache
def _campaign_statements(some: bool) -> tuple[Any, ...]:
    """The statements that work the campaigns of the accounts bound as ``ids`` (``some``) or
    of all out again."""
    return (_campaigns_of(chooser(some)),)


def refresh_campaigns(
    conn: Connection, account_ids: Iterable[uuid.UUID] | Select[Any] | None
) -> None:
    """Work the campaigns of ``account_ids`` (a SELECT of them, or None: every account),
    whose engagement a write changed, out again, in the caller's transaction. A SELECT is
    run inside the one statement: a big import's tens of thousands of accounts are neither
    read nor sorted nor bound again."""
    if isinstance(account_ids, Select):
        conn.execute(_campaigns_of(lambda column: column.in_(account_ids)))
        return
    refresh(conn, _campaign_statements, account_ids)


def segment_rows(conn: Connection) -> list[Any]:
    """Every account's segments as recomputed from the raw rows now (what the table must
    hold; the property test compares the two)."""
    return list(conn.execute(_recomputed(chooser(False)).order_by(accounts.c.id)))


def worked_out_from() -> Mapping[str, frozenset[str]]:
    """The columns the segments are worked out from."""
    return columns_read(*_statements(False))
