"""The stored fit of every live account under the active ICP (the ``account_scores`` table).

Every live account has one row; score and tier stay NULL until an ICP is applied. (A
deleted account keeps its row until the next apply: every query joins live accounts.)
Queries over accounts read them with :func:`stored` or by joining :data:`scores`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    ScalarSelect,
    Uuid,
    and_,
    delete,
    func,
    insert,
    literal,
    null,
    select,
)

from domain.icp import IcpVersion
from storage.goal_facts import refresh_goal_segments
from storage.icp_sql import included_sql, scaled_sql, score_of, tier_of
from storage.queries import LIVE_ACCOUNT
from storage.queue_facts import refresh_queue_scores
from storage.schema import AccountRow, AccountScoreRow, table_of
from storage.segments import refresh_scored_segments
from storage.sla_facts import refresh_tiers

accounts = table_of(AccountRow)
scores = table_of(AccountScoreRow)
COLUMNS = ["account_id", "score", "tier", "icp_version_id"]


def stored(column: str) -> ScalarSelect[Any]:
    """The account's stored ``score``, ``tier`` or ``icp_version_id``, for queries over
    accounts."""
    return (
        select(scores.c[column])
        .where(scores.c.account_id == accounts.c.id)
        .correlate(accounts)
        .scalar_subquery()
    )


def store_scores(
    conn: Connection,
    version: IcpVersion | None,
    where: ColumnElement[bool],
    *,
    replace: bool = True,
) -> None:
    """Write the score rows of the live accounts ``where`` selects: their fit under
    ``version``, or unscored when no ICP is applied. ``replace=False`` when the caller has
    already removed their rows."""
    chosen = and_(LIVE_ACCOUNT, where)
    if replace:
        conn.execute(
            delete(scores).where(scores.c.account_id.in_(select(accounts.c.id).where(chosen)))
        )
    if version is None:
        rows = select(accounts.c.id, null(), null(), null()).where(chosen)
    else:
        icp = version.icp
        # Each account's must-haves and points are worked out once, in a subquery that
        # hands its rows on one at a time: written inline, the tier would repeat the whole
        # score expression twice over. Its OFFSET 0 keeps both databases from merging it
        # into the outer query (and SQLite from first writing all of it to a temporary
        # table, as it does for a materialized CTE: a third of an apply's time).
        fit = (
            select(
                accounts.c.id.label("account_id"),
                included_sql(icp).label("included"),
                scaled_sql(icp).label("scaled"),
            )
            .where(chosen)
            .offset(0)
            .subquery("fit")
        )
        included = fit.c.included.is_(True)
        rows = select(
            fit.c.account_id,
            score_of(icp, included, fit.c.scaled),
            tier_of(icp, included, fit.c.scaled),
            literal(version.id, Uuid),
        )
    conn.execute(insert(scores).from_select(COLUMNS, rows))
    refresh_tiers(conn, select(accounts.c.id).where(chosen))
    refresh_goal_segments(conn, select(accounts.c.id).where(chosen))
    refresh_scored_segments(conn, select(accounts.c.id).where(chosen))
    refresh_queue_scores(conn, select(accounts.c.id).where(chosen))


def count_score_rows(conn: Connection) -> int:
    """How many score rows there are (one per account, scored or not)."""
    return int(conn.execute(select(func.count()).select_from(scores)).scalar_one())


def count_scored(conn: Connection) -> int:
    """How many accounts have a score."""
    return int(conn.execute(select(func.count()).where(scores.c.score.is_not(None))).scalar_one())


def clear_scores(conn: Connection) -> None:
    """Remove every score row (before all accounts are scored again)."""
    conn.execute(delete(scores))
    refresh_tiers(conn, None)
    # every live account is scored again next, its facts' segments and score with it: the
    # deleted ones' goal's facts alone are left without a score row (they keep counting)
    deleted = select(accounts.c.id).where(accounts.c.deleted_at.is_not(None))
    refresh_goal_segments(conn, deleted)
    refresh_scored_segments(conn, deleted)
