"""Engagement: what an account did towards marketing (an event attended, a webinar, a
content download, an email reply, a form fill, a campaign response), imported from files.
It is used to rank the call queue and, with its campaign and source, in the closed loop.

An engagement file is a marketing tool's export (HubSpot, Mailchimp, Salesforce campaign
members, Eventbrite or Zoom attendee lists): each row is matched to an account by a
contact's e-mail, a website's domain or the account's name, in that order."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from domain.fields import Field, Kind
from domain.importing import CUSTOM, IGNORE, FileRefused, ImportOptions, ImportSummary
from domain.progress import Cancel, Progress
from domain.users import Action, User
from domain.values import counted, in_words


class EngagementKind(enum.StrEnum):
    EVENT = "event attended"
    WEBINAR = "webinar"
    CONTENT = "content download"
    EMAIL_REPLY = "email reply"
    FORM = "form fill"
    CAMPAIGN = "campaign response"

    @property
    def label(self) -> str:
        return self.value.capitalize()


#: What people and marketing tools write for each kind (an export's activity type, a
#: Salesforce campaign member's status, an Eventbrite attendee's status), besides the
#: kind's own words.
SYNONYMS: dict[EngagementKind, tuple[str, ...]] = {
    EngagementKind.EVENT: (
        "event", "attended", "attended event", "event attendance", "attendee", "attending",
        "checked in", "check-in", "check in", "registered attendee", "trade show",
        "tradeshow", "conference", "booth visit", "meetup", "in-person event", "visited booth"),
    EngagementKind.WEBINAR: (
        "webinar attended", "attended webinar", "webinar attendee", "webinar registration",
        "registered for webinar", "webcast", "virtual event", "online event", "zoom webinar",
        "live stream", "on-demand webinar"),
    EngagementKind.CONTENT: (
        "download", "downloaded", "content", "content downloaded", "asset download",
        "whitepaper", "white paper", "whitepaper download", "ebook", "e-book",
        "ebook download", "case study", "report download", "gated content"),
    EngagementKind.EMAIL_REPLY: (
        "reply", "replied", "email replied", "e-mail reply", "email response",
        "responded to email", "replied to email"),
    EngagementKind.FORM: (
        "form", "form submission", "form submitted", "submitted form", "form fill-out",
        "form fill out", "filled out form", "contact form", "contact us", "demo request",
        "requested demo", "landing page form", "sign up", "signup", "subscribed"),
    EngagementKind.CAMPAIGN: (
        "campaign", "responded", "response", "responded to campaign", "campaign member",
        "clicked", "email click", "email clicked", "link clicked", "converted"),
}  # fmt: skip

_KIND_NOISE = re.compile(r"[\s_]+")


def _kind_key(text: str) -> str:
    return _KIND_NOISE.sub(" ", text.strip().casefold())


_KINDS: dict[str, EngagementKind] = {
    _kind_key(word): kind
    for kind in EngagementKind
    for word in (kind.value, kind.name, *SYNONYMS[kind])
}


def parse_kind(text: str) -> EngagementKind:
    """An engagement's kind as people write it ("Webinar", "Checked In", "Form
    submission"). Raises ValueError saying which kinds there are."""
    kind = _KINDS.get(_kind_key(text))
    if kind is None:
        kinds = in_words([k.value for k in EngagementKind], "or")
        raise ValueError(f"'{text}' is not a kind of engagement Accord knows: write {kinds}")
    return kind


#: Times that exports write besides ISO 8601, tried in this order: a date with slashes is
#: month first as American exports write it (day first when the first number is over 12),
#: with dots day first.
_TIME_LAYOUTS = (
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
    "%m/%d/%Y", "%m/%d/%y %I:%M %p", "%m/%d/%y %H:%M", "%m/%d/%y",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
    "%b %d, %Y %I:%M %p", "%b %d, %Y %I:%M:%S %p", "%b %d, %Y %H:%M", "%b %d, %Y",
    "%B %d, %Y %I:%M %p", "%B %d, %Y", "%d %b %Y %H:%M", "%d %b %Y", "%d %B %Y",
    "%a, %d %b %Y %H:%M:%S", "%A, %B %d, %Y %I:%M %p", "%A, %B %d, %Y",
)  # fmt: skip
_ZONE_NAMES = re.compile(r"\s*\b(UTC|GMT|Z)$", re.IGNORECASE)
#: The longest of those names: only a text's end is searched for one.
_ZONE_LENGTH = 3


