"""The closed loop's segments of every account (``account_segments``): its tier as scored
now, the ICP version that put it on the target list, its industry, its source and the rep
who owns it, one narrow row per account, so that the closed loop's sections group the
accounts they count by reading one row each instead of looking up each account, its score
and its target (a million lookups in random order into the widest table of the workspace).

It holds nothing of its own: :func:`refresh_segments` works the rows of some accounts out
again from ``accounts``, ``account_scores`` and ``targets``; every write to the target list
calls it for the accounts it touched, in its own transaction, and every scoring copies the
segments in (:func:`refresh_scored_segments`): every change of an account's fields and every
new account is scored. A property test holds the table to a recomputation from the raw rows
after random writes.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Select, exists, insert, or_, select, update

from storage.queries import columns_read
from storage.schema import AccountRow, AccountScoreRow, AccountSegmentRow, TargetRow, table_of
from storage.summaries import chooser, refresh, replaced

account_segments = table_of(AccountSegmentRow)
accounts = table_of(AccountRow)
scores = table_of(AccountScoreRow)
targets = table_of(TargetRow)

COLUMNS = ["account_id", "tier", "icp_version_id", "industry", "source", "owner_id"]


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


def segment_rows(conn: Connection) -> list[Any]:
    """Every account's segments as recomputed from the raw rows now (what the table must
    hold; the property test compares the two)."""
    return list(conn.execute(_recomputed(chooser(False)).order_by(accounts.c.id)))


def worked_out_from() -> Mapping[str, frozenset[str]]:
    """The columns the segments are worked out from."""
    return columns_read(*_statements(False))
