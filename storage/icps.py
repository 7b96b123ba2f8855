"""ICP versions in the workspace: saving, listing, applying to every account, the live
preview of an ICP being edited, and comparing two versions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    and_,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    tablesample,
    true,
    update,
)
from sqlalchemy.sql.util import ClauseAdapter

from domain.errors import Cancelled, NotFound
from domain.icp import (
    HAS_DECISION_MAKER,
    IcpVersion,
    IdealCustomerProfile,
    Tier,
    from_document,
    to_document,
)
from domain.leads import DOSSIER_COMPLETE
from domain.progress import Cancel, Progress
from domain.users import User
from storage.bulk import indexes_rebuilt
from storage.change_log import log_change
from storage.dossiers import dossier_complete_sql
from storage.icp_sql import included_sql, points_sql, score_sql, tier_sql
from storage.queries import EVERY_LIVE_ROW, LIVE_ACCOUNT
from storage.schema import (
    AccountRow,
    ContactRow,
    IcpVersionRow,
    ImportChangeRow,
    table_of,
    utcnow,
)
from storage.scores import clear_scores, count_score_rows, count_scored, scores, store_scores
from storage.workspace import Workspace

accounts = table_of(AccountRow)
contacts = table_of(ContactRow)
versions = table_of(IcpVersionRow)
changes = table_of(ImportChangeRow)
#: The accounts table's rowid (SQLite only): ranges of it are read in storage order.
_ROWID: ColumnElement[int] = literal_column("accounts.rowid", Integer)

#: Accounts scored per statement when applying (each step reports progress).
APPLY_CHUNK = 100_000


class ApplyCancelled(Cancelled):
    def __init__(self) -> None:
        super().__init__("Applying the ICP was cancelled; the scores are as they were.")


def _version(row: Any) -> IcpVersion:
    return IcpVersion(
        id=row.id,
        icp=from_document(row.document, name=row.name),
        number=row.number,
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
        applied_at=row.applied_at,
    )


class SqlIcpStore:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def save_version(self, icp: IdealCustomerProfile, note: str, user: User) -> IcpVersion:
        with self.workspace.write() as conn:
            last = conn.execute(
                select(func.max(versions.c.number)).where(versions.c.name == icp.name)
            ).scalar_one()
            row_id = uuid.uuid4()
            conn.execute(
                insert(versions).values(
                    id=row_id,
                    name=icp.name,
                    number=(last or 0) + 1,
                    document=to_document(icp),
                    note=note,
                    created_by=user.name,
                    created_at=utcnow(),
                )
            )
            _log(conn, user, row_id, "save", {"name": icp.name, "number": (last or 0) + 1})
            return _version(conn.execute(select(versions).where(versions.c.id == row_id)).one())

    def apply(
        self, version: IcpVersion, user: User, progress: Progress | None, cancel: Cancel | None
    ) -> int:
        """Score every live account in one transaction, a chunk of accounts at a time."""
        with self.workspace.write() as conn, indexes_rebuilt(conn, scores):
            total = count_score_rows(conn)  # one per account: enough for the progress bar
            clear_scores(conn)
            for looked_at, chunk in _chunks(conn):
                if cancel is not None and cancel():
                    raise ApplyCancelled
                store_scores(conn, version, chunk, replace=False)
                if progress is not None:
                    progress(min(looked_at, total), total)
            done = count_scored(conn)
            if progress is not None:
                progress(done, total)
            conn.execute(
                update(versions)
                .where(versions.c.id == version.id)
                .values(applied_at=utcnow(), applied_by=user.name)
            )
            _log(conn, user, version.id, "apply", {"label": version.label, "accounts": done})
        return done


def _chunks(conn: Connection) -> Iterator[tuple[int, ColumnElement[bool]]]:
    """Every account, APPLY_CHUNK at a time: (accounts up to the chunk's end, condition).
    On SQLite by ranges of rowid, which cost nothing to find and read the table in storage
    order; elsewhere by ranges of id, each ended by a seek."""
    if conn.dialect.name == "sqlite":
        for start in range(1, _highest_rowid(conn) + 1, APPLY_CHUNK):
            yield start + APPLY_CHUNK - 1, _ROWID.between(start, start + APPLY_CHUNK - 1)
        return
    last: uuid.UUID | None = None
    looked_at = 0
    while True:
        after = accounts.c.id > last if last is not None else true()
        boundary = conn.execute(
            select(accounts.c.id).where(after).order_by(accounts.c.id)
            .offset(APPLY_CHUNK - 1).limit(1)
        ).scalar()  # fmt: skip
        looked_at += APPLY_CHUNK
        yield looked_at, and_(after, accounts.c.id <= boundary if boundary else true())
        if boundary is None:
            return
        last = boundary


def rescore_with_active(
    conn: Connection, where: ColumnElement[bool], *, replace: bool = True
) -> None:
    """Score accounts that were just created or changed with the active ICP (unscored
    while none is applied); ``replace=False`` when they have no score rows yet."""
    row = conn.execute(_active_statement()).first()
    store_scores(conn, None if row is None else _version(row), where, replace=replace)


def rescore_batch(conn: Connection, batch_id: uuid.UUID, *, created: bool = False) -> None:
    """Score the accounts an import (or its undo) created or changed, directly or through
    their contacts (a new decision-maker changes a score). One statement per way, so that
    each finds its accounts through an index. ``created``: the batch's own accounts were
    created in this transaction (an import's, not its undo's) and have no score rows to
    look up and replace (a million of them took 0.7 s to look up)."""
    changed = select(changes.c.record_id).where(changes.c.batch_id == batch_id)
    for contact in (contacts.c.import_batch_id == batch_id, contacts.c.id.in_(changed)):
        rescore_with_active(conn, accounts.c.id.in_(select(contacts.c.account_id).where(contact)))
    rescore_with_active(conn, accounts.c.id.in_(changed))
    rescore_with_active(conn, accounts.c.import_batch_id == batch_id, replace=not created)


def _log(conn: Connection, user: User, record: uuid.UUID, action: str, details: Any) -> None:
    log_change(conn, user, "icp_versions", record, action, details)


def _active_statement() -> Any:
    return (
        select(versions)
        .where(versions.c.applied_at.is_not(None))
        .order_by(versions.c.applied_at.desc())
        .limit(1)
    )


def _highest_rowid(conn: Connection) -> int:
    return int(conn.execute(select(func.max(_ROWID)).select_from(accounts)).scalar() or 0)


def _count_live(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).where(LIVE_ACCOUNT)).scalar_one())


def count_accounts(workspace: Workspace) -> int:
    with workspace.read() as conn:
        return _count_live(conn)


def list_versions(workspace: Workspace) -> list[IcpVersion]:
    """Every saved version, newest first."""
    with workspace.read() as conn:
        rows = conn.execute(
            select(versions).order_by(versions.c.created_at.desc(), versions.c.number.desc())
        )
        return [_version(r) for r in rows]


def active_version(workspace: Workspace) -> IcpVersion | None:
    """The version whose scores the accounts carry: the one applied last."""
    with workspace.read() as conn:
        return read_active_version(conn)


def read_active_version(conn: Connection) -> IcpVersion | None:
    """The version applied last, as ``conn`` sees it (inside its transaction)."""
    row = conn.execute(_active_statement()).first()
    return None if row is None else _version(row)


def find_version(workspace: Workspace, name: str | None = None) -> IcpVersion:
    """The newest version of the ICP called ``name``; without a name, the active ICP (or,
    when none was applied yet, the newest version saved)."""
    if name is None:
        active = active_version(workspace)
        if active is not None:
            return active
    with workspace.read() as conn:
        statement = select(versions).order_by(
            versions.c.created_at.desc(), versions.c.number.desc()
        )
        if name is not None:
            statement = statement.where(versions.c.name == name)
        row = conn.execute(statement.limit(1)).first()
    if row is None:
        raise NotFound(
            f"There is no ICP called '{name}'." if name else "No ICP has been saved yet."
        )
    return _version(row)


#: Above this many accounts the ICP editor shows an estimate from a sample first: up to
#: this many, exact counts take about 0.25 s on a 2-core laptop, and so does the sample.
SAMPLE_ABOVE = 40_000
_SAMPLE_BLOCKS, _BLOCK_ROWS = 40, 1000


@dataclass(frozen=True)
class Histogram:
    """Accounts per (included, weighted points) under an ICP's criteria: enough to count
    the tiers for any thresholds. ``sampled`` is how many accounts an estimate looked at
    (None when every account was counted)."""

    rows: tuple[tuple[bool, int, int], ...]
    total: int
    sampled: int | None = None

    def tiers(self, icp: IdealCustomerProfile) -> dict[Tier | None, int]:
        counts = icp.tier_counts(self.rows)
        if self.sampled is None:
            return counts
        scale = self.total / max(1, self.sampled)
        return {tier: round(number * scale) for tier, number in counts.items()}


_Statement = TypeVar("_Statement", bound=Select)  # type: ignore[type-arg]


def _sampled(conn: Connection, statement: _Statement) -> tuple[_Statement, float] | None:
    """``statement`` narrowed to a sample of about SAMPLE_ABOVE accounts, and the share of
    the table the sample holds; None when the workspace is no bigger than that.

    On SQLite: blocks of consecutive rows spread evenly over the table, read by rowid
    seeks instead of a scan (picked in a subquery: given the ranges directly, SQLite
    prefers scanning a whole partial index). On PostgreSQL: ``TABLESAMPLE SYSTEM``, the
    same pages on every call so that an estimate holds still while the user types."""
    if conn.dialect.name == "sqlite":
        high = _highest_rowid(conn)
        if high <= SAMPLE_ABOVE:
            return None
        starts = range(1, high + 1, max(_BLOCK_ROWS, high // _SAMPLE_BLOCKS))
        block = accounts.alias("block")
        block_rowid: ColumnElement[int] = literal_column("block.rowid", Integer)
        ranges = or_(*(block_rowid.between(s, s + _BLOCK_ROWS - 1) for s in starts))
        share = sum(min(_BLOCK_ROWS, high + 1 - s) for s in starts) / high
        return statement.where(
            _ROWID.in_(select(block_rowid).select_from(block).where(ranges))
        ), share
    total = _count_live(conn)
    if total <= SAMPLE_ABOVE:
        return None
    share = SAMPLE_ABOVE / total
    pages = tablesample(accounts, func.system(100 * share), name="accounts", seed=literal(1))
    return ClauseAdapter(pages).traverse(statement), share


def histogram(workspace: Workspace, icp: IdealCustomerProfile, sample: bool = False) -> Histogram:
    """The histogram of every live account (or, with ``sample``, an estimate). Every live
    account falls in one of its groups, so the groups add up to the total: no count first."""
    included = included_sql(icp).label("included")
    points = points_sql(icp).label("points")
    statement = (
        select(included, points, func.count()).where(EVERY_LIVE_ROW).group_by(included, points)
    )
    with workspace.read() as conn:
        sampled = _sampled(conn, statement) if sample else None
        chosen = statement if sampled is None else sampled[0]
        rows = tuple((bool(i), int(p), int(n)) for i, p, n in conn.execute(chosen))
    counted = sum(n for _, _, n in rows)
    if sampled is None:
        return Histogram(rows, counted)
    return Histogram(rows, round(counted / sampled[1]), counted)


def best_accounts(
    workspace: Workspace, icp: IdealCustomerProfile, limit: int = 10, sample: bool = False
) -> list[tuple[uuid.UUID, str, int]]:
    """The best-scoring accounts (of a sample, with ``sample``): (id, name, score)."""
    score = score_sql(icp).label("score")
    statement = (
        select(accounts.c.id, accounts.c.name, score)
        .where(EVERY_LIVE_ROW, included_sql(icp))
        .order_by(score.desc(), accounts.c.name)
        .limit(limit)
    )
    with workspace.read() as conn:
        sampled = _sampled(conn, statement) if sample else None
        chosen = statement if sampled is None else sampled[0]
        return [(r.id, r.name, int(r.score)) for r in conn.execute(chosen)]


@dataclass(frozen=True)
class Preview:
    """How an ICP would sort the workspace: accounts per tier (None: excluded by a
    must-have) and the best-scoring accounts."""

    tiers: dict[Tier | None, int]
    top: list[tuple[uuid.UUID, str, int]]


def preview(workspace: Workspace, icp: IdealCustomerProfile) -> Preview:
    return Preview(histogram(workspace, icp).tiers(icp), best_accounts(workspace, icp))


def compare(
    workspace: Workspace, before: IcpVersion, after: IcpVersion
) -> list[tuple[Tier | None, Tier | None, int]]:
    """(tier under ``before``, tier under ``after``, number of accounts) for every pair."""
    first = tier_sql(before.icp).label("before")
    second = tier_sql(after.icp).label("after")
    with workspace.read() as conn:
        rows = conn.execute(
            select(first, second, func.count()).where(EVERY_LIVE_ROW).group_by(first, second)
        )
        return [(Tier(a) if a else None, Tier(b) if b else None, int(n)) for a, b, n in rows]


def account_facts(conn: Connection, account_id: uuid.UUID) -> dict[str, Any]:
    """What the ICP and the lead definition look at for one account, including its stored
    score and tier."""
    row = (
        conn.execute(
            select(accounts, scores.c.score, scores.c.tier, scores.c.icp_version_id)
            .outerjoin(scores, scores.c.account_id == accounts.c.id)
            .where(accounts.c.id == account_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("The account no longer exists.")
    facts = dict(row)
    facts["custom"] = dict(row["custom"] or {})
    facts[HAS_DECISION_MAKER] = (
        conn.execute(
            select(contacts.c.id)
            .where(
                contacts.c.account_id == account_id,
                contacts.c.deleted_at.is_(None),
                contacts.c.decision_maker.is_(True),
            )
            .limit(1)
        ).first()
        is not None
    )
    facts[DOSSIER_COMPLETE] = conn.execute(
        select(dossier_complete_sql()).select_from(accounts).where(accounts.c.id == account_id)
    ).scalar_one()
    facts["tier"] = Tier(row["tier"]) if row["tier"] else None
    return facts


def version_by_id(workspace: Workspace, version_id: uuid.UUID) -> IcpVersion:
    with workspace.read() as conn:
        row = conn.execute(select(versions).where(versions.c.id == version_id)).first()
    if row is None:
        raise NotFound("That ICP version does not exist.")
    return _version(row)
