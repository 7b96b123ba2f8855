"""Dossiers in the workspace: template versions, one dossier per account with its
completeness and search text kept in step, conflicts kept when two saves collide, ratings,
and the dossier list's query (SQLAlchemy Core)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, insert, select, true, update

from domain.dossiers import (
    DEFAULT_TEMPLATE,
    Conflict,
    Dossier,
    DossierEdit,
    DossierStatus,
    DossierTemplate,
    Rating,
    Source,
    TemplateVersion,
    completeness,
)
from domain.errors import AccordError, ConcurrentEditError, NotFound
from domain.users import User
from storage.bulk import one_id
from storage.change_log import log_change
from storage.keys import search_key
from storage.schema import (
    AccountRow,
    DossierConflictRow,
    DossierRatingRow,
    DossierRow,
    DossierTemplateRow,
    TargetRow,
    UserRow,
    table_of,
    utcnow,
)
from storage.scores import stored
from storage.workspace import Workspace

templates = table_of(DossierTemplateRow)
dossiers = table_of(DossierRow)
conflicts = table_of(DossierConflictRow)
ratings = table_of(DossierRatingRow)
accounts = table_of(AccountRow)
targets = table_of(TargetRow)
users = table_of(UserRow)
LIVE_DOSSIER = dossiers.c.deleted_at.is_(None)


def _template_version(row: Any) -> TemplateVersion:
    return TemplateVersion(
        id=row.id,
        number=row.number,
        template=DossierTemplate.from_document(row.document),
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def template_versions(workspace: Workspace) -> list[TemplateVersion]:
    """Every saved template version, newest first."""
    with workspace.read() as conn:
        rows = conn.execute(select(templates).order_by(templates.c.number.desc()))
        return [_template_version(r) for r in rows]


def current_template(workspace: Workspace) -> DossierTemplate:
    """The newest template, or the default one while none has been saved."""
    with workspace.read() as conn:
        document = conn.execute(
            select(templates.c.document).order_by(templates.c.number.desc()).limit(1)
        ).scalar()
    return DEFAULT_TEMPLATE if document is None else DossierTemplate.from_document(document)


def _insert_template(
    conn: Connection, template: DossierTemplate, note: str, user: User
) -> TemplateVersion:
    number = int(conn.execute(select(func.coalesce(func.max(templates.c.number), 0))).scalar_one())
    version = TemplateVersion(uuid.uuid4(), number + 1, template, note, user.name, utcnow())
    conn.execute(
        insert(templates).values(
            id=version.id,
            number=version.number,
            document=template.to_document(),
            note=note,
            created_by=user.name,
            created_at=version.created_at,
        )
    )
    log_change(conn, user, "dossier_templates", version.id, "save", {"number": version.number})
    return version


def _newest_template_id(conn: Connection, user: User) -> uuid.UUID:
    """The newest template's id; the default template is stored on first use."""
    found = conn.execute(
        select(templates.c.id).order_by(templates.c.number.desc()).limit(1)
    ).scalar()
    if found is not None:
        return uuid.UUID(str(found))
    return _insert_template(conn, DEFAULT_TEMPLATE, "the default template", user).id


def _dossier(row: Any) -> Dossier:
    return Dossier(
        id=row.id,
        account_id=row.account_id,
        template_version_id=row.template_id,
        texts=dict(row.texts or {}),
        sources=tuple(Source(s.get("url", ""), s.get("title", "")) for s in row.sources or []),
        contact_ids=tuple(uuid.UUID(str(c)) for c in row.contact_ids or []),
        status=DossierStatus(row.status),
        completeness=row.completeness,
        author=row.author,
        created_at=row.created_at,
        updated_at=row.updated_at,
        changed_by=row.changed_by,
        version=row.version,
    )


def _search_text(edit: DossierEdit) -> str:
    return search_text_of(edit.texts, edit.sources)


