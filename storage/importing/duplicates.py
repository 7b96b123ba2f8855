"""Possible duplicates an import kept apart: listed for review, merged or kept both.

An import keeps a row apart when its website matches a stored account but its name and
country both differ (:func:`domain.importing.possible_duplicate`): it becomes a new
account, flagged here, until someone decides. Merging moves the imported account's
contacts to the stored account, fills the stored account's empty fields from it (the
import's own "fill" rule) and leaves the imported account as a tombstone, in one
transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, func, select, update

from domain.errors import AccordError, NotFound
from domain.fields import ACCOUNT_FIELDS
from domain.importing import Brief, OnDuplicate, PossibleDuplicate, merge
from domain.users import User
from domain.values import counted
from storage.change_log import log_change
from storage.icps import rescore_with_active
from storage.importing.importer import ACCOUNT_VALUES, accounts, batches, contacts, flags
from storage.keys import derived_columns
from storage.queries import LIVE_ACCOUNT
from storage.queue_facts import refresh_queue_facts
from storage.schema import DossierRow, TargetRow, table_of, utcnow
from storage.sla_facts import refresh_sla_facts
from storage.workspace import Workspace

target_list = table_of(TargetRow)
dossiers = table_of(DossierRow)

MERGED = "merged"
KEPT_BOTH = "kept both"

_imported = accounts.alias("imported")
_stored = accounts.alias("stored")
#: Flags still to decide: nobody settled them, and both accounts are live (an undone
#: import or a deleted account settles them by itself).
_OPEN = (
    flags.c.settled_at.is_(None) & _imported.c.deleted_at.is_(None) & _stored.c.deleted_at.is_(None)
)
_JOINED = flags.join(_imported, _imported.c.id == flags.c.account_id).join(
    _stored, _stored.c.id == flags.c.existing_id
)


class CannotMerge(AccordError):
    """The imported account carries work that a merge would have to move by hand."""


def to_review(workspace: Workspace) -> dict[uuid.UUID, int]:
    """How many possible duplicates each import batch still has to review."""
    with workspace.read() as conn:
        rows = conn.execute(
            select(flags.c.batch_id, func.count()).select_from(_JOINED).where(_OPEN)
            .group_by(flags.c.batch_id)
        ).all()  # fmt: skip
    return {batch: count for batch, count in rows}


def possible_duplicates(workspace: Workspace, batch_id: uuid.UUID) -> list[PossibleDuplicate]:
    """The possible duplicates of one import still to review, in the file's order."""

    def brief(row: Any, prefix: str) -> Brief:
        return Brief(*(row._mapping[f"{prefix}_{c}"] for c in ("id", "name", "website", "country")))

    columns: list[Any] = [flags.c.id, flags.c.row_number, batches.c.file_name]
    for table, prefix in ((_imported, "imported"), (_stored, "stored")):
        columns += [table.c[c].label(f"{prefix}_{c}") for c in ("id", "name", "website", "country")]
    with workspace.read() as conn:
        rows = conn.execute(
            select(*columns)
            .select_from(_JOINED.join(batches, batches.c.id == flags.c.batch_id))
            .where(_OPEN, flags.c.batch_id == batch_id)
            .order_by(flags.c.row_number)
        ).all()
    return [
        PossibleDuplicate(
            row.id,
            row.row_number,
            row.file_name,
            brief(row, "imported"),
            brief(row, "stored"),
        )
        for row in rows
    ]


def _open_flag(conn: Connection, flag_id: uuid.UUID) -> Any:
    flag = conn.execute(
        select(flags, _imported.c.name.label("imported"), _stored.c.name.label("stored"))
        .select_from(_JOINED)
        .where(flags.c.id == flag_id)
    ).first()
    if flag is None:
        raise NotFound("This possible duplicate is no longer in the workspace.")
    if flag.settled_at is not None:
        raise NotFound(
            f"{flag.imported} and {flag.stored} were already reviewed by {flag.settled_by} "
            f"({flag.outcome})."
        )
    return flag


