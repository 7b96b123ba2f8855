"""The written plan as report sections: short, to print, sign and hand round (``report
plan``, the Plan window)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import zip_longest
from typing import Any

from sqlalchemy import Connection, select

from domain.agreement import Agreement, MarketingSide, SalesSide
from domain.dossiers import DEFAULT_TEMPLATE, DossierTemplate
from domain.goal import Goal
from domain.plan import PART_TITLES, PlanState, Side
from domain.report import Scope, Section
from domain.tables import ColumnKind, TableColumn, TableData
from domain.values import counted, in_words
from storage.icps import read_active_version
from storage.leads import lead_definition_in
from storage.plan import agreements, goals, plan_state_in, templates

GOAL, ICP, LEAD_DEFINITION, AGREEMENT, TEMPLATE = (
    PART_TITLES[part] for part in ("goal", "icp", "lead_definition", "agreement", "template")
)
ARITHMETIC = "From the goal to the agreement"
SIGN_OFF = "Sign-off"


def _text_table(title: str, headings: Sequence[str], rows: list[tuple[Any, ...]]) -> TableData:
    return TableData(title, [TableColumn(h) for h in headings], rows, len(rows))


def _newest(conn: Connection, table: Any) -> Mapping[str, Any] | None:
    document: Mapping[str, Any] | None = conn.execute(
        select(table.c.document).order_by(table.c.number.desc()).limit(1)
    ).scalar()
    return document


def plan_sections(conn: Connection, scope: Scope) -> list[Section]:
    """The goal, the ICP, the lead definition, the agreement and the dossier template at
    their current versions, the goal-to-agreement arithmetic, and the sign-offs."""
    state = plan_state_in(conn)
    versions = dict(state.current.parts())
    goal_document = _newest(conn, goals)
    agreement_document = _newest(conn, agreements)
    agreement = None if agreement_document is None else Agreement.from_document(agreement_document)
    template_document = _newest(conn, templates)
    template = (
        DEFAULT_TEMPLATE
        if template_document is None
        else DossierTemplate.from_document(template_document)
    )
    return [
        _status(state),
        _goal(None if goal_document is None else Goal.from_document(goal_document), versions),
        _icp(conn, versions),
        _lead_definition(conn, versions),
        _agreement(agreement, versions),
        _template(template, versions),
        _arithmetic(agreement),
        _signatures(state),
    ]


def _heading(part: str, versions: Mapping[str, str]) -> str:
    return f"{part} — {versions[part]}"


def _status(state: PlanState) -> Section:
    parts = _text_table("The plan's parts", ("Part", "Version"), state.current.parts())
    signed = [
        (
            s.side.capitalize(),
            s.signed_by,
            s.signed_at,
            "; ".join(f"{part}: {version}" for part, version in s.versions.parts()),
        )
        for s in state.sign_offs
    ]
    columns = [
        TableColumn("Side"),
        TableColumn("Signed by"),
        TableColumn("Signed at", ColumnKind.DATETIME),
        TableColumn("Versions signed"),
    ]
    sign_offs = TableData("Sign-offs", columns, signed, len(signed))
    return Section(f"The plan: {state.status.lower()}", tables=[parts, sign_offs],
                   notes=state.summary())  # fmt: skip


def _goal(goal: Goal | None, versions: Mapping[str, str]) -> Section:
    section = Section(_heading(GOAL, versions))
    if goal is None:
        section.notes.append("No shared goal has been set yet: the owner sets it.")
        return section
    section.notes.append(
        f"{goal.metric.label}: {goal.target:,} from {goal.period.label} "
        f"({counted(goal.months, 'month')}), owned by {in_words(list(goal.owners))}."
    )
    return section


def _icp(conn: Connection, versions: Mapping[str, str]) -> Section:
    section = Section(_heading(ICP, versions))
    version = read_active_version(conn)
    if version is None:
        section.notes.append("No ideal customer profile has been applied to the accounts yet.")
        return section
    icp = version.icp
    criteria = [
        (c.describe(), "must-have" if c.must_have else f"weight {c.weight}") for c in icp.criteria
    ]
    section.tables.append(_text_table("Criteria", ("Criterion", "Counts as"), criteria))
    section.notes.append(
        f"Tier A from a score of {icp.tier_a}, tier B from {icp.tier_b}, "
        f"tier C below {icp.tier_b}; an account failing a must-have is excluded."
    )
    return section


def _lead_definition(conn: Connection, versions: Mapping[str, str]) -> Section:
    rules = [(rule.describe(),) for rule in lead_definition_in(conn).rules]
    checklist = _text_table("Lead definition", ("A sales-ready account has",), rules)
    section = Section(_heading(LEAD_DEFINITION, versions), tables=[checklist])
    if not rules:
        section.notes.append("The checklist is empty: every listed account is sales-ready.")
    return section


def marketing_promises(side: MarketingSide) -> list[str]:
    """What marketing promises sales, as the plan prints it."""
    per_rep = f", {side.handoffs_per_rep} per rep" if side.handoffs_per_rep else ""
    promises = [f"{counted(side.handoffs_per_month, 'sales-ready hand-off')} a month{per_rep}"]
    if side.min_average_quality is not None:
        promises.append(
            f"An average lead-quality rating of at least {side.min_average_quality:g} of 5"
        )
    if side.min_accepted_share is not None:
        promises.append(f"At least {side.min_accepted_share:.0%} of hand-offs accepted by reps")
    if side.min_tier_a_share is not None:
        promises.append(f"At least {side.min_tier_a_share:.0%} of hand-offs in tier A")
    return promises


def sales_promises(side: SalesSide) -> list[str]:
    """What sales promises marketing, as the plan prints it."""
    return [
        f"First touch within {counted(side.first_touch_days, 'business day')} of the hand-off",
        f"At least {counted(side.attempts, 'attempt')} within "
        f"{counted(side.attempts_days, 'day')} of the hand-off",
        "Follow-up dates kept",
        f"A lead-quality rating within {counted(side.feedback_days, 'day')} of the first "
        "meaningful conversation",
        f"Each rule met for at least {side.on_time_share:.0%} of hand-offs",
    ]


def _agreement(agreement: Agreement | None, versions: Mapping[str, str]) -> Section:
    section = Section(_heading(AGREEMENT, versions))
    if agreement is None:
        section.notes.append("No service agreement has been written yet: the owner writes it.")
        return section
    rows = list(
        zip_longest(
            marketing_promises(agreement.marketing), sales_promises(agreement.sales), fillvalue=""
        )
    )
    section.tables.append(
        _text_table("Service agreement", ("Marketing promises", "Sales promises"), rows)
    )
    if agreement.note.strip():
        section.notes.append(agreement.note)
    return section


def _template(template: DossierTemplate, versions: Mapping[str, str]) -> Section:
    rows = [(s.title, "required" if s.required else "optional", s.guidance)
            for s in template.sections]  # fmt: skip
    table = _text_table("Dossier template", ("Section", "In a dossier", "What it holds"), rows)
    return Section(_heading(TEMPLATE, versions), tables=[table])


def _arithmetic(agreement: Agreement | None) -> Section:
    section = Section(ARITHMETIC)
    steps = [] if agreement is None else list(agreement.arithmetic)
    if not steps:
        section.notes.append(
            "The agreement's numbers were entered without working them out from the goal."
            if agreement is not None
            else "There is no agreement yet, so no arithmetic from the goal to it."
        )
        return section
    rows = [(str(s.get("step", "")), _figure(s), str(s.get("how", ""))) for s in steps]
    section.tables.append(_text_table("Arithmetic", ("Step", "Figure", "How"), rows))
    return section


def _figure(step: Mapping[str, Any]) -> str:
    """A step's figure: a rate (its step is named ``from → to``) as a percentage."""
    figure = step.get("figure")
    if not isinstance(figure, int | float):
        return str(figure or "")
    return f"{figure:.0%}" if "→" in str(step.get("step", "")) else f"{figure:,.0f}"


def _signatures(state: PlanState) -> Section:
    rows = []
    for side in Side:
        signed = state.latest(side)
        rows.append((f"For {side}", signed.signed_by if signed else "", "", ""))
    table = _text_table("Signatures", ("Side", "Name", "Signature", "Date"), rows)
    return Section(SIGN_OFF, tables=[table])
