"""Interactions, stage changes and exceptions to the target list in the workspace: the store
:mod:`domain.interactions`' use cases talk to, inside one unit of work, and the reads of
one account's history."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, exists, insert, select, update
from sqlalchemy.orm import Session

from domain.accounts import Contact, ContactRepository
from domain.errors import NotFound, ValidationError
from domain.interactions import (
    Channel,
    Interaction,
    LeadVerdict,
    LogException,
    Outcome,
    StageChange,
)
from domain.targets import Stage
from domain.users import User
from storage.bulk import new_id
from storage.change_log import log_change
from storage.goal_facts import refresh_goal_facts
from storage.learning_facts import refresh_learning_facts
from storage.queue_facts import refresh_queue_facts
from storage.reach import refresh_reach
from storage.schema import (
    AccountRow,
    ContactRow,
    InteractionRow,
    LogExceptionRow,
    StageChangeRow,
    TargetRow,
    UserRow,
    stored_utc,
    table_of,
    utcnow,
)
from storage.sla_facts import refresh_sla_facts
from storage.targets import users_by_name

accounts = table_of(AccountRow)
contacts = table_of(ContactRow)
interactions = table_of(InteractionRow)
stage_changes = table_of(StageChangeRow)
log_exceptions = table_of(LogExceptionRow)
targets = table_of(TargetRow)
users = table_of(UserRow)

#: Whether a later entry corrects an interaction (made once: an alias costs milliseconds).
_later = interactions.alias("later")
CORRECTED = exists().where(_later.c.supersedes_id == interactions.c.id).label("corrected")
#: Whether no later entry corrects an interaction, for a read of many: the corrected ones
#: are few and listed once, where ``~CORRECTED`` looks up each interaction in turn.
UNCORRECTED = interactions.c.id.not_in(
    select(_later.c.supersedes_id).where(_later.c.supersedes_id.is_not(None))
)
_ENTRY_COLUMNS = [
    "account_id", "contact_id", "at", "channel", "outcome", "meaningful", "learned",
    "quality", "lead", "reason", "commitments", "next_step", "follow_up", "value",
    "supersedes_id", "logged_by", "logged_at",
]  # fmt: skip


def interaction_from_row(row: Any) -> Interaction:
    """An :class:`Interaction` from a row of the interactions table (as a mapping)."""
    return Interaction(
        account_id=row["account_id"],
        channel=Channel(row["channel"]),
        outcome=Outcome(row["outcome"]),
        at=stored_utc(row["at"]),
        contact_id=row["contact_id"],
        meaningful=row["meaningful"],
        learned=row["learned"],
        quality=row["quality"],
        lead=LeadVerdict(row["lead"]) if row["lead"] else None,
        reason=row["reason"],
        commitments=row["commitments"],
        next_step=row["next_step"],
        follow_up=row["follow_up"],
        value=row["value"],
        supersedes=row["supersedes_id"],
        id=row["id"],
        logged_by=row["logged_by"],
        logged_at=stored_utc(row["logged_at"]),
    )


def stage_change_from_row(row: Any) -> StageChange:
    return StageChange(
        account_id=row["account_id"],
        before=Stage(row["from_stage"]) if row["from_stage"] else None,
        after=Stage(row["to_stage"]),
        at=stored_utc(row["at"]),
        changed_by=row["changed_by"],
        interaction_id=row["interaction_id"],
        reason=row["reason"],
    )


def exception_from_row(row: Any) -> LogException:
    return LogException(
        id=row["id"],
        rep=row["rep"],
        account_id=row["account_id"],
        reason=row["reason"],
        granted_by=row["granted_by"],
        granted_at=stored_utc(row["granted_at"]),
        revoked_by=row["revoked_by"],
        revoked_at=stored_utc(row["revoked_at"]),
    )


def _stage_values(change: StageChange) -> dict[str, Any]:
    return {
        "id": new_id(),
        "account_id": change.account_id,
        "from_stage": change.before.value if change.before else None,
        "to_stage": change.after.value,
        "at": change.at,
        "changed_by": change.changed_by,
        "interaction_id": change.interaction_id,
        "reason": change.reason,
    }


class SqlInteractions:
    """The domain's :class:`~domain.interactions.InteractionStore` in one session."""

    def __init__(self, session: Session, contacts_repo: ContactRepository) -> None:
        self.session = session
        self.contacts = contacts_repo

    @property
    def conn(self) -> Connection:
        return self.session.connection()

    def account_name(self, account_id: uuid.UUID) -> str:
        row = self.conn.execute(
            select(accounts.c.name, accounts.c.deleted_at).where(accounts.c.id == account_id)
        ).first()
        if row is None:
            raise NotFound("That account does not exist.")
        if row.deleted_at is not None:
            raise NotFound(f"{row.name} was deleted: nothing can be logged against it.")
        return str(row.name)

    def stage_of(self, account_id: uuid.UUID) -> Stage | None:
        stage = self.conn.execute(
            select(targets.c.stage).where(
                targets.c.account_id == account_id, targets.c.deleted_at.is_(None)
            )
        ).scalar()
        return Stage(stage) if stage else None

    def has_exception(self, rep: str, account_id: uuid.UUID) -> bool:
        return self._granted(rep, account_id) is not None

    def _granted(self, rep: str, account_id: uuid.UUID) -> uuid.UUID | None:
        return self.conn.execute(
            select(log_exceptions.c.id).where(
                log_exceptions.c.rep == rep,
                log_exceptions.c.account_id == account_id,
                log_exceptions.c.revoked_at.is_(None),
            )
        ).scalar()

    def contact_account(self, contact_id: uuid.UUID) -> uuid.UUID | None:
        return self.conn.execute(
            select(contacts.c.account_id).where(
                contacts.c.id == contact_id, contacts.c.deleted_at.is_(None)
            )
        ).scalar()

    def get(self, interaction_id: uuid.UUID) -> Interaction | None:
        row = (
            self.conn.execute(select(interactions).where(interactions.c.id == interaction_id))
            .mappings()
            .first()
        )
        return None if row is None else interaction_from_row(row)

    def is_superseded(self, interaction_id: uuid.UUID) -> bool:
        return self.conn.execute(
            select(exists().where(interactions.c.supersedes_id == interaction_id))
        ).scalar_one()

    def add(self, entry: Interaction) -> Interaction:
        stored = replace(entry, id=new_id())
        values = {name: getattr(stored, name) for name in _ENTRY_COLUMNS if hasattr(stored, name)}
        values.update(
            id=stored.id,
            channel=stored.channel.value,
            outcome=stored.outcome.value,
            lead=stored.lead.value if stored.lead else None,
            supersedes_id=stored.supersedes,
        )
        self.conn.execute(insert(interactions).values(values))
        refresh_sla_facts(self.conn, [stored.account_id])
        refresh_goal_facts(self.conn, [stored.account_id])
        refresh_queue_facts(self.conn, [stored.account_id])
        refresh_learning_facts(self.conn, [stored.account_id])
        return stored

    def add_contact(self, contact: Contact, user: User) -> Contact:
        return self.contacts.add(contact, user)

    def change_of(self, interaction_id: uuid.UUID) -> StageChange | None:
        latest = (
            self.conn.execute(
                select(stage_changes)
                .where(
                    stage_changes.c.account_id
                    == select(interactions.c.account_id)
                    .where(interactions.c.id == interaction_id)
                    .scalar_subquery()
                )
                .order_by(stage_changes.c.at.desc(), stage_changes.c.id.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        if latest is None or latest["interaction_id"] != interaction_id:
            return None
        return stage_change_from_row(latest)

    def change_stage(self, change: StageChange) -> None:
        conn = self.conn
        conn.execute(insert(stage_changes).values(_stage_values(change)))
        refresh_reach(conn, [change.account_id])
        conn.execute(
            update(targets)
            .where(targets.c.account_id == change.account_id, targets.c.deleted_at.is_(None))
            .values(
                stage=change.after.value,
                updated_at=change.at,
                changed_by=change.changed_by,
                version=targets.c.version + 1,
            )
        )
        refresh_sla_facts(conn, [change.account_id])
        refresh_goal_facts(conn, [change.account_id])
        refresh_queue_facts(conn, [change.account_id])

    def grant(self, rep: str, account_id: uuid.UUID, reason: str, user: User) -> LogException:
        if self._granted(rep, account_id) is not None:
            raise ValidationError({"rep": f"{rep} has an exception for this account already"})
        granted = LogException(new_id(), rep, account_id, reason, user.name, utcnow())
        self.conn.execute(
            insert(log_exceptions).values(
                id=granted.id, rep=rep, account_id=account_id, reason=reason,
                granted_by=user.name, granted_at=granted.granted_at,
            )
        )  # fmt: skip
        log_change(self.conn, user, "log_exceptions", granted.id, "grant",
                   {"rep": rep, "account_id": str(account_id), "reason": reason})  # fmt: skip
        return granted

    def revoke(self, exception_id: uuid.UUID, user: User) -> LogException:
        row = (
            self.conn.execute(select(log_exceptions).where(log_exceptions.c.id == exception_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound("That exception does not exist.")
        if row["revoked_at"] is not None:
            raise ValidationError({"exception": f"it was revoked by {row['revoked_by']} already"})
        now = utcnow()
        self.conn.execute(
            update(log_exceptions)
            .where(log_exceptions.c.id == exception_id)
            .values(revoked_at=now, revoked_by=user.name)
        )
        log_change(self.conn, user, "log_exceptions", exception_id, "revoke", None)
        return replace(exception_from_row(row), revoked_at=now, revoked_by=user.name)

    def users_by_name(self) -> dict[str, User]:
        return users_by_name(self.conn)


def account_interactions(conn: Connection, account_id: uuid.UUID) -> list[tuple[Interaction, bool]]:
    """The account's interactions, newest first, each with whether a later entry corrects it."""
    rows = conn.execute(
        select(interactions, CORRECTED)
        .where(interactions.c.account_id == account_id)
        .order_by(interactions.c.at.desc(), interactions.c.id.desc())
    ).mappings()
    return [(interaction_from_row(row), bool(row["corrected"])) for row in rows]


def account_stage_changes(conn: Connection, account_id: uuid.UUID) -> list[StageChange]:
    """The account's stage changes, oldest first."""
    rows = conn.execute(
        select(stage_changes)
        .where(stage_changes.c.account_id == account_id)
        .order_by(stage_changes.c.at, stage_changes.c.id)
    ).mappings()
    return [stage_change_from_row(row) for row in rows]


def exceptions(
    conn: Connection, *, include_revoked: bool = False
) -> list[tuple[LogException, str]]:
    """The exceptions to the target list with their account's name, newest first."""
    statement = (
        select(log_exceptions, accounts.c.name.label("account"))
        .join(accounts, accounts.c.id == log_exceptions.c.account_id)
        .order_by(log_exceptions.c.granted_at.desc())
    )
    if not include_revoked:
        statement = statement.where(log_exceptions.c.revoked_at.is_(None))
    return [(exception_from_row(row), row["account"]) for row in conn.execute(statement).mappings()]
