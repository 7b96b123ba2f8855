"""The database schema as SQLAlchemy 2 typed ORM classes.

Every editable record has a UUID key, created/updated timestamps, who changed it last, a
version that guards against silent overwrites, and a tombstone (``deleted_at``) instead of
a hard delete: offline sync relies on all of these. Indexes that serve the lists are
partial (live rows only) so that sorting never has to skip tombstones.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, cast, overload

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from storage.bulk import new_id

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def stored_utc(value: datetime) -> datetime: ...
@overload
def stored_utc(value: None) -> None: ...
def stored_utc(value: datetime | None) -> datetime | None:
    """A stored time with its zone: SQLite gives times back naive, and every one is UTC."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dict[str, Any]: JSON(none_as_null=True),
        datetime: DateTime(timezone=True),
    }


class Tracked:
    """Columns every editable record carries."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(default=1)
    deleted_at: Mapped[datetime | None]

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # The ORM adds "AND version = :loaded" to every UPDATE and bumps it.
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


LIVE = text("deleted_at IS NULL")
DELETED = text("deleted_at IS NOT NULL")
#: Interactions with a lead-quality rating, and those whose lead the rep rejected.
RATED = text("quality IS NOT NULL")
REJECTED = text("lead = 'rejected'")
#: Interactions that judge their lead: a rating, a verdict or both.
JUDGED = text("quality IS NOT NULL OR lead IS NOT NULL")
WON = text("outcome = 'won'")
OPPORTUNITY = text("outcome = 'opportunity'")


def live_index(name: str, *columns: str) -> Index:
    """An index over live rows only, usable on SQLite and PostgreSQL alike."""
    return Index(name, *columns, sqlite_where=LIVE, postgresql_where=LIVE)


class UserRow(Tracked, Base):
    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(20))


class ImportBatchRow(Base):
    __tablename__ = "import_batches"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(20))
    file_name: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(String(120))


class AccountRow(Tracked, Base):
    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(255))
    industry: Mapped[str | None] = mapped_column(String(255))
    employees: Mapped[int | None]
    annual_revenue: Mapped[int | None] = mapped_column(BigInteger)
    country: Mapped[str | None] = mapped_column(String(255))
    region: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(255))
    founded_year: Mapped[int | None]
    address: Mapped[str | None] = mapped_column(String(255))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(String(4000))
    tags: Mapped[str | None] = mapped_column(String(1000))
    source: Mapped[str | None] = mapped_column(String(255))
    custom: Mapped[dict[str, Any] | None]
    # Derived, kept in step by storage: the country's ISO 3166 code (NULL for a spelling
    # that names no country), the phone in E.164, dedupe keys and the lowercase search text.
    country_code: Mapped[str | None] = mapped_column(String(2))
    phone_e164: Mapped[str | None] = mapped_column(String(16))
    domain_key: Mapped[str | None] = mapped_column(String(255))
    name_key: Mapped[str] = mapped_column(String(255))
    search_text: Mapped[str] = mapped_column(Text)
    import_batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("import_batches.id"))

    __table_args__ = (
        live_index("ix_accounts_live_name", "name", "id"),
        live_index("ix_accounts_live_industry", "industry", "id"),
        live_index("ix_accounts_live_source", "source", "id"),
        live_index("ix_accounts_live_employees", "employees", "id"),
        live_index("ix_accounts_live_annual_revenue", "annual_revenue", "id"),
        live_index("ix_accounts_live_country_code", "country_code", "id"),
        live_index("ix_accounts_live_updated_at", "updated_at", "id"),
        # The keys an engagement row is matched by, with the id it is matched to: the
        # matching reads the index alone (on SQLite, only if it holds the deletion time).
        live_index("ix_accounts_live_domain_key", "domain_key", "id", "deleted_at"),
        live_index("ix_accounts_live_name_key", "name_key", "country", "id", "deleted_at"),
        live_index("ix_accounts_live_search_text", "search_text"),
        Index("ix_accounts_import_batch_id", "import_batch_id"),
        # The few deleted accounts, which a summary's read leaves out without looking up
        # each of its accounts (storage.read_models.closed_loop.reached).
        Index("ix_accounts_deleted", "id", sqlite_where=DELETED, postgresql_where=DELETED),
    )


class AccountScoreRow(Base):
    """An account's fit under the active ICP: one row per account, written when an ICP
    version is applied and when the account or its contacts change (not an edit: the
    account's version and updated_at stay as they were). Score and tier are NULL until an
    ICP is applied. A narrow table of its own, so that applying an ICP to a million
    accounts writes a few bytes per account instead of rewriting every account row.
    Storage alone writes it, from the accounts table; neither id is a foreign key, so that
    scoring checks no million references (a third of the time it takes)."""

    __tablename__ = "account_scores"

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    score: Mapped[int | None]
    tier: Mapped[str | None] = mapped_column(String(1))
    icp_version_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        Index("ix_account_scores_score", "score", "account_id"),
        {"sqlite_with_rowid": False},
    )


class ContactRow(Tracked, Base):
    __tablename__ = "contacts"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    #: Derived: the e-mail as an engagement file's row is matched by it (storage.keys.email_key).
    email_key: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(255))
    #: Derived: the phone in E.164, read in the account's country when written without one.
    phone_e164: Mapped[str | None] = mapped_column(String(16))
    decision_maker: Mapped[bool] = mapped_column(default=False)
    import_batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("import_batches.id"))

    __table_args__ = (
        live_index("ix_contacts_live_account_id", "account_id", "name"),
        # Answers "has a decision-maker?" from the index alone, for every account at once.
        live_index("ix_contacts_live_decision_maker", "account_id", "decision_maker"),
        # What an engagement row's e-mail is matched to, the oldest contact first, from
        # the index alone (on SQLite, only if it holds the deletion time).
        live_index(
            "ix_contacts_live_email_key",
            "email_key",
            "created_at",
            "id",
            "account_id",
            "deleted_at",
        ),
        Index("ix_contacts_import_batch_id", "import_batch_id"),
    )


class IcpVersionRow(Base):
    """One saved version of an ICP: immutable once written (apart from when it was applied)."""

    __tablename__ = "icp_versions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    number: Mapped[int]
    document: Mapped[dict[str, Any]]
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    applied_at: Mapped[datetime | None]
    applied_by: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (UniqueConstraint("name", "number"),)


class LeadDefinitionRow(Base):
    """The lead definition as saved, one row per save; the newest one holds."""

    __tablename__ = "lead_definitions"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))


class TargetRow(Tracked, Base):
    """An account on the target list: its owning rep, stage, priority and hand-off.
    Removing it leaves a tombstone; adding it again revives the same row."""

    __tablename__ = "targets"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), unique=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    stage: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(default=3)
    icp_version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("icp_versions.id"))
    handed_off_at: Mapped[datetime | None]
    handed_off_by: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (
        live_index("ix_targets_live_owner_id", "owner_id", "priority"),
        # The goal's open pipeline: the accounts at the opportunity stage, not every target.
        live_index("ix_targets_live_stage", "stage"),
    )


class InteractionRow(Base):
    """A call, visit, email, meeting or video call a rep logged: append-only history, never
    edited or deleted. A correction is a new row whose ``supersedes_id`` names the old one."""

    __tablename__ = "interactions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contacts.id"))
    at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    meaningful: Mapped[bool]
    learned: Mapped[str] = mapped_column(Text, default="")
    quality: Mapped[int | None]
    lead: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    commitments: Mapped[str] = mapped_column(Text, default="")
    next_step: Mapped[str] = mapped_column(Text, default="")
    follow_up: Mapped[date | None] = mapped_column(Date)
    value: Mapped[int | None] = mapped_column(BigInteger)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("interactions.id"))
    logged_by: Mapped[str] = mapped_column(String(120))
    logged_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_interactions_account_id", "account_id", "at"),
        Index("ix_interactions_logged_by", "logged_by", "at"),
        Index("ix_interactions_at", "at"),
        Index("ix_interactions_supersedes_id", "supersedes_id"),
        # The field feedback view's rating and rejected-lead filters, newest first: a rare
        # rating would otherwise be looked for among every interaction.
        Index("ix_interactions_rated", "quality", "at", sqlite_where=RATED, postgresql_where=RATED),
        Index("ix_interactions_rejected", "at", sqlite_where=REJECTED, postgresql_where=REJECTED),
        # Lead quality's ratings and verdicts of a period, with all it adds up: one in twenty
        # interactions, which a read of the period's interactions would look for among all.
        Index(
            "ix_interactions_judged",
            "at",
            "account_id",
            "quality",
            "lead",
            "id",
            sqlite_where=JUDGED,
            postgresql_where=JUDGED,
        ),
        # The goal's won deals: a few thousandths of the interactions, where a goal's months
        # would otherwise read them all.
        Index("ix_interactions_won", "outcome", "at", sqlite_where=WON, postgresql_where=WON),
        # The goal's open pipeline: an account's latest opportunity entry and its deal value
        # from one index entry, not from all its interactions sorted.
        Index(
            "ix_interactions_opportunity",
            "account_id",
            "at",
            "id",
            "value",
            sqlite_where=OPPORTUNITY,
            postgresql_where=OPPORTUNITY,
        ),
    )


class StageChangeRow(Base):
    """An account's move from one stage to another, append-only: by an interaction
    (``interaction_id``), by the target list (put on it, handed off) or by hand (``reason``).
    ``from_stage`` is NULL when the account first came on the list."""

    __tablename__ = "stage_changes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(120))
    interaction_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("interactions.id"))
    reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_stage_changes_account_id", "account_id", "at"),
        Index("ix_stage_changes_at", "at"),
        Index("ix_stage_changes_interaction_id", "interaction_id"),
        # The goal's win rate and stage metrics: the moves to a few stages, not the history.
        Index("ix_stage_changes_to_stage", "to_stage", "at"),
    )


class AccountReachRow(Base):
    """When an account first reached each stage of the funnel and first left each open
    stage (``domain.closed_loop.reaching`` and ``leaving``), in whole seconds since 1970 in
    UTC (its fraction cut off: a period's bounds are whole seconds, so a time falls in it
    exactly when its whole seconds do), and the whole days it spent in each open stage
    (``days_<stage>``: from reaching it to first leaving it, none if it has not left it or
    left it before it came): a summary of its stage changes, which the closed loop reads
    instead of grouping the whole history, comparing numbers rather than parsing times.
    Every write of ``stage_changes`` recomputes the rows of the accounts it touched from
    them (``storage.reach.refresh_reach``), in the same transaction."""

    __tablename__ = "account_reach"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    targeted: Mapped[int | None] = mapped_column(BigInteger)
    sales_ready: Mapped[int | None] = mapped_column(BigInteger)
    contacted: Mapped[int | None] = mapped_column(BigInteger)
    meeting: Mapped[int | None] = mapped_column(BigInteger)
    opportunity: Mapped[int | None] = mapped_column(BigInteger)
    won: Mapped[int | None] = mapped_column(BigInteger)
    lost: Mapped[int | None] = mapped_column(BigInteger)
    left_targeted: Mapped[int | None] = mapped_column(BigInteger)
    left_sales_ready: Mapped[int | None] = mapped_column(BigInteger)
    left_contacted: Mapped[int | None] = mapped_column(BigInteger)
    left_meeting: Mapped[int | None] = mapped_column(BigInteger)
    left_opportunity: Mapped[int | None] = mapped_column(BigInteger)
    days_targeted: Mapped[int | None]
    days_sales_ready: Mapped[int | None]
    days_contacted: Mapped[int | None]
    days_meeting: Mapped[int | None]
    days_opportunity: Mapped[int | None]


#: What the compliance counts of a period's hand-offs (``storage.read_models.sla_compliance``),
#: in order of their times: the hand-offs' index that holds it all, which a period's count
#: reads in one pass without a row of the facts (0025).
HANDOFF_DAYS = ("handed_off_at", "handed_off_at_seconds", "owner_id", "tier",
                *(f"attempt_{n}_seconds" for n in range(1, 11)), "closed_at_seconds",
                "first_meaningful_seconds", "rated_at_seconds", "rating", "verdict")  # fmt: skip


class HandoffFactRow(Base):
    """What the service agreement measures of one live hand-off of a live account, kept up
    to date by every write that changes it (:func:`storage.sla_facts.refresh_sla_facts`):
    its rep and its account's tier, and times only, as of no particular moment, nothing
    that depends on the agreement's numbers or the calendar, so that a figure is a
    comparison of these columns with the period's days, with no other row to read. Interactions a
    correction superseded do not count; ``attempt_1`` is the first touch, ``attempt_N`` the
    N-th interaction after the hand-off (up to ``domain.agreement.MAX_ATTEMPTS``)."""

    __tablename__ = "handoff_facts"

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    handed_off_at: Mapped[datetime]
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    tier: Mapped[str | None] = mapped_column(String(1))
    #: The account's stage now (its target's): the open hand-offs are the reps' queues.
    #: Nullable as a column added to a filled table must be; 0019 fills it.
    stage: Mapped[str | None] = mapped_column(String(20))
    attempt_1: Mapped[datetime | None]
    attempt_2: Mapped[datetime | None]
    attempt_3: Mapped[datetime | None]
    attempt_4: Mapped[datetime | None]
    attempt_5: Mapped[datetime | None]
    attempt_6: Mapped[datetime | None]
    attempt_7: Mapped[datetime | None]
    attempt_8: Mapped[datetime | None]
    attempt_9: Mapped[datetime | None]
    attempt_10: Mapped[datetime | None]
    #: The first move to won or lost after the hand-off.
    closed_at: Mapped[datetime | None]
    first_meaningful: Mapped[datetime | None]
    #: The first rating given at or after the first meaningful interaction.
    rated_at: Mapped[datetime | None]
    #: The first rating after the hand-off, and when it was given.
    rating: Mapped[int | None]
    rating_at: Mapped[datetime | None]
    #: The first verdict (accepted or rejected) after the hand-off, and when.
    verdict: Mapped[str | None] = mapped_column(String(20))
    verdict_at: Mapped[datetime | None]
    #: The times the compliance finds the day of (in the workspace's zone, by adding its
    #: offset), each also as whole seconds since 1970 in UTC, so that a read divides numbers
    #: instead of parsing every hand-off's times (``storage.sla_facts.IN_SECONDS``). Nullable
    #: as columns added to a filled table must be; 0024 fills them.
    handed_off_at_seconds: Mapped[int | None] = mapped_column(BigInteger)
    attempt_1_seconds: Mapped[int | None] = mapped_column(BigInteger)
    attempt_2_seconds: Mapped[int | None] = mapped_column(BigInteger)
    attempt_3_seconds: Mapped[int | None] = mapped_column(BigInteger)
    attempt_4_seconds: Mapped[int | None] = mapped_column(BigInteger)
    attempt_5_seconds: Mapped[int | None] = mapped_column(BigInteger)
    attempt_6_seconds: Mapped[int | None] = mapped_column(BigInteger)
    attempt_7_seconds: Mapped[int | None] = mapped_column(BigInteger)
    attempt_8_seconds: Mapped[int | None] = mapped_column(BigInteger)
    attempt_9_seconds: Mapped[int | None] = mapped_column(BigInteger)
    attempt_10_seconds: Mapped[int | None] = mapped_column(BigInteger)
    closed_at_seconds: Mapped[int | None] = mapped_column(BigInteger)
    first_meaningful_seconds: Mapped[int | None] = mapped_column(BigInteger)
    rated_at_seconds: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_handoff_facts_handed_off_at", "handed_off_at"),
        # the compliance's count of a period's hand-offs, read in this index alone
        Index("ix_handoff_facts_days", *HANDOFF_DAYS),
        # the black hole (no first touch yet) counted and paged in the index
        Index("ix_handoff_facts_attempt_1", "attempt_1", "handed_off_at", "owner_id"),
        # the open hand-offs (the queues) counted in the index
        Index("ix_handoff_facts_stage", "stage", "owner_id"),
    )


class FollowUpFactRow(Base):
    """A follow-up date set by a current interaction, and the next current interaction on
    its account after it (whether it was kept is that time against the date's end), kept up
    to date by every write that changes it (:func:`storage.sla_facts.refresh_sla_facts`)."""

    __tablename__ = "follow_up_facts"

    interaction_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    logged_by: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime]
    follow_up: Mapped[date] = mapped_column(Date)
    next_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_follow_up_facts_account_id", "account_id"),
        Index("ix_follow_up_facts_follow_up", "follow_up", "logged_by", "at", "next_at"),
    )


#: A follow-up date's tally that has come to nothing (its follow-ups moved to other days).
SPENT = text("due = 0")


class FollowUpDayRow(Base):
    """The follow-ups of one date set by one rep, counted by how late the next interaction
    came (:data:`storage.sla_facts.LATENESS`: in quarters of an hour from the end of the date
    in UTC, the earliest and latest steps standing for anything earlier or later, no next
    interaction among the latest), kept up to date with :class:`FollowUpFactRow` by every
    write that changes it: whether a date's follow-ups were kept is read here for any time
    zone (every zone's day ends a whole number of quarters of an hour from UTC's) without
    reading each follow-up."""

    __tablename__ = "follow_up_days"

    follow_up: Mapped[date] = mapped_column(Date, primary_key=True)
    logged_by: Mapped[str] = mapped_column(String(120), primary_key=True)
    late: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    due: Mapped[int]

    __table_args__ = (
        # the tallies a write emptied, found at once to be removed
        Index("ix_follow_up_days_spent", "follow_up", sqlite_where=SPENT, postgresql_where=SPENT),
    )


class GoalFactRow(Base):
    """One event the shared goal's arithmetic counts, with the segments its account is in
    now, kept up to date by every write that changes it
    (:func:`storage.goal_facts.refresh_goal_facts`, and the segments at every scoring):
    a won deal that stands (``amount`` its value), a move that stands and reaches the
    meeting, opportunity or won stage or moves to lost (``since``: the account's previous
    one of the same kind, so that a period counts an account once, at its first), and an
    open deal now (a live target at the opportunity stage, ``amount`` its deal's value, no
    time). The goal's figures add these rows up in their index, with no other row to read."""

    __tablename__ = "goal_facts"

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    #: The interaction, stage change or target the event is.
    row_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    at: Mapped[datetime | None]
    since: Mapped[datetime | None]
    amount: Mapped[int | None] = mapped_column(BigInteger)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    tier: Mapped[str | None] = mapped_column(String(1))
    source: Mapped[str | None] = mapped_column(String(255))
    industry: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        # a period's events of one kind added up without leaving the index: by week in the
        # order of their times, and by segment in the order of the segments, with no sort
        Index(
            "ix_goal_facts_kind",
            *("kind", "at", "since", "amount", "owner_id", "tier", "source", "industry"),
        ),
        Index(
            "ix_goal_facts_segments",
            *("kind", "tier", "source", "industry", "owner_id", "at", "since", "amount"),
        ),
    )


class QueueFactRow(Base):
    """What ranks an open account in its rep's call queue, as of no particular moment: its
    target's owner, priority and hand-off, its score, its last touch and the follow-up date
    of its current interaction (``domain.queue.rank_key``'s facts but engagement), kept up
    to date by every write that changes them (:func:`storage.queue_facts.refresh_queue_facts`,
    and the score at every scoring), so that the head of a queue is read in an index in
    queue order instead of working out every account's facts and sorting them. One row per
    live target of a live account at an open stage."""

    __tablename__ = "queue_facts"

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    priority: Mapped[int]
    score: Mapped[int | None]
    handed_off_at: Mapped[datetime | None]
    last_touch: Mapped[datetime | None]
    follow_up: Mapped[date | None] = mapped_column(Date)


# A rep's accounts in queue order within a reason (SQLite puts NULLs first, so the highest
# score and the longest untouched come first), and the hand-offs awaiting their first touch,
# the longest waiting first: the queue's head read in these without sorting.
Index(
    "ix_queue_facts_rank",
    *(QueueFactRow.owner_id, QueueFactRow.priority, QueueFactRow.score.desc()),
    *(QueueFactRow.last_touch, QueueFactRow.account_id, QueueFactRow.follow_up),
    QueueFactRow.handed_off_at,
)
Index(
    "ix_queue_facts_handed_off_at",
    *(QueueFactRow.owner_id, QueueFactRow.handed_off_at, QueueFactRow.priority),
    *(QueueFactRow.score.desc(), QueueFactRow.last_touch, QueueFactRow.account_id),
    QueueFactRow.follow_up,
)


class AccountSegmentRow(Base):
    """The closed loop's segments of one account, deleted or not, as they are now: its tier
    as scored, the ICP version that put it on the target list and the rep who owns it (its
    target's, listed or removed), its industry and its source. Kept up to date by every
    write that changes them (:func:`storage.segments.refresh_segments`: every scoring, which
    every change of an account's fields and every new account goes through, and every write
    to the target list), so that the closed loop groups the accounts it counts by one narrow
    row each instead of looking up each one's account, score and target, and its campaigns
    instead of grouping the whole engagement by account."""

    __tablename__ = "account_segments"

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tier: Mapped[str | None] = mapped_column(String(1))
    icp_version_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    industry: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(255))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    #: The campaigns it engaged with, each once, in order, a control character between them
    #: (``storage.segments.APART``), kept by every write of engagement.
    campaigns: Mapped[str | None] = mapped_column(Text)

    __table_args__ = ({"sqlite_with_rowid": False},)


