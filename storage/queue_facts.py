"""What ranks an account in its rep's call queue, kept beside the rows it comes from
(``queue_facts``): per live target of a live account at an open stage, its owner, priority,
hand-off and score, its last touch and the follow-up date of its current interaction, so
that the head of a queue (the dashboard's dossiers to write) is read in an index in queue
order instead of working out the facts of every account a rep owns.

The facts are the call queue's own (:func:`last_touch`, :func:`current_interaction`, which
``storage.queue`` reads too); engagement, which counts from the moment the queue is read,
is not kept: the head looks it up for the accounts it reaches. :func:`refresh_queue_facts`
works the rows of some accounts out again from the raw rows; every write that changes
targets, interactions or an account's life calls it for the accounts it touched, in its own
transaction, and every scoring copies the score in (:func:`refresh_queue_scores`). A
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
    Select,
    exists,
    func,
    select,
    true,
    update,
)

from domain.queue import CLOSED
from storage.queries import columns_read
from storage.schema import (
    AccountRow,
    AccountScoreRow,
    InteractionRow,
    QueueFactRow,
    TargetRow,
    table_of,
)
from storage.summaries import chooser, refresh, replaced

queue_facts = table_of(QueueFactRow)
accounts = table_of(AccountRow)
targets = table_of(TargetRow)
scores = table_of(AccountScoreRow)
interactions = table_of(InteractionRow)


def last_touch(account_id: ColumnElement[Any]) -> Any:
    """The time of the account's latest interaction (a corrected one too)."""
    touch = interactions.alias("touch")
    return select(func.max(touch.c.at)).where(touch.c.account_id == account_id).scalar_subquery()


def current_interaction(account_id: ColumnElement[Any], column: str = "id") -> Any:
    """``column`` of the account's current interaction: its latest that no correction
    supersedes."""
    newest, later = interactions.alias("newest"), interactions.alias("later")
    return (
        select(newest.c[column])
        .where(
            newest.c.account_id == account_id,
            ~exists().where(later.c.supersedes_id == newest.c.id),
        )
        .order_by(newest.c.at.desc(), newest.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _score(account_id: ColumnElement[Any]) -> Any:
    return select(scores.c.score).where(scores.c.account_id == account_id).scalar_subquery()


def _facts(chosen: Any) -> Select[Any]:
    """The facts of the open targets of live accounts ``chosen`` picks (a function of an
    account id column), from the raw rows."""
    mine = targets.c.account_id
    return select(
        mine.label("account_id"),
        targets.c.owner_id,
        targets.c.priority,
        _score(mine).label("score"),
        targets.c.handed_off_at,
        last_touch(mine).label("last_touch"),
        current_interaction(mine, "follow_up").label("follow_up"),
    ).where(
        targets.c.deleted_at.is_(None),
        targets.c.stage.not_in([stage.value for stage in CLOSED]),
        exists().where(accounts.c.id == mine, accounts.c.deleted_at.is_(None)),
        chosen(mine),
    )


@functools.cache
def _statements(some: bool) -> tuple[Any, ...]:
    """The refresh's statements, for the accounts bound as ``ids`` (``some``) or for all:
    built once, as a write that logs one interaction should not compose them again."""
    chosen = chooser(some)
    facts = _facts(chosen)
    return replaced(queue_facts, chosen, facts)


def worked_out_from() -> Mapping[str, frozenset[str]]:
    """The columns the queue's facts are worked out from."""
    return columns_read(*_statements(False))


def queue_fact_rows(conn: Connection) -> list[Any]:
    """Every open target's facts as worked out from the raw rows now (what the table must
    hold: the property test compares the two)."""
    return list(conn.execute(_facts(lambda column: true())))


def refresh_queue_facts(conn: Connection, account_ids: Iterable[uuid.UUID] | None) -> None:
    """Work the queue's facts of ``account_ids`` (None: every account) out again from the
    raw rows, in the caller's transaction."""
    refresh(conn, _statements, account_ids)


def refresh_queue_scores(conn: Connection, account_ids: Any | None) -> None:
    """Copy the score of ``account_ids`` (a SELECT of ids; None: every account) into their
    queue's facts, after their scores were written: only the rows whose score changed are
    written, since each write moves the row in both of the table's indexes."""
    score = _score(queue_facts.c.account_id)
    statement = update(queue_facts).where(queue_facts.c.score.is_distinct_from(score))
    statement = statement.values(score=score)
    if account_ids is not None:
        statement = statement.where(queue_facts.c.account_id.in_(account_ids))
    conn.execute(statement)


def with_queue_facts(conn: Connection, account_ids: Any) -> list[uuid.UUID]:
    """Of ``account_ids`` (a SELECT of ids), those in a queue: what a write that can only
    take accounts away (an import undone) refreshes."""
    found = select(queue_facts.c.account_id).where(queue_facts.c.account_id.in_(account_ids))
    return list(conn.execute(found).scalars())
