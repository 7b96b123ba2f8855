"""What the dossier PDF and the call pack print, read from the workspace: the account, its
fit and why under the active ICP, its place on the target list, contacts and the dossier."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, func, or_, select

from domain.dossiers import PrintedContact, PrintedDossier
from domain.errors import NotFound
from domain.fields import ACCOUNT_FIELDS
from domain.icp import IcpVersion, reasons
from domain.queue import CallSheet, QueueEntry, why_now
from domain.users import User
from domain.values import counted, normalize_domain
from storage.dossiers import LIVE_DOSSIER, SqlDossierStore, dossier_for, dossiers, ratings_of
from storage.icps import account_facts, active_version
from storage.interactions import account_interactions
from storage.schema import ContactRow, table_of
from storage.targets import (
    BEST_FIRST,
    LISTED,
    SqlTargetStore,
    accounts,
    target_entry,
    targets,
)
from storage.workspace import Workspace

contacts = table_of(ContactRow)
_SHOWN = ("website", "industry", "employees", "annual_revenue", "country", "city", "phone")
#: How many of the last interactions a call sheet lists.
SHEET_INTERACTIONS = 5


def find_account(workspace: Workspace, account: str) -> uuid.UUID:
    """The live account with this id, name (case ignored) or website domain."""
    domain = normalize_domain(account)
    by_name = func.lower(accounts.c.name) == account.strip().lower()
    match = or_(by_name, accounts.c.domain_key == domain) if domain else by_name
    with suppress(ValueError):  # when it is an id
        match = or_(match, accounts.c.id == uuid.UUID(account.strip()))
    with workspace.read() as conn:
        found = conn.execute(
            select(accounts.c.id, accounts.c.name)
            .where(accounts.c.deleted_at.is_(None), match)
            .limit(2)
        ).all()
    if not found:
        raise NotFound(f"No account has the id, name or website '{account}'.")
    if len(found) > 1:
        raise NotFound(f"More than one account matches '{account}': use its website or id.")
    return uuid.UUID(str(found[0].id))


def call_pack_accounts(
    workspace: Workspace, rep: User, limit: int | None = None
) -> list[uuid.UUID]:
    """The rep's listed accounts that have a dossier, first priority first, best fit first."""
    statement = (
        select(accounts.c.id)
        .select_from(
            targets.join(accounts, accounts.c.id == targets.c.account_id).join(
                dossiers, dossiers.c.account_id == accounts.c.id
            )
        )
        .where(LISTED, LIVE_DOSSIER, targets.c.owner_id == rep.id)
        .order_by(*BEST_FIRST)
        .limit(limit)
    )
    with workspace.read() as conn:
        return [uuid.UUID(str(i)) for i in conn.execute(statement).scalars()]


@dataclass(frozen=True)
class PrintJob:
    """What to print: the document's title, its cover lines (none: no cover and no table of
    contents) and the accounts in order."""

    title: str
    cover: tuple[str, ...]
    account_ids: list[uuid.UUID]


def dossier_job(workspace: Workspace, name_or_domain: str) -> PrintJob:
    account_id = find_account(workspace, name_or_domain)
    if dossier_for(workspace, account_id) is None:
        raise NotFound(f"'{name_or_domain}' has no dossier yet.")
    with workspace.read() as conn:
        name = conn.execute(select(accounts.c.name).where(accounts.c.id == account_id)).scalar()
    return PrintJob(f"Dossier: {name}", (), [account_id])


def call_pack_job(workspace: Workspace, rep_name: str, limit: int | None = None) -> PrintJob:
    """The rep's call pack: the dossiers of their accounts, by priority."""
    rep = SqlTargetStore(workspace).users_by_name().get(rep_name)
    if rep is None:
        raise NotFound(f"There is no user called '{rep_name}'.")
    ids = call_pack_accounts(workspace, rep, limit)
    with workspace.read() as conn:
        listed = conn.execute(
            select(func.count()).where(LISTED, targets.c.owner_id == rep.id)
        ).scalar_one()
    if not ids:
        raise NotFound(_nothing_to_pack(rep.name, listed))
    cover = [f"for {rep.name}", f"{counted(len(ids), 'account')}, first priority first"]
    missing = listed - len(call_pack_accounts(workspace, rep))
    if missing:
        have = "has" if missing == 1 else "have"
        cover.append(f"{missing:,} of {rep.name}'s {counted(listed, 'account')} {have} no "
                     "dossier yet")  # fmt: skip
    return PrintJob("Call pack", tuple(cover), ids)


def _nothing_to_pack(rep: str, listed: int) -> str:
    """Why a rep's call pack would be empty, and what to do about it."""
    if not listed:
        return (f"{rep} owns no account on the target list yet, so there is no call pack to "
                "print: assign owners in the Targets menu first.")  # fmt: skip
    which = (
        f"The one account {rep} owns on the target list has no dossier"
        if listed == 1
        else f"None of the {listed:,} accounts {rep} owns on the target list has a dossier"
    )
    return (f"{which} yet, so there is no call pack to print: start one from the "
            "account's dossier (Ctrl+D in the window).")  # fmt: skip