class LearningFactRow(Base):
    """One learning that stands (an interaction with something learned that no later entry
    corrects), with how telling it is (2: a deal won, lost or opened, a lead rejected or
    not a fit; 1: a meaningful conversation; 0: the rest), kept up to date by every write
    of interactions (:func:`storage.learning_facts.refresh_learning_facts`), so that the
    learnings digest counts a period's learnings per account in this table's own order,
    with no interaction row to read."""

    __tablename__ = "learning_facts"

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    at: Mapped[datetime] = mapped_column(primary_key=True)
    interaction_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    telling: Mapped[int]

    __table_args__ = ({"sqlite_with_rowid": False},)


class LogExceptionRow(Base):
    """Leave for one rep to log against one account that is not on the target list, until
    revoked."""

    __tablename__ = "log_exceptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    rep: Mapped[str] = mapped_column(String(120))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    reason: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[str] = mapped_column(String(120))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_by: Mapped[str | None] = mapped_column(String(120))
    revoked_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_log_exceptions_rep", "rep", "account_id"),)


class EngagementRow(Base):
    """What an account did towards marketing (an event attended, a webinar, a content
    download, an email reply, a form fill, a campaign response), imported from a file:
    append-only, undone with its import batch."""

    __tablename__ = "engagements"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contacts.id"))
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]
    campaign: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[str | None] = mapped_column(Text)
    import_batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("import_batches.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))

    __table_args__ = (
        # By account in time order, with the campaign: an account's campaigns are worked
        # out again from the index alone (storage.segments).
        Index("ix_engagements_account_id", "account_id", "at", "campaign"),
        Index("ix_engagements_at", "at"),
        Index("ix_engagements_import_batch_id", "import_batch_id"),
    )


class GoalVersionRow(Base):
    """One version of the shared goal (``domain.goal.Goal.to_document``): immutable once
    written; the highest number holds."""

    __tablename__ = "goal_versions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    number: Mapped[int] = mapped_column(unique=True)
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))


