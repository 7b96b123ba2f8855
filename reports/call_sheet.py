"""The call sheet: the one page the call pack prints for an account of the queue that has
no dossier, with what a rep needs to pick up the phone or walk in. The pack itself, with
its cover, contents and footer, is the dossier PDF's (:func:`reports.dossier_pdf.write_dossiers`);
user text is escaped by its :func:`~reports.dossier_pdf.text`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer

from domain.dossiers import PrintedDossier
from domain.queue import CallSheet
from domain.values import shown_time
from reports.dossier_pdf import write_dossiers
from reports.pdf_kit import BOLD, Styles, styled_table, text

#: The longest learned text a call sheet quotes from one interaction: a sheet is one page.
QUOTED = 280


def _cut(value: str) -> str:
    return value if len(value) <= QUOTED else value[: QUOTED - 1].rstrip() + "…"


def sheet_content(sheet: CallSheet) -> list[Flowable]:
    """What prints below the account's name: the facts, why now and the next step, the
    why of its fit, contacts, and the last interactions."""
    s = Styles
    story: list[Flowable] = []
    facts = " · ".join(f"{text(label)}: {text(value)}" for label, value in sheet.facts)
    if facts:
        story.append(Paragraph(facts, s.small))
    owner = f"Owner: {text(sheet.owner)}" if sheet.owner else "No owner yet"
    story.append(Paragraph(f"Call sheet (no dossier yet) · {owner} · priority {sheet.priority}"
                           f" · {text(sheet.stage)}", s.small))  # fmt: skip
    story.append(Spacer(1, 4))

    story.append(Paragraph(f"Why now: {text(sheet.why_now)}", s.heading))
    follow_up = f" (follow-up {sheet.follow_up:%Y-%m-%d})" if sheet.follow_up else ""
    step = text(sheet.next_step) if sheet.next_step else "No next step noted yet."
    story.append(Paragraph(f"<b>Next step:</b> {step}{follow_up}", s.body))
    phones = [("Main line", sheet.phone)] if sheet.phone else []
    phones += [(c.name, c.phone) for c in sheet.contacts if c.phone]
    if phones:
        numbers = " · ".join(f"{text(who)}: {text(number, BOLD)}" for who, number in phones)
        story.append(Paragraph(f"<b>Phone numbers:</b> {numbers}", s.body))

    fit = f"Fit score {sheet.score}, tier {sheet.tier}" if sheet.tier else "Not in any tier"
    block: list[Flowable] = [Paragraph(f"Why this account: {text(fit)}", s.heading)]
    if sheet.why:
        rows = [["Criterion", "Gave"]] + [[text(c), text(o)] for c, o in sheet.why]
        block.append(styled_table(rows, [130 * mm, 44 * mm]))
    story.append(KeepTogether(block))

    story.append(Paragraph("Contacts", s.heading))
    if sheet.contacts:
        rows = [["Contact", "Title", "Email", "Phone"]] + [
            [text(c.name) + (" <b>(decision-maker)</b>" if c.decision_maker else ""),
             text(c.title), text(c.email), text(c.phone)]
            for c in sheet.contacts
        ]  # fmt: skip
        story.append(styled_table(rows, [50 * mm, 42 * mm, 50 * mm, 32 * mm]))
    else:
        story.append(Paragraph("No contact yet: ask for the right person.", s.missing))

    story.append(Paragraph("Last interactions", s.heading))
    if sheet.interactions:
        rows = [["When", "What", "Contact", "By", "Learned · next step"]]
        for entry, contact in sheet.interactions:
            said = [text(_cut(entry.learned))] if entry.learned else []
            if entry.next_step:
                said.append(f"<b>Next:</b> {text(_cut(entry.next_step))}")
            rows.append([
                shown_time(entry.at), f"{entry.channel.label}: {entry.outcome.label.lower()}",
                text(contact), text(entry.logged_by), "<br/>".join(said),
            ])  # fmt: skip
        story.append(styled_table(rows, [25 * mm, 30 * mm, 28 * mm, 25 * mm, 66 * mm]))
    else:
        story.append(Paragraph("Nobody has called or visited yet.", s.missing))
    return story


@dataclass(frozen=True)
class _SheetPage:
    """A call sheet as a page of the pack (:class:`reports.dossier_pdf.PrintedPage`)."""

    sheet: CallSheet

    @property
    def account(self) -> str:
        return self.sheet.account

    def content(self) -> list[Flowable]:
        return sheet_content(self.sheet)


def write_call_pack(pages: Iterable[PrintedDossier | CallSheet], path: Path, **options: Any) -> int:
    """Write the queue's call pack: each account's dossier, or its call sheet, in the order
    given; ``options`` are :func:`~reports.dossier_pdf.write_dossiers`'. Returns how many
    accounts it holds."""
    return write_dossiers(
        (_SheetPage(p) if isinstance(p, CallSheet) else p for p in pages), path, **options
    )
