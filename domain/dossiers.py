"""Dossiers: the agreed research template and one account's research, section by section.

Marketing and sales first agree what a useful dossier contains (the template: ordered
sections with guidance and a required flag, versioned like the ICP); marketing then
researches dossiers on the most promising target accounts, and reps rate how useful each
one was. Section texts are Markdown-style plain text (paragraphs, ``- `` bullets,
``**bold**``): portable, and printed as typed.

Status rules:

- A dossier is a draft until every required section is filled; then marketing marks it
  ready, and an owner or marketer other than its author marks it reviewed.
- An edit that empties a required section makes the dossier a draft again; an edit to a
  reviewed dossier's text makes it ready (it needs a new review).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.errors import ConcurrentEditError, ValidationError
from domain.users import Action, User
from domain.values import clean_text

TEMPLATE_FORMAT = "accord-dossier-template"


@dataclass(frozen=True)
class Section:
    """One part of the research: ``key`` names it for good (texts are stored by key); the
    title and guidance are what the researcher reads."""

    key: str
    title: str
    guidance: str = ""
    required: bool = True


@dataclass(frozen=True)
class DossierTemplate:
    sections: tuple[Section, ...]

    def check(self) -> None:
        """Raise ValidationError unless the template can be saved."""
        if not self.sections:
            raise ValidationError({"sections": "a template has at least one section"})
        keys = [s.key for s in self.sections]
        if len(set(keys)) != len(keys):
            raise ValidationError({"sections": "two sections have the same key"})
        titles = [s.title.strip().casefold() for s in self.sections]
        if not all(titles):
            raise ValidationError({"sections": "every section has a title"})
        if len(set(titles)) != len(titles):
            raise ValidationError({"sections": "two sections have the same title"})

    def required(self) -> list[Section]:
        return [s for s in self.sections if s.required]

    def to_document(self) -> dict[str, Any]:
        return {
            "format": TEMPLATE_FORMAT,
            "sections": [
                {"key": s.key, "title": s.title, "guidance": s.guidance, "required": s.required}
                for s in self.sections
            ],
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> DossierTemplate:
        try:
            sections = tuple(
                Section(
                    key=str(item["key"]),
                    title=str(item["title"]),
                    guidance=str(item.get("guidance", "")),
                    required=bool(item.get("required", True)),
                )
                for item in document["sections"]
            )
        except (KeyError, TypeError) as exc:
            raise ValidationError({"template": f"not a dossier template ({exc})"}) from None
        template = cls(sections)
        template.check()
        return template


def section_key(title: str, taken: Iterable[str] = ()) -> str:
    """A stable key for a new section titled ``title``, unlike any of ``taken``."""
    base = re.sub(r"[^a-z0-9]+", "_", title.casefold()).strip("_")[:40] or "section"
    key, n, used = base, 2, set(taken)
    while key in used:
        key, n = f"{base}_{n}", n + 1
    return key


#: What a new workspace starts with: what the seeds say a thorough dossier holds.
DEFAULT_TEMPLATE = DossierTemplate(
    (
        Section("overview", "Company overview",
                "What they do, for whom, how big, where; how they make money."),
        Section("decision_makers", "Decision makers and buying roles",
                "Who decides, who influences, who signs; names, titles, how to reach them."),
        Section("needs", "Needs and pains",
                "What hurts today and what it costs them; what they are trying to achieve."),
        Section("news", "Recent news and triggers",
                "Funding, hires, expansion, new sites, regulation: reasons to call now.",
                required=False),
        Section("competition", "Current solution and competitors",
                "What they use today, who else is selling to them, contract dates."),
        Section("talking_points", "Talking points",
                "Three or four openers for the first call, in the customer's terms."),
        Section("messaging", "Approved messaging / value proposition",
                "What we promise, worded as marketing says it, so both teams say the same."),
        Section("sources", "Sources", "Where each fact comes from.", required=False),
    )
)  # fmt: skip


@dataclass(frozen=True)
class TemplateVersion:
    id: UUID
    number: int
    template: DossierTemplate
    note: str
    created_by: str
    created_at: datetime

    @property
    def label(self) -> str:
        return f"Template v{self.number}"


class DossierStatus(enum.StrEnum):
    DRAFT = "draft"
    READY = "ready"
    REVIEWED = "reviewed"


def completeness(template: DossierTemplate, texts: Mapping[str, str]) -> int:
    """Percent of the required sections that hold text (100 when none is required)."""
    required = template.required()
    if not required:
        return 100
    done = sum(1 for s in required if (texts.get(s.key) or "").strip())
    return 100 * done // len(required)


@dataclass(frozen=True)
class Source:
    url: str
    title: str = ""


@dataclass(frozen=True)
class Dossier:
    """One account's research as stored; ``version`` guards against silent overwrites."""

    id: UUID
    account_id: UUID
    template_version_id: UUID
    texts: Mapping[str, str]
    sources: tuple[Source, ...] = ()
    contact_ids: tuple[UUID, ...] = ()
    status: DossierStatus = DossierStatus.DRAFT
    completeness: int = 0
    author: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    changed_by: str = ""
    version: int = 1