def parse_time(text: str) -> datetime:
    """When an engagement happened, as exports write it, in UTC. A time without a zone is
    this computer's clock (as Accord shows times); "UTC", "GMT", "Z" or an offset say
    otherwise. Raises ValueError with a reason."""
    value = text.strip()
    zoned = _ZONE_NAMES.search(value, max(0, len(value) - _ZONE_LENGTH))
    if zoned:
        value = value[: zoned.start()].strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = _in_a_layout(value)
    if zoned:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _in_a_layout(value: str) -> datetime:
    for layout in _TIME_LAYOUTS:
        try:
            return datetime.strptime(value, layout)
        except ValueError:
            continue
    raise ValueError(
        f"'{value}' is not a date Accord can read: write it as 2025-03-14 or "
        "2025-03-14 15:30 (or 3/14/2025 3:30 PM)"
    )


@dataclass(frozen=True)
class _ReadField(Field):
    """A field whose cells are read by ``read`` (a kind, a time) rather than by its
    Kind's parser."""

    read: Callable[[str], Any] = str

    @cached_property
    def _parse_value(self) -> Callable[[str], Any]:
        return self.read


#: The columns of an engagement file. Which account a row is: a contact's e-mail, else a
#: website's domain (the e-mail's own domain when no website is given), else a name.
ENGAGEMENT_FIELDS: tuple[Field, ...] = (
    Field("email", "Contact Email", Kind.EMAIL, aliases=(
        "email", "e-mail", "email address", "e-mail address", "contact email", "work email",
        "attendee email", "registrant email", "member email", "lead email", "person email",
        "email 1", "mail", "subscriber email", "respondent email")),
    Field("website", "Website", Kind.DOMAIN, aliases=(
        "website", "web site", "domain", "company domain name", "company domain", "url",
        "website url", "company website", "account website", "homepage", "email domain")),
    Field("account", "Account Name", aliases=(
        "account", "account name", "company", "company name", "organization",
        "organisation", "organization name", "business name", "associated company",
        "company / account", "company/account", "employer", "firm")),
    _ReadField("kind", "Engagement", required=True, read=parse_kind, aliases=(
        "engagement", "engagement type", "kind", "type", "activity", "activity type",
        "event type", "status", "member status", "campaign member status",
        "attendee status", "interaction type", "action")),
    _ReadField("at", "Date", required=True, read=parse_time, aliases=(
        "date", "time", "timestamp", "when", "at", "date and time", "activity date",
        "engagement date", "event date", "join time", "registration time", "check-in date",
        "checked in date", "order date", "first responded date", "responded date",
        "created date", "date created", "created", "submitted at", "submission date",
        "download date", "conversion date", "recent conversion date",
        "first conversion date", "optin time", "confirm time", "last changed")),
    Field("campaign", "Campaign", aliases=(
        "campaign", "campaign name", "event", "event name", "webinar", "webinar name",
        "webinar topic", "topic", "list", "audience", "list name", "form", "form name",
        "asset", "content", "recent conversion", "first conversion", "email campaign")),
    Field("source", "Source", aliases=(
        "source", "lead source", "utm source", "original source", "channel", "medium",
        "utm medium", "source channel", "traffic source")),
    Field("detail", "Detail", max_length=4000, aliases=(
        "detail", "details", "notes", "note", "description", "comments", "comment",
        "page", "page url", "asset title", "content title", "answer", "question")),
)  # fmt: skip


def engagement_fields(kind_chosen: bool) -> tuple[Field, ...]:
    """The fields of a file: its kind column is not needed when a kind is chosen for
    every row."""
    if not kind_chosen:
        return ENGAGEMENT_FIELDS
    return tuple(replace(f, required=False) if f.name == "kind" else f for f in ENGAGEMENT_FIELDS)


#: The fields that say which account a row is, in the order they are tried.
MATCHED_BY = ("email", "website", "account")


@dataclass
class EngagementOptions(ImportOptions):
    """How to read an engagement file: an import's options, and what a row takes when
    the file does not say it."""

    #: The kind of every row, for a file without a kind column (an attendee list).
    kind: EngagementKind | None = None
    #: The campaign and the source of every row whose own cell is empty.
    campaign: str | None = None
    source: str | None = None


def engagement_mapping(mapped_fields: Sequence[str]) -> list[str]:
    """A mapping for an engagement file: an engagement has no custom fields, so a column
    that names no field is ignored."""
    return [IGNORE if m.startswith(CUSTOM) else m for m in mapped_fields]