class AgreementVersionRow(Base):
    """One version of the service agreement (``domain.agreement.Agreement.to_document``):
    immutable once written; the highest number holds."""

    __tablename__ = "agreement_versions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    number: Mapped[int] = mapped_column(unique=True)
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))


class WorkCalendarRow(Base):
    """The workspace calendar as saved (``domain.calendar.WorkCalendar.to_document``), one
    row per save; the newest one holds."""

    __tablename__ = "work_calendars"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))


class PlanSignOffRow(Base):
    """A head of marketing or of sales signing the written plan: which side, who, when,
    and the versions of its parts they signed (goal, ICP, lead definition, agreement,
    dossier template)."""

    __tablename__ = "plan_sign_offs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    side: Mapped[str] = mapped_column(String(20))
    versions: Mapped[dict[str, Any]]
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_by: Mapped[str] = mapped_column(String(120))


class DossierTemplateRow(Base):
    """One saved version of the dossier template: immutable once written."""

    __tablename__ = "dossier_templates"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    number: Mapped[int] = mapped_column(unique=True)
    document: Mapped[dict[str, Any]]
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))


class DossierRow(Tracked, Base):
    """One account's research: section texts by section key, sources, linked contacts.
    ``completeness`` and ``search_text`` are derived and kept in step by storage."""

    __tablename__ = "dossiers"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier_templates.id"))
    texts: Mapped[dict[str, Any]]
    sources: Mapped[list[Any]] = mapped_column(JSON)
    contact_ids: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    completeness: Mapped[int]
    author: Mapped[str] = mapped_column(String(120))
    search_text: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_dossiers_live_account_id", "account_id", unique=True,
              sqlite_where=LIVE, postgresql_where=LIVE),
    )  # fmt: skip