@dataclass(frozen=True)
class DossierEdit:
    """What an editor sends: the texts, sources and linked contacts it shows."""

    texts: Mapping[str, str]
    sources: tuple[Source, ...] = ()
    contact_ids: tuple[UUID, ...] = ()

    def cleaned(self) -> DossierEdit:
        """The edit as stored: sections keep their lines and tabs, control characters go."""
        return DossierEdit(
            {key: clean_text(text) for key, text in self.texts.items()},
            tuple(Source(clean_text(s.url), clean_text(s.title)) for s in self.sources),
            self.contact_ids,
        )


def check_sources(sources: Sequence[Source]) -> None:
    for n, source in enumerate(sources, start=1):
        if not re.match(r"^(https?://|www\.)\S+$", source.url.strip(), re.IGNORECASE):
            raise ValidationError({"sources": f"source {n}: '{source.url}' is not a web link"})


def status_after_edit(
    dossier: Dossier, template: DossierTemplate, edit: DossierEdit
) -> DossierStatus:
    """The status rules above, applied to an edit."""
    if completeness(template, edit.texts) < 100:
        return DossierStatus.DRAFT
    changed = any(
        (edit.texts.get(k) or "") != (dossier.texts.get(k) or "")
        for k in set(edit.texts) | set(dossier.texts)
    )
    if dossier.status is DossierStatus.REVIEWED and changed:
        return DossierStatus.READY
    return dossier.status


def status_refusal(dossier: Dossier, user: User, status: DossierStatus) -> str | None:
    """Why ``dossier`` cannot move to ``status`` at ``user``'s hand, as the editor says it
    beside the button (None: it can). The role is checked by :func:`check_status`."""
    if status is not DossierStatus.DRAFT and dossier.completeness < 100:
        return "Fill in every required section first."
    if status is DossierStatus.REVIEWED:
        if dossier.status is DossierStatus.DRAFT:
            return "Only a ready dossier can be reviewed: mark it ready first."
        if dossier.author == user.name:
            return "Someone other than the author reviews a dossier, and you wrote this one."
    return None


def check_status(dossier: Dossier, user: User, status: DossierStatus) -> None:
    """Raise unless ``user`` may move ``dossier`` to ``status``."""
    user.require(Action.REVIEW_DOSSIER if status is DossierStatus.REVIEWED else Action.EDIT_DOSSIER)
    if (refusal := status_refusal(dossier, user, status)) is not None:
        raise ValidationError({"status": refusal})


@dataclass(frozen=True)
class Rating:
    """How useful a rep found a dossier: 1 (no use) to 5 (won me the meeting)."""

    dossier_id: UUID
    rater: str
    stars: int
    comment: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class Conflict:
    """A section both you and someone else changed: their text stays in the dossier and
    yours is kept beside it until someone settles it."""

    section: str
    mine: str
    theirs: str


def merge(
    base: Mapping[str, str], mine: Mapping[str, str], theirs: Mapping[str, str]
) -> tuple[dict[str, str], list[Conflict]]:
    """Three-way merge of section texts: a section only one side changed takes that side's
    text; a section both changed differently keeps theirs and reports a conflict holding
    yours, so that neither text is lost."""
    merged: dict[str, str] = {}
    conflicts: list[Conflict] = []
    for key in sorted(set(base) | set(mine) | set(theirs)):
        was, my_text, their_text = base.get(key, ""), mine.get(key, ""), theirs.get(key, "")
        if my_text in (was, their_text):
            merged[key] = their_text
        elif their_text == was:
            merged[key] = my_text
        else:
            merged[key] = their_text
            conflicts.append(Conflict(key, my_text, their_text))
    return merged, conflicts


