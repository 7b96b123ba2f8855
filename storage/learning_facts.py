"""The learnings digest's facts (``learning_facts``): one narrow row per learning that stands,
its account, its time and how telling it is, in the order of the account, so that the digest
counts a period's learnings per account without reading the interactions (a few million
rows, each with its text, looked up one by one on a big workspace).

It holds nothing of its own: :func:`refresh_learning_facts` works the rows of some accounts
out again from their interactions, and every write of interactions calls it for the
accounts it touched, in its own transaction (a logged or corrected interaction, the demo,
a sync). A property test holds the table to a recomputation from the raw rows after random
writes.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, case, select

from domain.interactions import LeadVerdict, Outcome
from storage.goal_facts import kept
from storage.queries import columns_read
from storage.schema import InteractionRow, LearningFactRow, table_of
from storage.summaries import chooser, refresh, replaced

learning_facts = table_of(LearningFactRow)
interactions = table_of(InteractionRow)

#: Outcomes that say most about an account: how a deal went, or why it did not.
_TELLING = (Outcome.WON, Outcome.LOST, Outcome.NOT_A_FIT, Outcome.OPPORTUNITY)
#: How telling a learning can be, the most first.
LEVELS = (2, 1, 0)


def telling() -> ColumnElement[int]:
    """How telling an interaction's learning is: 2 for a deal won, lost or opened, a lead
    rejected or not a fit, 1 for a meaningful conversation, 0 for the rest."""
    return case(
        (interactions.c.outcome.in_([o.value for o in _TELLING]), 2),
        (interactions.c.lead == LeadVerdict.REJECTED.value, 2),
        (interactions.c.meaningful.is_(True), 1),
        else_=0,
    )


#: An interaction whose learning the digest counts: something was learned, and no later
#: entry corrects it.
LEARNED = (interactions.c.learned != "", kept(interactions.c.id))

COLUMNS = ["account_id", "at", "interaction_id", "telling"]


def _recomputed(chosen: Any) -> Select[Any]:
    """The rows of the accounts ``chosen`` picks (a function of an account id column)."""
    i = interactions.c
    return select(i.account_id, i.at, i.id, telling()).where(*LEARNED, chosen(i.account_id))


@functools.cache
def _statements(some: bool) -> tuple[Any, ...]:
    """The refresh's statements, for the accounts bound as ``ids`` (``some``) or for all."""
    chosen = chooser(some)
    return replaced(learning_facts, chosen, _recomputed(chosen), COLUMNS)


def refresh_learning_facts(conn: Connection, account_ids: Iterable[uuid.UUID] | None) -> None:
    """Work the learnings of ``account_ids`` (None: every account) out again, in the
    caller's transaction."""
    refresh(conn, _statements, account_ids)


def learning_fact_rows(conn: Connection) -> list[Any]:
    """Every learning as recomputed from the raw rows now (what the table must hold)."""
    return list(conn.execute(_recomputed(chooser(False))))


def worked_out_from() -> Mapping[str, frozenset[str]]:
    """The columns the learnings' facts are worked out from."""
    return columns_read(*_statements(False))
