"""The interactions as a table to export: one row per logged entry (a corrected one too,
marked), oldest first, streamed. Times stay in UTC, as the header says."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select

from domain.interactions import Channel, Outcome
from domain.tables import ColumnKind, TableColumn, TableData
from storage.interactions import CORRECTED, accounts, contacts, interactions
from storage.workspace import Workspace

COLUMNS = [
    TableColumn("Account"),
    TableColumn("Website"),
    TableColumn("Rep"),
    TableColumn("Channel"),
    TableColumn("Outcome"),
    TableColumn("Time (UTC)", ColumnKind.DATETIME),  # as stored: the same on every computer
    TableColumn("Contact"),
    TableColumn("Meaningful"),
    TableColumn("Learned"),
    TableColumn("Lead quality", ColumnKind.INTEGER),
    TableColumn("Accepted or rejected"),
    TableColumn("Reason"),
    TableColumn("Commitments"),
    TableColumn("Next step"),
    TableColumn("Follow-up", ColumnKind.DATE),
    TableColumn("Value", ColumnKind.AMOUNT),
    TableColumn("Corrected"),
]
_STREAM = 2000


def interaction_statement() -> Select[Any]:
    """Every interaction with its account and contact, in :data:`COLUMNS`' order (the
    channel and outcome as stored: :func:`interaction_cells` words them)."""
    return select(
        accounts.c.name, accounts.c.website, interactions.c.logged_by, interactions.c.channel,
        interactions.c.outcome, interactions.c.at, contacts.c.name, interactions.c.meaningful,
        interactions.c.learned, interactions.c.quality, interactions.c.lead,
        interactions.c.reason, interactions.c.commitments, interactions.c.next_step,
        interactions.c.follow_up, interactions.c.value,
        CORRECTED,
    ).select_from(
        interactions.join(accounts, accounts.c.id == interactions.c.account_id)
        .outerjoin(contacts, contacts.c.id == interactions.c.contact_id)
    )  # fmt: skip


def interaction_table(
    workspace: Workspace, since: date | None = None, rep: str | None = None
) -> TableData:
    """Every interaction logged from ``since`` on (UTC), by ``rep`` (a user's name) if given."""
    wanted = []
    if since is not None:
        wanted.append(interactions.c.at >= datetime(since.year, since.month, since.day, tzinfo=UTC))
    if rep is not None:
        wanted.append(interactions.c.logged_by == rep)
    statement = interaction_statement().where(*wanted)
    with workspace.read() as conn:
        # Every interaction has its account, and the contact is an outer join: the rows are
        # the interactions', counted in their own indexes without the joins.
        count = conn.execute(
            select(func.count()).select_from(interactions).where(*wanted)
        ).scalar_one()
    rows = _rows(workspace, statement.order_by(interactions.c.at, interactions.c.id))
    return TableData("Interactions", COLUMNS, rows, count)


def _rows(workspace: Workspace, statement: Select[Any]) -> Iterator[list[Any]]:
    with workspace.read() as conn:
        yield from streamed(conn, statement, interaction_cells)


def streamed(
    conn: Connection, statement: Select[Any], cells: Callable[[Sequence[Any]], list[Any]]
) -> Iterator[list[Any]]:
    """The rows of ``statement`` as ``cells`` words them, read a few thousand at a time."""
    for row in conn.execution_options(yield_per=_STREAM).execute(statement):
        yield cells(row)


def interaction_cells(row: Sequence[Any]) -> list[Any]:
    """A row of :func:`interaction_statement` as the table's cells."""
    cells = list(row)
    cells[3], cells[4] = Channel(cells[3]).label, Outcome(cells[4]).label
    cells[7] = "yes" if cells[7] else "no"
    cells[16] = "yes" if cells[16] else ""
    return cells