def check_matched_by(file_name: str, mapped_fields: Sequence[str]) -> None:
    """Refuse a mapping that cannot match a row to an account."""
    if not set(MATCHED_BY) & set(mapped_fields):
        labels = in_words([f.label for f in ENGAGEMENT_FIELDS if f.name in MATCHED_BY], "or")
        raise FileRefused(
            f"{file_name}: no column says which account a row is: map a column to {labels}."
        )


def check_kind_given(
    file_name: str, mapped_fields: Sequence[str], kind: EngagementKind | None
) -> None:
    """Refuse a mapping that gives no kind, or gives it twice (a kind column and a kind
    for every row)."""
    if kind is not None and "kind" in mapped_fields:
        raise FileRefused(
            f"{file_name}: a column gives each row's kind of engagement, and a kind is also "
            f"chosen for every row ({kind.value}): ignore that column, or do not choose a kind."
        )
    if kind is None and "kind" not in mapped_fields:
        kinds = in_words([k.value for k in EngagementKind], "or")
        raise FileRefused(
            f"{file_name}: no column gives the kind of engagement: map one to Engagement, "
            f"or choose one kind for every row ({kinds})."
        )


#: How each way of matching is said in an import's summary, in the order they are tried.
MATCHED_BY_WORDS = {"email": "by contact e-mail", "website": "by website domain",
                    "account": "by name"}  # fmt: skip
#: How many of the accounts an ambiguous row may be its rejection names: a name that a
#: hundred accounts share is said with a few of them and how many more.
SHOWN_CANDIDATES = 3


@dataclass
class EngagementSummary(ImportSummary):
    """What an engagement import did: rows are only ever added (never updated), each found
    its account one way, and a row is rejected because no account or several match it."""

    #: Engagements added, by the field whose way of matching found their account.
    added_by: dict[str, int] = field(default_factory=dict)
    #: Rows rejected because no account matches them, and because several accounts do.
    unmatched: int = 0
    ambiguous: int = 0

    def tally(self) -> list[str]:
        ways = [f"{self.added_by[f]:,} {w}" for f, w in MATCHED_BY_WORDS.items()
                if self.added_by.get(f)]  # fmt: skip
        said = [counted(self.created, "engagement") + " added"
                + (f" ({in_words(ways)})" if ways else "")]  # fmt: skip
        if self.skipped:
            said.append(f"{counted(self.skipped, 'row')} imported before, skipped")
        if self.warned:
            said.append(f"{counted(self.warned, 'cell')} not read and left empty")
        why = []
        if self.unmatched:
            why.append(f"{self.unmatched:,} matching no account")
        if self.ambiguous:
            why.append(f"{self.ambiguous:,} matching several accounts")
        if unread := self.rejected - self.unmatched - self.ambiguous:
            why.append(f"{unread:,} with a cell Accord cannot read")
        rejected = f"{self.rejected:,} rejected"
        return [*said, f"{rejected} ({in_words(why)})" if self.rejected else rejected]


@dataclass(frozen=True)
class Candidate:
    """An account an ambiguous row may be, as its rejection lists it."""

    id: UUID
    name: str
    website: str | None
    country: str | None

    def describe(self) -> str:
        return ", ".join(v for v in (self.name, self.website, self.country) if v)


def ambiguous(by: str, candidates: Sequence[Candidate], sharing: int) -> str:
    """Why a row whose e-mail, website or name ``sharing`` accounts share is rejected, with
    ``candidates``, the first few of them (SHOWN_CANDIDATES)."""
    listed = "; ".join(sorted(c.describe() for c in candidates[:SHOWN_CANDIDATES]))
    if more := sharing - min(len(candidates), SHOWN_CANDIDATES):
        listed += f" and {more:,} more"
    return (
        f"{sharing:,} accounts have this {by} ({listed}): give a contact's e-mail or "
        "the account's website to tell which"
    )


NOT_FOUND = (
    "no account has this contact e-mail, website or name: add the account (or its contact) "
    "and import the row again"
)


class EngagementImporter(Protocol):
    """Where the rows go: storage's importer (storage.importing.engagement), which takes a
    whole file in one transaction and is undone as an import batch."""

    def run(
        self,
        user: User,
        path: Path,
        options: EngagementOptions,
        progress: Progress | None,
        cancel: Cancel | None,
    ) -> ImportSummary: ...


def import_engagement(
    importer: EngagementImporter,
    user: User,
    path: Path,
    options: EngagementOptions | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ImportSummary:
    """Import a file of engagement if ``user`` may import: all of it or (on a failure or
    Cancel) nothing. Rows that match no account, or several, are rejected and listed."""
    user.require(Action.IMPORT)
    return importer.run(user, path, options or EngagementOptions(), progress, cancel)