def search_text_of(texts: Mapping[str, str], sources: Iterable[Source]) -> str:
    """What a search among dossiers looks at: the section texts and the sources."""
    # Sections in the order of their keys: a dossier reads the same whichever copy wrote it.
    parts = [*(texts[k] for k in sorted(texts)), *(f"{s.title} {s.url}" for s in sources)]
    words = search_key(" ".join(parts))
    return f" {words} " if words else " "  # as a new dossier has it


def derived_dossier_columns(
    template: DossierTemplate, texts: Mapping[str, str], sources: list[Any]
) -> dict[str, Any]:
    """A dossier's derived columns from its template, texts and sources (a sync writes a
    dossier without its editor)."""
    return {
        "completeness": completeness(template, texts),
        "search_text": search_text_of(
            texts, (Source(s.get("url", ""), s.get("title", "")) for s in sources)
        ),
    }


def dossier_for(workspace: Workspace, account_id: uuid.UUID) -> Dossier | None:
    """The account's dossier, or None when nobody has started one."""
    with workspace.read() as conn:
        row = conn.execute(
            select(dossiers).where(dossiers.c.account_id == account_id, LIVE_DOSSIER)
        ).first()
    return None if row is None else _dossier(row)


class SqlDossierStore:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def save_template(self, template: DossierTemplate, note: str, user: User) -> TemplateVersion:
        with self.workspace.write() as conn:
            return _insert_template(conn, template, note, user)

    def template_of(self, dossier: Dossier) -> DossierTemplate:
        with self.workspace.read() as conn:
            document = conn.execute(
                select(templates.c.document).where(templates.c.id == dossier.template_version_id)
            ).scalar_one()
        return DossierTemplate.from_document(document)

    def create(self, account_id: uuid.UUID, user: User) -> Dossier:
        with self.workspace.write() as conn:
            name = conn.execute(
                select(accounts.c.name).where(
                    accounts.c.id == account_id, accounts.c.deleted_at.is_(None)
                )
            ).scalar()
            if name is None:
                raise NotFound("The account no longer exists.")
            taken = conn.execute(
                select(dossiers.c.id).where(dossiers.c.account_id == account_id, LIVE_DOSSIER)
            ).scalar()
            if taken is not None:
                raise AccordError(f"{name} already has a dossier.")
            # One id per account (an account's dossier is never deleted): two copies' starts
            # meet as one dossier, merged section by section.
            now, dossier_id = utcnow(), one_id("dossiers", account_id)
            template_id = _newest_template_id(conn, user)
            document = conn.execute(
                select(templates.c.document).where(templates.c.id == template_id)
            ).scalar_one()
            conn.execute(
                insert(dossiers).values(
                    id=dossier_id,
                    account_id=account_id,
                    template_id=template_id,
                    texts={},
                    sources=[],
                    contact_ids=[],
                    status=DossierStatus.DRAFT.value,
                    completeness=completeness(DossierTemplate.from_document(document), {}),
                    author=user.name,
                    search_text=" ",
                    created_at=now,
                    updated_at=now,
                    changed_by=user.name,
                    version=1,
                )
            )
            log_change(conn, user, "dossiers", dossier_id, "create", {"account": name})
            return _dossier(conn.execute(select(dossiers).where(dossiers.c.id == dossier_id)).one())

    def load(self, dossier_id: uuid.UUID) -> Dossier:
        with self.workspace.read() as conn:
            row = conn.execute(
                select(dossiers).where(dossiers.c.id == dossier_id, LIVE_DOSSIER)
            ).first()
        if row is None:
            raise NotFound("The dossier no longer exists.")
        return _dossier(row)

    def _update(
        self, dossier: Dossier, user: User, action: str, details: Any, **values: Any
    ) -> Dossier:
        """Write ``values`` if nobody saved since ``dossier.version``; the stored dossier."""
        with self.workspace.write() as conn:
            done = conn.execute(
                update(dossiers)
                .where(
                    dossiers.c.id == dossier.id,
                    dossiers.c.version == dossier.version,
                    LIVE_DOSSIER,
                )
                .values(
                    **values,
                    updated_at=utcnow(),
                    changed_by=user.name,
                    version=dossiers.c.version + 1,
                )
            )
            if done.rowcount != 1:
                raise ConcurrentEditError("This dossier")
            log_change(conn, user, "dossiers", dossier.id, action, details)
            return _dossier(conn.execute(select(dossiers).where(dossiers.c.id == dossier.id)).one())

    def save(
        self, dossier: Dossier, edit: DossierEdit, status: DossierStatus, user: User
    ) -> Dossier:
        texts = {k: v for k, v in edit.texts.items() if v}
        changed = sorted(k for k in set(texts) | set(dossier.texts)
                         if texts.get(k, "") != dossier.texts.get(k, ""))  # fmt: skip
        return self._update(
            dossier,
            user,
            "edit",
            {"sections": changed, "status": status.value},
            texts=texts,
            sources=[{"url": s.url, "title": s.title} for s in edit.sources],
            contact_ids=[str(c) for c in edit.contact_ids],
            status=status.value,
            completeness=completeness(self.template_of(dossier), texts),
            search_text=_search_text(edit),
        )

    def set_status(self, dossier: Dossier, status: DossierStatus, user: User) -> Dossier:
        return self._update(dossier, user, "status", {"status": status.value}, status=status.value)

    def keep_conflicts(self, dossier: Dossier, kept: Sequence[Conflict], user: User) -> None:
        if not kept:
            return
        with self.workspace.write() as conn:
            conn.execute(
                insert(conflicts),
                [
                    {"id": uuid.uuid4(), "dossier_id": dossier.id, "section": c.section,
                     "text": c.mine, "author": user.name, "created_at": utcnow()}
                    for c in kept
                ],
            )  # fmt: skip
            log_change(conn, user, "dossiers", dossier.id, "conflict", [c.section for c in kept])

    def settle_conflict(self, dossier: Dossier, section: str, user: User) -> None:
        with self.workspace.write() as conn:
            conn.execute(
                update(conflicts)
                .where(
                    conflicts.c.dossier_id == dossier.id,
                    conflicts.c.section == section,
                    conflicts.c.settled_at.is_(None),
                )
                .values(settled_at=utcnow(), settled_by=user.name)
            )

    def rate(self, rating: Rating) -> None:
        now = utcnow()
        with self.workspace.write() as conn:
            done = conn.execute(
                update(ratings)
                .where(ratings.c.dossier_id == rating.dossier_id, ratings.c.rater == rating.rater)
                .values(stars=rating.stars, comment=rating.comment, updated_at=now,
                        changed_by=rating.rater, version=ratings.c.version + 1)
            )  # fmt: skip
            if done.rowcount == 0:
                conn.execute(
                    insert(ratings).values(
                        id=uuid.uuid4(), dossier_id=rating.dossier_id, rater=rating.rater,
                        stars=rating.stars, comment=rating.comment, created_at=now,
                        updated_at=now, changed_by=rating.rater, version=1,
                    )
                )  # fmt: skip