def _shown(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def printed_dossiers(
    workspace: Workspace, account_ids: Sequence[uuid.UUID]
) -> Iterator[PrintedDossier]:
    """The dossiers of ``account_ids`` in that order (accounts without one are skipped)."""
    version = active_version(workspace)
    for account_id in account_ids:
        printed = _printed_dossier(workspace, account_id, version)
        if printed is not None:
            yield printed


def _contacts(conn: Connection, account_id: uuid.UUID) -> list[Row[Any]]:
    """The account's live contacts, decision-makers first."""
    return list(
        conn.execute(
            select(contacts)
            .where(contacts.c.account_id == account_id, contacts.c.deleted_at.is_(None))
            .order_by(contacts.c.decision_maker.desc(), contacts.c.name)
        )
    )


def _printed_contact(row: Row[Any]) -> PrintedContact:
    return PrintedContact(
        row.name, row.title or "", row.email or "", row.phone or "", bool(row.decision_maker)
    )


def _facts(facts: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    labels = {f.name: f.label for f in ACCOUNT_FIELDS}
    return tuple((labels[n], _shown(facts[n])) for n in _SHOWN if facts.get(n))


def _why(version: IcpVersion | None, facts: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(reasons(version.icp.evaluate(facts))) if version is not None else ()


def _printed_dossier(
    workspace: Workspace, account_id: uuid.UUID, version: IcpVersion | None
) -> PrintedDossier | None:
    dossier = dossier_for(workspace, account_id)
    if dossier is None:
        return None
    with workspace.read() as conn:
        facts = account_facts(conn, account_id)
        people = _contacts(conn, account_id)
    linked = set(dossier.contact_ids)
    chosen = [p for p in people if p.id in linked] or people
    entry = target_entry(workspace, account_id) or {}
    scores = [r.stars for r in ratings_of(workspace, dossier.id)]
    template = SqlDossierStore(workspace).template_of(dossier)
    return PrintedDossier(
        account=facts["name"],
        facts=_facts(facts),
        score=facts["score"],
        tier=facts["tier"],
        why=_why(version, facts),
        owner=entry.get("owner"),
        priority=entry.get("priority"),
        stage=entry.get("stage"),
        status=dossier.status,
        completeness=dossier.completeness,
        author=dossier.author,
        updated_at=dossier.updated_at,
        sections=tuple((s, dossier.texts.get(s.key, "")) for s in template.sections),
        sources=dossier.sources,
        contacts=tuple(_printed_contact(p) for p in chosen),
        rating=sum(scores) / len(scores) if scores else None,
        ratings=len(scores),
    )


def queue_pack_job(workspace: Workspace, rep: str, entries: Sequence[QueueEntry]) -> PrintJob:
    """The call pack of the next accounts of a rep's queue, in its order: a dossier for
    each account that has one, a call sheet for each that has not."""
    if not entries:
        raise NotFound(f"{rep}'s call queue is empty, so there is no call pack to print.")
    ids = [entry.account_id for entry in entries]
    with workspace.read() as conn:
        researched = conn.execute(
            select(func.count()).where(dossiers.c.account_id.in_(ids), LIVE_DOSSIER)
        ).scalar_one()
    cover = (
        f"for {rep}",
        f"the next {counted(len(ids), 'account')} of the call queue, in its order",
        f"{counted(researched, 'dossier')} and {counted(len(ids) - researched, 'call sheet')}",
    )
    return PrintJob("Call pack", cover, ids)


def printed_pack(
    workspace: Workspace, entries: Sequence[QueueEntry], now: datetime, today: date
) -> Iterator[PrintedDossier | CallSheet]:
    """What the queue's call pack prints for each entry, in order: its dossier, or else
    its call sheet."""
    version = active_version(workspace)
    for entry in entries:
        printed = _printed_dossier(workspace, entry.account_id, version)
        yield printed if printed is not None else _call_sheet(workspace, entry, version, now, today)


def _call_sheet(
    workspace: Workspace,
    entry: QueueEntry,
    version: IcpVersion | None,
    now: datetime,
    today: date,
) -> CallSheet:
    with workspace.read() as conn:
        facts = account_facts(conn, entry.account_id)
        people = _contacts(conn, entry.account_id)
        history = [i for i, corrected in account_interactions(conn, entry.account_id)
                   if not corrected][:SHEET_INTERACTIONS]  # fmt: skip
    names = {p.id: p.name for p in people}
    owner = target_entry(workspace, entry.account_id) or {}
    return CallSheet(
        account=facts["name"],
        facts=_facts(facts),
        score=facts["score"],
        tier=facts["tier"],
        why=_why(version, facts),
        owner=owner.get("owner"),
        priority=entry.priority,
        stage=entry.stage.value,
        why_now=why_now(entry, now, today),
        next_step=entry.next_step,
        follow_up=entry.follow_up,
        phone=facts["phone"],
        contacts=tuple(_printed_contact(p) for p in people),
        interactions=tuple(
            (i, names.get(i.contact_id, "") if i.contact_id else "") for i in history
        ),
    )
