"""The demo workspace's research: the default dossier template and dossiers on the best
listed accounts in every state: reviewed, ready, half-done drafts; many rated by reps."""

from __future__ import annotations

import random
import uuid

from sqlalchemy import select

from domain.dossiers import (
    DEFAULT_TEMPLATE,
    DossierEdit,
    DossierStatus,
    Source,
    rate_dossier,
    save_dossier,
    save_template,
    set_status,
    start_dossier,
)
from domain.users import User
from domain.values import counted
from storage.dossiers import SqlDossierStore
from storage.schema import ContactRow, table_of
from storage.targets import BEST_FIRST, LISTED, SqlTargetStore, accounts, targets
from storage.workspace import Workspace

contacts = table_of(ContactRow)
PER_REP = 30

_PAINS = [
    "Order volumes grew faster than the team; quotes take three days instead of one.",
    "Two ERP systems after an acquisition, and nobody trusts the customer numbers.",
    "Field staff still report on paper; managers see problems a week late.",
    "Margins are under pressure from energy prices & freight costs.",
    "Their biggest customer asked for EDI by Q3 — they cannot deliver it today.",
]
_NEWS = [
    "Opened a second site last spring; hiring 40 people (job ads on their careers page).",
    "New CFO since January, previously at a larger competitor.",
    "Won a regional award for sustainability; press release mentions digitising operations.",
    "Announced expansion into the Nordics; a new sales office in Malmö.",
    "Partnered with a Shanghai distributor (上海分销商) to enter China.",
]
_SOLUTIONS = [
    "Spreadsheets plus an old on-premise CRM; contract ends in December.",
    "A large suite they find too heavy; they use about 20% of it.",
    "A local IT partner built custom tools; the partner is retiring.",
    "Nothing central: each team has its own tools. Two competitors have pitched this year.",
]
_TALKING = [
    "- Ask how long a quote takes today, and what a lost quote costs.\n"
    "- Mention the customer in the same industry who cut quoting time by half.\n"
    "- Offer the 30-minute workflow review, not a demo.",
    "- Congratulate them on the new site; ask how they coordinate both.\n"
    "- The **one number** question: which figure would they like to trust again?\n"
    "- Suggest a pilot with one team.",
    "- Open with the EDI deadline; ask who owns it.\n"
    "- Explain our 6-week onboarding and the fixed price.",
]
_MESSAGING = (
    "Accord customers see every account, contact and call in one place. **We promise:** "
    "onboarding in six weeks, a fixed price per seat, and a named contact. We do not "
    "promise integrations we have not built — check the partner list before naming one."
)


def _texts(rng: random.Random, facts: dict[str, object], people: list[str]) -> dict[str, str]:
    size = f"{facts['employees']:,} people" if facts["employees"] else "a team of unknown size"
    place = ", ".join(str(p) for p in (facts["city"], facts["country"]) if p)
    return {
        "overview": f"{facts['name']} is a {str(facts['industry'] or 'business').lower()} "
        f"company in {place or 'an unknown place'} with {size}. Family-owned, growing "
        "steadily; sells mostly to other businesses in its region.",
        "decision_makers": "\n".join(f"- {p}" for p in people)
        or "- No decision-maker known yet: ask reception for the head of operations.",
        "needs": rng.choice(_PAINS),
        "news": rng.choice(_NEWS),
        "competition": rng.choice(_SOLUTIONS),
        "talking_points": rng.choice(_TALKING),
        "messaging": _MESSAGING,
        "sources": "Company website, annual report, LinkedIn, a call with their reception.",
    }


def demo_dossiers(workspace: Workspace, reviewer: User, researcher: User, seed: int) -> str:
    """Dossiers on each rep's best listed accounts, written by ``researcher`` and reviewed
    by ``reviewer``; returns a summary."""
    rng = random.Random(seed)
    team = SqlTargetStore(workspace).users_by_name()
    store = SqlDossierStore(workspace)
    save_template(store, researcher, DEFAULT_TEMPLATE, "agreed with sales at the kick-off")
    made = 0
    for rep in (u for u in team.values() if u.role == "rep"):
        with workspace.read() as conn:
            rows = conn.execute(
                select(accounts.c.id, accounts.c.name, accounts.c.employees, accounts.c.city,
                       accounts.c.country, accounts.c.industry, accounts.c.domain_key)
                .join(targets, targets.c.account_id == accounts.c.id)
                .where(LISTED, targets.c.owner_id == rep.id)
                .order_by(*BEST_FIRST)
                .limit(PER_REP)
            ).mappings().all()  # fmt: skip
        for n, facts in enumerate(rows):
            account_id = uuid.UUID(str(facts["id"]))
            with workspace.read() as conn:
                people = conn.execute(
                    select(contacts.c.id, contacts.c.name, contacts.c.title)
                    .where(contacts.c.account_id == account_id, contacts.c.decision_maker)
                ).all()  # fmt: skip
            texts = _texts(rng, dict(facts), [f"{p.name}, {p.title}" for p in people])
            if n % 5 == 3:  # a draft half-way through
                texts = {k: v for k, v in texts.items() if k in ("overview", "needs", "news")}
            elif n % 5 == 4:  # just started
                texts = {"overview": texts["overview"]}
            site = f"https://www.{facts['domain_key']}" if facts["domain_key"] else None
            sources = (Source(site, "Company website"),) if site else ()
            edit = DossierEdit(texts, sources, tuple(p.id for p in people))
            dossier = start_dossier(store, researcher, account_id)
            dossier = save_dossier(store, researcher, dossier, edit).dossier
            if n % 5 < 3:
                dossier = set_status(store, researcher, dossier, DossierStatus.READY)
            if n % 5 < 2:
                dossier = set_status(store, reviewer, dossier, DossierStatus.REVIEWED)
                stars = rng.choice([3, 4, 4, 5, 5])
                comment = rng.choice(["Good openers, the pain was spot on.",
                                      "Decision-maker had left; rest was useful.",
                                      "Exactly what I needed before the visit."])  # fmt: skip
                rate_dossier(store, rep, dossier, stars, comment)
            made += 1
    return counted(made, "dossier")