def _settle(conn: Connection, user: User, flag: Any, outcome: str) -> None:
    conn.execute(
        update(flags)
        .where(flags.c.id == flag.id)
        .values(outcome=outcome, settled_at=utcnow(), settled_by=user.name)
    )


def keep_both(workspace: Workspace, user: User, flag_id: uuid.UUID) -> str:
    """Decide that the imported account and the stored one are two companies."""
    with workspace.write() as conn:
        flag = _open_flag(conn, flag_id)
        _settle(conn, user, flag, KEPT_BOTH)
        message = f"{flag.imported} and {flag.stored} are kept as two accounts."
        log_change(conn, user, "accounts", flag.account_id, "keep both", {"summary": message})
    return message


def merge_possible_duplicate(workspace: Workspace, user: User, flag_id: uuid.UUID) -> str:
    """Merge the imported account into the stored one, in one transaction: its contacts
    move over, the stored account's empty fields take its values, and it is removed."""
    now = utcnow()
    with workspace.write() as conn:
        flag = _open_flag(conn, flag_id)
        imported, stored = (
            _live_account(conn, flag, i) for i in (flag.account_id, flag.existing_id)
        )
        if busy := _work_on(conn, flag.account_id):
            raise CannotMerge(
                f"{imported['name']} {busy}, which a merge does not move: "
                "move it by hand first, or keep both."
            )
        bookkeeping = {"updated_at": now, "changed_by": user.name}
        changes = merge({k: stored[k] for k in ACCOUNT_VALUES},
                        {k: imported[k] for k in ACCOUNT_VALUES}, OnDuplicate.FILL)  # fmt: skip
        values = {**changes, **derived_columns({**stored, **changes})} if changes else {}
        conn.execute(
            update(accounts)
            .where(accounts.c.id == stored["id"])
            .values(**values, **bookkeeping, version=accounts.c.version + 1)
        )
        moved = conn.execute(
            update(contacts)
            .where(contacts.c.account_id == imported["id"], contacts.c.deleted_at.is_(None))
            .values(account_id=stored["id"], **bookkeeping, version=contacts.c.version + 1)
        ).rowcount
        conn.execute(
            update(accounts)
            .where(accounts.c.id == imported["id"])
            .values(deleted_at=now, **bookkeeping, version=accounts.c.version + 1)
        )
        _settle(conn, user, flag, MERGED)
        rescore_with_active(conn, accounts.c.id == stored["id"])
        refresh_sla_facts(conn, [imported["id"]])
        refresh_queue_facts(conn, [imported["id"]])
        labels = {f.name: f.label for f in ACCOUNT_FIELDS} | {"custom": "custom fields"}
        filled = ", ".join(labels[name] for name in changes)
        message = (
            f"{imported['name']} is merged into {stored['name']}: "
            f"{counted(moved, 'contact')} moved over, "
            + (f"{filled} filled in from it." if filled else "no empty field to fill.")
        )
        log_change(conn, user, "accounts", stored["id"], "merge",
                   {"summary": message, "removed": str(imported["id"])})  # fmt: skip
    return message


def _live_account(conn: Connection, flag: Any, account_id: uuid.UUID) -> dict[str, Any]:
    columns = [accounts.c[n] for n in ACCOUNT_VALUES] + [accounts.c.id]
    row = conn.execute(select(*columns).where(accounts.c.id == account_id, LIVE_ACCOUNT)).first()
    if row is None:
        raise NotFound(
            f"{flag.imported} or {flag.stored} was deleted since the import: nothing to merge."
        )
    return {**row._mapping, "custom": row.custom or {}}


def _work_on(conn: Connection, account_id: uuid.UUID) -> str | None:
    """What a merge would leave behind on the imported account, said as a clause."""
    if conn.execute(
        select(target_list.c.id).where(
            target_list.c.account_id == account_id, target_list.c.deleted_at.is_(None)
        )
    ).first():
        return "is on the target list"
    if conn.execute(
        select(dossiers.c.id).where(
            dossiers.c.account_id == account_id, dossiers.c.deleted_at.is_(None)
        )
    ).first():
        return "has a dossier"
    return None
