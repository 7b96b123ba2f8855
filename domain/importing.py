"""Rules of an import: finding the header row, mapping columns to fields, parsing a row,
and what to do with a duplicate. The files themselves are read in storage."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from domain.errors import AccordError, printable
from domain.fields import (
    CUSTOM_PREFIX,
    FIRST_NAME_ALIASES,
    LAST_NAME_ALIASES,
    Field,
    custom_fields,
    field_for_header,
    fields_for_header,
    header_key,
)
from domain.progress import Cancel, Progress
from domain.users import Action, User
from domain.values import clean_text, counted, normalize_domain, unprotect_cell

#: What a column maps to besides a field: a custom field, and the parts of a person's name.
CUSTOM = "custom:"
FIRST_NAME = "first_name"
LAST_NAME = "last_name"
IGNORE = ""
#: What the mapping calls the name parts a contacts file may have instead of a full name.
NAME_PART_LABELS = {FIRST_NAME: "First name", LAST_NAME: "Last name"}


class OnDuplicate(enum.StrEnum):
    SKIP = "skip"
    FILL = "fill"
    OVERWRITE = "overwrite"


@dataclass
class ImportOptions:
    mapped_fields: list[str] | None = None  # one per header; None → saved mapping or auto-mapping
    mapping_file: Path | None = None
    sheet: str | None = None
    encoding: str | None = None  # a CSV file's; None → guessed from its first lines
    delimiter: str | None = None  # a CSV file's; None → guessed from its first lines
    on_duplicate: OnDuplicate = OnDuplicate.SKIP
    strict: bool = False


class FileRefused(AccordError):
    """The file cannot be imported at all (nothing was changed)."""


class ImportCancelled(AccordError):
    def __init__(self) -> None:
        super().__init__("The import was cancelled; the workspace is as it was before.")


class DiskFull(AccordError):
    def __init__(self, file_name: str) -> None:
        super().__init__(
            f"The disk is full: nothing was imported from {file_name}, the workspace is as it "
            "was. Free some space and import again."
        )


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str

    def describe(self, file_name: str) -> str:
        where = f"row {self.row}" + (f", column '{self.column}'" if self.column else "")
        return printable(f"{file_name}: {where}: {self.reason}")


class Outcome(enum.StrEnum):
    """What became of a row that matched a stored account (or an earlier row)."""

    SKIPPED = "skipped"
    UPDATED = "updated"
    #: The website matched but the name and the country both differ: imported as a new
    #: account and flagged for review, never merged by itself.
    POSSIBLE = "possible duplicate"


@dataclass(frozen=True)
class Matched:
    """A row that matched an account: what it matched, how, and what became of it."""

    row: int
    name: str
    outcome: Outcome
    account: str  # the matched account, as "Name (Country)"
    by_website: bool

    def said(self) -> str:
        """What became of the row, in a sentence."""
        how = "its website" if self.by_website else "its name and country"
        if self.outcome is Outcome.POSSIBLE:
            return printable(
                f"{self.name} may duplicate {self.account}: the website is the same, the "
                "name and the country are not. It was imported as a new account; merge the "
                "two or keep both in File › Import history."
            )
        did = "skipped" if self.outcome is Outcome.SKIPPED else "merged into it"
        return printable(f"{self.name} matches {self.account} by {how}: {did}.")

    def describe(self) -> str:
        return f"row {self.row}: {self.said()}"


def possible_duplicate(row: tuple[str, str], stored: tuple[str, str]) -> bool:
    """Whether a row whose website matches a stored account is only *possibly* that
    account: its name and its country (normalised, ``(name, country)``) both differ. A
    missing country differs from none: one shared website is then taken as one company."""
    (name, country), (stored_name, stored_country) = row, stored
    return name != stored_name and bool(country and stored_country) and country != stored_country


def named(name: str, country: str | None) -> str:
    """An account as a summary names it: ``Arroyo Inc (Grenada)``."""
    return f"{name} ({country})" if country else name


#: How many rejected rows an import's summary holds in memory, for the summary page and the
#: command line's messages: a person reads the first thousand, not 200,000. Every rejected
#: row goes to the rejects file all the same (:meth:`ImportSummary.rejected_rows`).
SHOWN_REJECTS = 1000


@dataclass
class ImportSummary:
    file_name: str
    batch_id: UUID | None = None
    created: int = 0
    updated: int = 0
    skipped: int = 0
    #: The first SHOWN_REJECTS rejected rows: why, and the row as it was in the file.
    errors: list[RowError] = field(default_factory=list)
    #: Every row that matched an account: skipped, merged, or kept apart for review.
    matched: list[Matched] = field(default_factory=list)
    #: The rejected rows as they were in the file, for a file to fix and re-import.
    rejected_cells: list[list[str]] = field(default_factory=list)
    #: Whether the file is CSV text (whose cells may carry an export's apostrophe).
    from_csv: bool = False
    #: The rejected rows beyond those.
    more_rejected: int = 0
    #: Every rejected row, in file order, when there are more than SHOWN_REJECTS (storage
    #: keeps them on disk).
    all_rejected: Iterable[tuple[RowError, list[str]]] | None = None
    headers: list[str] = field(default_factory=list)
    #: What the user should know about how the file was read (a workbook's macros ignored).
    notes: list[str] = field(default_factory=list)
    #: Country spellings that name no country Accord knows, with the rows that have each:
    #: those accounts keep what was typed and have no country code.
    unknown_countries: dict[str, int] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return len(self.rejected_cells) + self.more_rejected

    def rejected_rows(self) -> Iterator[tuple[RowError, list[str]]]:
        """Every rejected row with its error, for a file to fix and re-import."""
        return iter(self.all_rejected or zip(self.errors, self.rejected_cells, strict=True))

    def unknown_countries_line(self) -> str:
        """The unknown country spellings in a sentence, or "" when there is none."""
        if not self.unknown_countries:
            return ""
        spellings = sorted(self.unknown_countries.items(), key=lambda item: (-item[1], item[0]))
        listed = ", ".join(f"'{text}' ({counted(rows, 'row')})" for text, rows in spellings)
        return (
            f"Countries Accord does not know, kept as typed without a country code: {listed}. "
            "Write them as a country's name or ISO code for the ICP and territories to see them."
        )

    @property
    def possible(self) -> int:
        """Rows imported as new accounts that may duplicate another: to review."""
        return sum(1 for m in self.matched if m.outcome is Outcome.POSSIBLE)

    def more(self) -> str | None:
        """What to say after the rejected rows shown, when there are more."""
        if not self.more_rejected:
            return None
        return f"… and {self.more_rejected:,} more rejected rows, not listed here."

    def describe(self) -> str:
        batch = f" (batch {self.batch_id})" if self.batch_id else ""
        return f"{self.file_name}: {', '.join(self.tally())}{batch}"

    def tally(self) -> list[str]:
        """What the import did, one count each."""
        said = [f"{self.created:,} created", f"{self.updated:,} updated",
                f"{counted(self.skipped, 'duplicate')} skipped"]  # fmt: skip
        if self.possible:
            said.append(f"{counted(self.possible, 'possible duplicate')} to review")
        return [*said, f"{self.rejected:,} rejected"]


Mapping_ = dict[str, str]  # file header -> the field it maps to


def mapped_field_for(header: str, fields: tuple[Field, ...]) -> str:
    """What a header maps to by default: a field, a custom field, a name part, or nothing."""
    found = field_for_header(header, fields)
    if found is not None:
        return found.name
    key = header_key(header)
    if key.startswith(header_key(CUSTOM_PREFIX)) and len(header.strip()) > len(CUSTOM_PREFIX):
        return CUSTOM + header.strip()[len(CUSTOM_PREFIX) :].strip()
    if any(f.name == "name" for f in fields) and "account" in {f.name for f in fields}:
        if key in FIRST_NAME_ALIASES:
            return FIRST_NAME
        if key in LAST_NAME_ALIASES:
            return LAST_NAME
    return IGNORE


def _mapped_fields_for_header(header: str, fields: tuple[Field, ...]) -> list[str]:
    if not header.strip():
        return []
    if named := fields_for_header(header, fields):
        return [f.name for f in named]
    mapped_to = mapped_field_for(header, fields)
    return [mapped_to] if mapped_to else []


def auto_mapping(headers: Sequence[str], fields: tuple[Field, ...]) -> list[str]:
    """One mapped field per column; a field is taken by its first column only. A header
    that names several fields (a contact's "Website": the account, or the account's website)
    takes the first one that the headers naming a single field left free."""
    choices = [_mapped_fields_for_header(header, fields) for header in headers]
    mapped_fields = [IGNORE] * len(headers)
    taken: set[str] = set()
    for several in (False, True):
        for index, names in enumerate(choices):
            if (len(names) > 1) is several:
                free = (n for n in names if n.startswith(CUSTOM) or n not in taken)
                mapped_fields[index] = mapped_to = next(free, IGNORE)
                taken.add(mapped_to)
    return mapped_fields


def apply_saved_mapping(
    headers: Sequence[str], saved: Mapping[str, str], fields: tuple[Field, ...]
) -> list[str]:
    """Targets from a saved ``{header: field}`` mapping; headers it does not name auto-map."""
    names = {f.name for f in fields} | {FIRST_NAME, LAST_NAME, IGNORE}
    by_key = {header_key(h): t for h, t in saved.items()}
    mapped_fields = auto_mapping(headers, fields)
    for index, header in enumerate(headers):
        mapped_to = by_key.get(header_key(header))
        if mapped_to is None:
            continue
        mapped_to = IGNORE if mapped_to in ("ignore", None) else mapped_to
        if mapped_to not in names and not mapped_to.startswith(CUSTOM):
            raise FileRefused(f"The mapping names an unknown field '{mapped_to}' for '{header}'.")
        mapped_fields[index] = mapped_to
    return mapped_fields


def load_mapping(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FileRefused(f"{path.name}: not a readable mapping file ({exc})") from None
    if not isinstance(data, dict) or not all(
        isinstance(v, (str, type(None))) for v in data.values()
    ):
        raise FileRefused(f'{path.name}: a mapping is a JSON object {{"file header": "field"}}')
    return {str(k): v or IGNORE for k, v in data.items()}


def mapping_document(headers: Sequence[str], mapped_fields: Sequence[str]) -> str:
    """A mapping as the JSON text that :func:`load_mapping` reads."""
    mapping = {h: t or "ignore" for h, t in zip(headers, mapped_fields, strict=True) if h.strip()}
    return json.dumps(mapping, indent=2, ensure_ascii=False)


def missing_required(mapped_fields: Sequence[str], fields: tuple[Field, ...]) -> list[str]:
    present = set(mapped_fields)
    missing = [f.label for f in fields if f.required and f.name not in present]
    if "Contact Name" in missing and {FIRST_NAME, LAST_NAME} & present:
        missing.remove("Contact Name")
    return missing


def doubled_fields(
    headers: Sequence[str], mapped_fields: Sequence[str], fields: tuple[Field, ...]
) -> list[str]:
    """Fields chosen for more than one column, as "Website ('Website', 'Domain')": a row
    would keep the value of one column and silently drop the other's."""
    labels = {f.name: f.label for f in fields} | NAME_PART_LABELS
    columns: dict[str, list[str]] = {}
    for header, mapped_to in zip(headers, mapped_fields, strict=True):
        if mapped_to and not mapped_to.startswith(CUSTOM):
            columns.setdefault(mapped_to, []).append(header)
    return [
        f"{labels[mapped_to]} ({', '.join(repr(h) for h in chosen)})"
        for mapped_to, chosen in columns.items()
        if len(chosen) > 1
    ]


