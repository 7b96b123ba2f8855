"""Which tables sync, which of their columns, and how a value travels as JSON.

Every table of the user's data syncs: accounts, contacts, the target list, dossiers and
their ratings and conflicts, users, and the history (interactions, stage changes,
exceptions, engagements, and the versions of the ICP, the lead definition, the goal, the
agreement, the calendar and the dossier template, the plan's sign-offs), which merges by
union of ids since each row is a new id. What does not sync:

- caches worked out from the rest (``account_scores``, the funnel's ``account_reach``, the
  agreement's ``handoff_facts``, ``follow_up_facts`` and ``follow_up_days``, the goal's
  ``goal_facts``, the call queue's ``queue_facts``, the closed loop's ``account_segments``
  and ``learning_facts``): each database recomputes them for the accounts a sync touched
  (storage.sync.derived.refresh_derived);
- an import's own bookkeeping (``import_batches``, ``import_changes``,
  ``possible_duplicates``, the rows' ``import_batch_id``): an import is undone on the
  database it ran on; what it wrote syncs as anybody's edits do;
- the change log (each database keeps its own: who did what there) and the sync tables;
- bookkeeping columns of a row (``version``, ``updated_at``, ``changed_by``): a sync
  sets them when it writes a row; and derived columns (search text, dedupe keys, country
  codes, phones in E.164, a dossier's completeness), worked out again from the synced ones.

A dossier's section texts sync section by section (``texts/<key>`` fields), so that two
people writing different sections of the same dossier both keep their text, as the dossier
editor merges them.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import JSON, Column, Date, DateTime, Table, Uuid

from domain.sync import SECTION
from storage.schema import Base, stored_utc
from storage.team import SYNC_TABLES

NOT_SYNCED = frozenset(
    {
        "account_scores",
        "account_reach",
        "handoff_facts",
        "follow_up_facts",
        "follow_up_days",
        "goal_facts",
        "queue_facts",
        "account_segments",
        "learning_facts",
        "import_batches",
        "import_changes",
        "possible_duplicates",
        "change_log",
    }
)
#: Columns of an editable record (storage.schema.Tracked) a sync sets itself when it writes.
BOOKKEEPING = frozenset({"version", "updated_at", "changed_by"})
LOCAL = frozenset({"id", "import_batch_id"})
DERIVED: Mapping[str, frozenset[str]] = {
    "accounts": frozenset({"country_code", "phone_e164", "domain_key", "name_key", "search_text"}),
    "contacts": frozenset({"email_key", "phone_e164"}),
    "dossiers": frozenset({"completeness", "search_text"}),
}
#: JSON columns whose keys sync one by one (a dossier's sections).
SECTIONED: Mapping[str, str] = {"dossiers": "texts"}
#: Who made a row's change, first found first: a revocation, an application, a settlement
#: is by someone other than who made the row.
AUTHORS = ("revoked_by", "applied_by", "settled_by", "changed_by", "logged_by", "signed_by",
           "granted_by", "created_by", "author")  # fmt: skip
#: A row's account, through the dossier it belongs to, for the tables that do not name it.
THROUGH_DOSSIER = frozenset({"dossier_ratings", "dossier_conflicts"})


@dataclass(frozen=True)
class Synced:
    """A synced table: its columns that travel, and how its rows are told apart (each
    worked out once: a sync asks for every row)."""

    table: Table
    columns: tuple[Column[Any], ...]
    authors: tuple[str, ...]

    @cached_property
    def name(self) -> str:
        return self.table.name

    @cached_property
    def uuid_key(self) -> bool:
        return isinstance(self.table.c.id.type, Uuid)

    @cached_property
    def tracked(self) -> bool:
        """An editable record: a sync sets its version, update time and editor."""
        return "version" in self.table.c

    @cached_property
    def tombstones(self) -> bool:
        """Deleted rows stay as tombstones (``deleted_at``) rather than being deleted."""
        return "deleted_at" in self.table.c

    @cached_property
    def sectioned(self) -> str | None:
        return SECTIONED.get(self.name)

    def record(self, key: Any) -> str:
        """The row's id as every database writes it: a UUID with its dashes."""
        if self.uuid_key:
            return str(key if isinstance(key, uuid.UUID) else uuid.UUID(str(key)))
        return str(key)

    def key(self, record: str) -> Any:
        return uuid.UUID(record) if self.uuid_key else int(record)


def _synced(table: Table) -> Synced:
    skipped = LOCAL | DERIVED.get(table.name, frozenset())
    if "version" in table.c:
        skipped |= BOOKKEEPING
    columns = tuple(c for c in table.columns if c.name not in skipped)
    return Synced(table, columns, tuple(a for a in AUTHORS if a in table.c))


#: The synced tables in the order their rows can be written (a row after those it names).
SYNCED: dict[str, Synced] = {
    table.name: _synced(table)
    for table in Base.metadata.sorted_tables
    if table.name not in NOT_SYNCED | SYNC_TABLES
}


def encoded(column: Column[Any], value: Any) -> Any:
    """A column's value as JSON holds it."""
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return stored_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def decoded(column: Column[Any], value: Any) -> Any:
    """A value from JSON as the column takes it."""
    if value is None or isinstance(column.type, JSON):
        return value
    if isinstance(column.type, Uuid):
        return uuid.UUID(value)
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    return value


def row_fields(
    synced: Synced, row: Mapping[str, Any], columns: Collection[str] | None = None
) -> dict[str, Any]:
    """A row's synced fields as they travel: each column (of ``columns`` when given), a
    sectioned one key by key."""
    fields: dict[str, Any] = {}
    for column in synced.columns:
        if columns is not None and column.name not in columns:
            continue
        value = row[column.name]
        if column.name == synced.sectioned:
            fields.update({f"{SECTION}{k}": v for k, v in (value or {}).items()})
        else:
            fields[column.name] = encoded(column, value)
    return fields


def column_values(synced: Synced, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The column values the synced ``fields`` give (sections gathered into their column;
    a field this Accord does not know is left out)."""
    values: dict[str, Any] = {}
    sectioned = synced.sectioned
    for column in synced.columns:
        if column.name == sectioned:
            values[column.name] = {
                name[len(SECTION) :]: text
                for name, text in fields.items()
                if name.startswith(SECTION) and text is not None
            }
        elif column.name in fields:
            values[column.name] = decoded(column, fields[column.name])
    return values


def column_of(field: str) -> str:
    """The column a synced field is kept in (a section: its sectioned column)."""
    return field[: field.index("/")] if field.startswith(SECTION) else field