class DossierConflictRow(Base):
    """A section text that lost to someone else's concurrent save, kept until settled."""

    __tablename__ = "dossier_conflicts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    section: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    settled_at: Mapped[datetime | None]
    settled_by: Mapped[str | None] = mapped_column(String(120))


class DossierRatingRow(Tracked, Base):
    """A rep's rating of a dossier's usefulness; one per rep and dossier."""

    __tablename__ = "dossier_ratings"

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"))
    rater: Mapped[str] = mapped_column(String(120))
    stars: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("dossier_id", "rater"),)


class ImportChangeRow(Base):
    """The values an import overwrote, so that undoing the import can put them back."""

    __tablename__ = "import_changes"

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("import_batches.id"), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any]]
    version_after: Mapped[int]


class PossibleDuplicateRow(Base):
    """An imported account whose website matched a stored one although the name and the
    country both differ: kept apart, until someone merges the two or keeps both."""

    __tablename__ = "possible_duplicates"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("import_batches.id"), index=True)
    row_number: Mapped[int]
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    existing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    #: "merged" or "kept both", once someone decided.
    outcome: Mapped[str | None] = mapped_column(String(20))
    settled_at: Mapped[datetime | None]
    settled_by: Mapped[str | None] = mapped_column(String(120))


class ChangeRow(Base):
    """Who changed what, when: one row per single edit, one per import or undo."""

    __tablename__ = "change_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_name: Mapped[str] = mapped_column(String(120))
    table_name: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any] | None]

    __table_args__ = (Index("ix_change_log_record_id", "record_id"),)