@dataclass(frozen=True)
class KeptConflict:
    section: str
    text: str
    author: str
    at: datetime


def kept_conflicts(workspace: Workspace, dossier_id: uuid.UUID) -> list[KeptConflict]:
    """Texts that lost to a concurrent save and are not settled yet, oldest first."""
    statement = (
        select(conflicts.c.section, conflicts.c.text, conflicts.c.author, conflicts.c.created_at)
        .where(conflicts.c.dossier_id == dossier_id, conflicts.c.settled_at.is_(None))
        .order_by(conflicts.c.created_at)
    )
    with workspace.read() as conn:
        return [KeptConflict(*r) for r in conn.execute(statement)]


def ratings_of(workspace: Workspace, dossier_id: uuid.UUID) -> list[Rating]:
    statement = (
        select(ratings)
        .where(ratings.c.dossier_id == dossier_id, ratings.c.deleted_at.is_(None))
        .order_by(ratings.c.updated_at.desc())
    )
    with workspace.read() as conn:
        return [
            Rating(r.dossier_id, r.rater, r.stars, r.comment, r.updated_at)
            for r in conn.execute(statement)
        ]


def complete_dossiers() -> Select[tuple[uuid.UUID]]:
    """The accounts whose dossier has every required section filled."""
    return select(dossiers.c.account_id).where(LIVE_DOSSIER, dossiers.c.completeness >= 100)