class DossierStore(Protocol):
    def save_template(
        self, template: DossierTemplate, note: str, user: User
    ) -> TemplateVersion: ...
    def template_of(self, dossier: Dossier) -> DossierTemplate: ...
    def create(self, account_id: UUID, user: User) -> Dossier: ...
    def load(self, dossier_id: UUID) -> Dossier: ...
    def save(
        self, dossier: Dossier, edit: DossierEdit, status: DossierStatus, user: User
    ) -> Dossier: ...
    def keep_conflicts(
        self, dossier: Dossier, conflicts: Sequence[Conflict], user: User
    ) -> None: ...
    def settle_conflict(self, dossier: Dossier, section: str, user: User) -> None: ...
    def set_status(self, dossier: Dossier, status: DossierStatus, user: User) -> Dossier: ...
    def rate(self, rating: Rating) -> None: ...


def save_template(
    store: DossierStore, user: User, template: DossierTemplate, note: str = ""
) -> TemplateVersion:
    """Save the template as a new version; new dossiers follow it."""
    user.require(Action.EDIT_DOSSIER_TEMPLATE)
    template.check()
    return store.save_template(template, note.strip(), user)


def start_dossier(store: DossierStore, user: User, account_id: UUID) -> Dossier:
    """A new, empty draft on the current template for an account."""
    user.require(Action.EDIT_DOSSIER)
    return store.create(account_id, user)


@dataclass(frozen=True)
class Saved:
    """A saved dossier, and the sections where someone else's text won over yours (yours
    is kept with the dossier until someone settles it)."""

    dossier: Dossier
    conflicts: tuple[Conflict, ...] = ()


def save_dossier(store: DossierStore, user: User, dossier: Dossier, edit: DossierEdit) -> Saved:
    """Store an edit of ``dossier`` as it was loaded (the autosave calls this). If someone
    else saved it in the meantime, their changes and yours are merged section by section;
    where both changed a section, theirs stays and yours is kept as a conflict."""
    user.require(Action.EDIT_DOSSIER)
    edit = edit.cleaned()
    check_sources(edit.sources)
    template = store.template_of(dossier)
    try:
        return Saved(store.save(dossier, edit, status_after_edit(dossier, template, edit), user))
    except ConcurrentEditError:
        theirs = store.load(dossier.id)
    texts, conflicts = merge(dossier.texts, edit.texts, theirs.texts)
    merged = DossierEdit(
        texts,
        tuple(dict.fromkeys((*theirs.sources, *edit.sources))),
        tuple(dict.fromkeys((*theirs.contact_ids, *edit.contact_ids))),
    )
    saved = store.save(theirs, merged, status_after_edit(theirs, template, merged), user)
    store.keep_conflicts(saved, conflicts, user)
    return Saved(saved, tuple(conflicts))


def settle_conflict(store: DossierStore, user: User, dossier: Dossier, section: str) -> None:
    """Drop a kept conflict once its text has been taken into the section (or let go)."""
    user.require(Action.EDIT_DOSSIER)
    store.settle_conflict(dossier, section, user)


def set_status(store: DossierStore, user: User, dossier: Dossier, status: DossierStatus) -> Dossier:
    check_status(dossier, user, status)
    return store.set_status(dossier, status, user)


def rate_dossier(
    store: DossierStore, user: User, dossier: Dossier, stars: int, comment: str = ""
) -> None:
    """A rep's rating of how useful the dossier was; rating again replaces it."""
    user.require(Action.RATE_DOSSIER)
    if stars not in range(1, 6):
        raise ValidationError({"rating": "a rating is 1 to 5 stars"})
    store.rate(Rating(dossier.id, user.name, stars, clean_text(comment).strip()))


# --- a dossier as printed ----------------------------------------------------------------------


@dataclass(frozen=True)
class PrintedContact:
    name: str
    title: str
    email: str
    phone: str
    decision_maker: bool


@dataclass(frozen=True)
class PrintedDossier:
    """Everything a printed dossier shows, read from the workspace in one go."""

    account: str
    facts: tuple[tuple[str, str], ...]  # (label, value) of the account's filled fields
    score: int | None
    tier: str | None
    why: tuple[tuple[str, str], ...]  # (criterion, what it gave)
    owner: str | None
    priority: int | None
    stage: str | None
    status: DossierStatus
    completeness: int
    author: str
    updated_at: datetime | None
    sections: tuple[tuple[Section, str], ...]
    sources: tuple[Source, ...]
    contacts: tuple[PrintedContact, ...]
    rating: float | None = None
    ratings: int = 0