def table_of(model: type[Base]) -> Table:
    """The Core table behind a mapped class, typed for Core statements."""
    return cast(Table, model.__table__)


# --- Offline copies and sync (storage/sync/) ----------------------------------------------
# Kept beside the user's data by a database that takes part in sync; never synced itself.


class SyncDeviceRow(Base):
    """This database as a device that syncs (one row): its id in every stamp it makes, its
    kind (``team``, ``copy``, ``peer``), the team database a copy came from (shown, without
    its password) and the rep it was taken for (NULL: the whole workspace), its clock."""

    __tablename__ = "sync_device"

    device: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    source: Mapped[str | None] = mapped_column(String(500))
    rep: Mapped[str | None] = mapped_column(String(120))
    #: The hybrid logical clock's last stamp, and the correction of the wall clock.
    last: Mapped[str | None] = mapped_column(String(64))
    offset_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    last_synced_at: Mapped[datetime | None]


class SyncOutboxRow(Base):
    """A row change the capture triggers saw and :func:`storage.sync.engine.seal` has not
    stamped yet: which column (``*`` for a new row, ``deleted_at`` for one deleted), when
    (milliseconds of the wall clock) and by whom."""

    __tablename__ = "sync_outbox"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    table_name: Mapped[str] = mapped_column(String(40))
    record: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(200))
    at: Mapped[int] = mapped_column(BigInteger)
    author: Mapped[str | None] = mapped_column(String(120))