def dossier_complete_sql() -> ColumnElement[bool]:
    """True for accounts whose dossier has every required section filled."""
    return complete_dossiers().where(dossiers.c.account_id == accounts.c.id).exists()


# --- the dossier list ------------------------------------------------------------------------


@dataclass(frozen=True)
class DossierFilter:
    search: str = ""
    status: DossierStatus | None = None
    min_completeness: int = 0
    min_rating: int = 0  # 0: any, rated or not
    owner_id: uuid.UUID | None = None


@dataclass(frozen=True)
class DossierLine:
    dossier_id: uuid.UUID
    account_id: uuid.UUID
    account: str
    tier: str | None
    owner: str | None
    status: DossierStatus
    completeness: int
    rating: float | None
    ratings: int
    author: str
    updated_at: datetime


def _list_statement(chosen: DossierFilter) -> Any:
    stars = (
        select(
            ratings.c.dossier_id,
            func.avg(ratings.c.stars).label("rating"),
            func.count().label("ratings"),
        )
        .where(ratings.c.deleted_at.is_(None))
        .group_by(ratings.c.dossier_id)
        .subquery()
    )
    words = search_key(chosen.search).split()
    conditions = [
        LIVE_DOSSIER,
        dossiers.c.completeness >= chosen.min_completeness,
        *(dossiers.c.search_text.contains(w, autoescape=True) for w in words),
    ]
    if chosen.status is not None:
        conditions.append(dossiers.c.status == chosen.status.value)
    if chosen.min_rating:
        conditions.append(stars.c.rating >= chosen.min_rating)
    if chosen.owner_id is not None:
        conditions.append(targets.c.owner_id == chosen.owner_id)
    return (
        select(
            dossiers.c.id,
            dossiers.c.account_id,
            accounts.c.name,
            stored("tier"),
            users.c.name.label("owner"),
            dossiers.c.status,
            dossiers.c.completeness,
            stars.c.rating,
            func.coalesce(stars.c.ratings, 0),
            dossiers.c.author,
            dossiers.c.updated_at,
        )
        .select_from(
            dossiers.join(accounts, accounts.c.id == dossiers.c.account_id)
            .outerjoin(stars, stars.c.dossier_id == dossiers.c.id)
            .outerjoin(
                targets, and_(targets.c.account_id == accounts.c.id, targets.c.deleted_at.is_(None))
            )
            .outerjoin(users, users.c.id == targets.c.owner_id)
        )
        .where(and_(true(), *conditions))
    )


def dossier_lines(
    workspace: Workspace, chosen: DossierFilter, offset: int = 0, limit: int = 200
) -> list[DossierLine]:
    """A page of the dossier list, most recently changed first."""
    statement = (
        _list_statement(chosen)
        .order_by(dossiers.c.updated_at.desc(), dossiers.c.id)
        .offset(offset)
        .limit(limit)
    )
    with workspace.read() as conn:
        return [
            DossierLine(
                dossier_id=r[0],
                account_id=r[1],
                account=r[2],
                tier=r[3],
                owner=r[4],
                status=DossierStatus(r[5]),
                completeness=r[6],
                rating=None if r[7] is None else float(r[7]),
                ratings=int(r[8]),
                author=r[9],
                updated_at=r[10],
            )
            for r in conn.execute(statement)
        ]


def count_dossiers(workspace: Workspace, chosen: DossierFilter) -> int:
    inner = _list_statement(chosen).subquery()
    with workspace.read() as conn:
        return int(conn.execute(select(func.count()).select_from(inner)).scalar_one())