class RowRejected(Exception):
    def __init__(self, column: str, reason: str) -> None:
        self.column, self.reason = column, reason


_UNPARSED: Any = object()
#: Parsed cells remembered per column (a column of unique names stops adding at this many).
REMEMBERED_CELLS = 20_000


class RowParser:
    """Turns the cells of a row into field values for one file's mapping (prepared once,
    used for every row). ``custom`` is a dict; a bad cell raises RowRejected naming its
    column. In a CSV file (``defused``) a cell that starts with a formula carries the
    apostrophe an export put before it; a spreadsheet's cells are text as they are."""

    def __init__(
        self,
        headers: Sequence[str],
        mapped_fields: Sequence[str],
        fields: tuple[Field, ...],
        *,
        defused: bool,
    ) -> None:
        by_name = {f.name: f for f in fields}
        #: The text a cell holds, without the apostrophe an export put before a formula.
        self.meant: Callable[[str], str] = unprotect_cell if defused else str
        # Cell text → parsed value, per column: industries, countries, head counts and
        # bands repeat row after row in a company list and are parsed once each.
        self.fields: list[tuple[int, str, Field, dict[str, Any]]] = []
        self.custom: list[tuple[int, str]] = []
        self.name_parts: list[tuple[int, str]] = []
        for index, (header, mapped_to) in enumerate(zip(headers, mapped_fields, strict=False)):
            if mapped_to.startswith(CUSTOM):
                self.custom.append((index, mapped_to[len(CUSTOM) :]))
            elif mapped_to in (FIRST_NAME, LAST_NAME):
                self.name_parts.append((index, mapped_to))
            elif mapped_to:
                self.fields.append((index, header, by_name[mapped_to], {}))
        mapped = {f.name: header for _, header, f, _ in self.fields}
        self.required = [(f, mapped.get(f.name, f.label)) for f in fields if f.required]

    def __call__(self, cells: Sequence[str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for index, header, spec, parsed in self.fields:
            cell = cells[index]
            value = parsed.get(cell, _UNPARSED)
            if value is _UNPARSED:
                try:
                    value = spec.parse(self.meant(cell))
                except ValueError as exc:
                    if spec.required and not cell.strip():
                        continue  # said below, once, if the name parts do not make up for it
                    raise RowRejected(header, str(exc)) from None
                if len(parsed) < REMEMBERED_CELLS:
                    parsed[cell] = value
            values[spec.name] = value
        if self.name_parts and not values.get("name"):
            parts = sorted(self.name_parts, key=lambda p: p[1] != FIRST_NAME)
            texts = (clean_text(self.meant(cells[i])).strip() for i, _ in parts)
            values["name"] = " ".join(text for text in texts if text)
        for spec, column in self.required:
            if not values.get(spec.name):
                raise RowRejected(column, f"{spec.label} is empty")
        values["custom"] = {}
        if self.custom:
            custom = custom_fields({key: self.meant(cells[i].strip()) for i, key in self.custom})
            values["custom"] = {key: text for key, text in custom.items() if text}
        return values


def merge(
    existing: Mapping[str, Any], incoming: Mapping[str, Any], policy: OnDuplicate
) -> dict[str, Any]:
    """The changes a duplicate row makes to the stored record under ``policy``."""
    if policy is OnDuplicate.SKIP:
        return {}
    changes: dict[str, Any] = {}
    for key, value in incoming.items():
        if key == "custom":
            merged = dict(existing.get("custom") or {})
            for ckey, cvalue in value.items():
                if policy is OnDuplicate.OVERWRITE or not merged.get(ckey):
                    merged[ckey] = cvalue
            if merged != (existing.get("custom") or {}):
                changes["custom"] = merged
            continue
        if value in (None, "") or value == existing.get(key):
            continue
        if policy is OnDuplicate.OVERWRITE or existing.get(key) in (None, ""):
            changes[key] = value
    return changes


def _known_header(cell: str, fields: tuple[Field, ...]) -> bool:
    return bool(cell.strip() and mapped_field_for(cell, fields))


def names_a_field(rows: Sequence[Sequence[str]], fields: tuple[Field, ...]) -> bool:
    """Whether a cell of ``rows`` is a header Accord knows (the sheet with the list)."""
    return any(_known_header(cell, fields) for row in rows for cell in row)


def repeated_headers(headers: Sequence[str]) -> list[list[int]]:
    """The indexes of the columns that share a name, one list per name (case, spacing and
    punctuation aside, as mappings match headers); blank headers name nothing."""
    columns: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        if header.strip():
            columns.setdefault(header_key(header), []).append(index)
    return [indexes for indexes in columns.values() if len(indexes) > 1]


def find_header_row(rows: Sequence[Sequence[str]], fields: tuple[Field, ...]) -> int:
    """Index of the header among the first rows: the row naming the most known fields,
    else the first row with at least two filled cells (title and blank rows are skipped)."""
    best, best_hits = -1, 0
    for index, row in enumerate(rows):
        hits = sum(1 for cell in row if _known_header(cell, fields))
        if hits > best_hits:
            best, best_hits = index, hits
    if best >= 0:
        return best
    for index, row in enumerate(rows):
        if sum(1 for cell in row if cell.strip()) >= 2:
            return index
    raise FileRefused("no header row found: no row has column names.")


class Importer(Protocol):
    """Where the rows go: storage's importer (storage.importing.importer.SqlImporter), which takes a
    whole file in one transaction and can take a batch back."""

    def run(
        self,
        user: User,
        path: Path,
        kind: str,
        options: ImportOptions,
        progress: Progress | None,
        cancel: Cancel | None,
    ) -> ImportSummary: ...

    def undo(self, user: User, batch_id: str | UUID) -> str: ...


def import_file(
    importer: Importer,
    user: User,
    path: Path,
    kind: str,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ImportSummary:
    """Import a file of accounts or contacts (``kind``) if ``user`` may import: all of it or
    (on a failure or Cancel) nothing."""
    user.require(Action.IMPORT)
    return importer.run(user, path, kind, options or ImportOptions(), progress, cancel)


@dataclass(frozen=True)
class Brief:
    """An account as a review shows it."""

    id: UUID
    name: str
    website: str | None
    country: str | None

    def describe(self) -> str:
        return ", ".join(v for v in (self.name, self.website, self.country) if v)


@dataclass(frozen=True)
class PossibleDuplicate:
    """An imported account kept apart from the stored account it may duplicate."""

    id: UUID
    row: int
    file_name: str
    imported: Brief
    stored: Brief


def account_of_contact(
    candidates: Sequence[Brief], website: str | None, email: str | None
) -> Brief | str:
    """The account a contact row names, among the ``candidates`` whose name or website
    its Account column holds; when several share it, the one whose website the row's
    website or e-mail domain gives. Else why the row cannot be linked (to reject it)."""
    if len(candidates) > 1:
        hints = {normalize_domain(website), normalize_domain(email)} - {None}
        chosen = [c for c in candidates if c.website and normalize_domain(c.website) in hints]
        if len(chosen) == 1:
            return chosen[0]
        named_ = "; ".join(sorted(c.describe() for c in chosen or candidates))
        return (
            f"{len(chosen or candidates)} accounts have this name or website ({named_}) and "
            "neither the row's website nor its e-mail tells which: give the account's "
            "website in a Website column"
        )
    if not candidates:
        return "no account has this name or website"
    return candidates[0]


def review_possible_duplicate(user: User, settle: Callable[[], str]) -> str:
    """Merge a possible duplicate or keep both (``settle``: storage's) if ``user`` may
    import; returns what it did."""
    user.require(Action.IMPORT)
    return settle()


def undo_import(importer: Importer, user: User, batch_id: str | UUID) -> str:
    """Take an import back if ``user`` may; returns what it did."""
    user.require(Action.UNDO_IMPORT)
    return importer.undo(user, batch_id)