class SyncChangeRow(Base):
    """Every stamped change this database knows, its own and those it received: the value
    as JSON text, the stamps of the writes it replaced as a JSON list."""

    __tablename__ = "sync_changes"

    stamp: Mapped[str] = mapped_column(String(64), primary_key=True)
    device: Mapped[str] = mapped_column(String(32))
    table_name: Mapped[str] = mapped_column(String(40))
    record: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(120))
    replaces: Mapped[str] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (
        Index("ix_sync_changes_device", "device", "stamp"),
        Index("ix_sync_changes_record", "table_name", "record"),
    )


class SyncHeadRow(Base):
    """The open writes of each field (its register's heads): more than one is a conflict."""

    __tablename__ = "sync_heads"

    table_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    record: Mapped[str] = mapped_column(String(64), primary_key=True)
    field: Mapped[str] = mapped_column(String(200), primary_key=True)
    stamp: Mapped[str] = mapped_column(String(64), primary_key=True)


class SyncSeenRow(Base):
    """The version vector: the latest stamp this database holds from each device."""

    __tablename__ = "sync_seen"

    device: Mapped[str] = mapped_column(String(32), primary_key=True)
    stamp: Mapped[str] = mapped_column(String(64))


class SyncRefusedRow(Base):
    """A change kept aside because its author's role did not allow it, and why."""

    __tablename__ = "sync_refused"

    stamp: Mapped[str] = mapped_column(String(64), primary_key=True)
    device: Mapped[str] = mapped_column(String(32))
    table_name: Mapped[str] = mapped_column(String(40))
    record: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(120))
    replaces: Mapped[str] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncApplyingRow(Base):
    """A row here, inside a transaction that applies received changes, keeps the capture
    triggers from capturing them again. Never committed: other writers never see it."""

    __tablename__ = "sync_applying"

    id: Mapped[int] = mapped_column(primary_key=True)
