"""Rules of an import: finding the header row, mapping columns to fields, parsing a row,
and what to do with a duplicate. The files themselves are read in storage."""

from __future__ import annotations

import enum
import json
import re
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
    Kind,
    custom_fields,
    field_for_header,
    fields_for_header,
    header_key,
)
from domain.progress import Cancel, Progress
from domain.users import Action, User
from domain.values import (
    NUMBER_FORMATS,
    NumberFormat,
    NumberReading,
    clean_text,
    counted,
    decide_numbers,
    in_words,
    is_employee_band,
    normalize_domain,
    unprotect_cell,
)

#: What a column maps to besides a field: a custom field, and the parts of a person's name.
CUSTOM = "custom:"
FIRST_NAME = "first_name"
LAST_NAME = "last_name"
IGNORE = ""
#: What the mapping calls the name parts a contacts file may have instead of a full name.
NAME_PART_LABELS = {FIRST_NAME: "First name", LAST_NAME: "Last name"}
#: The columns a rejects file adds after the file's own: where and why each row was
#: rejected. Importing the fixed file again ignores them.
REJECT_COLUMNS = ("Accord row", "Accord column", "Accord error")


class OnDuplicate(enum.StrEnum):
    SKIP = "skip"
    FILL = "fill"
    OVERWRITE = "overwrite"


@dataclass
class ImportOptions:
    mapped_fields: list[str] | None = None  # one per header; None → saved mapping or auto-mapping
    mapping_file: Path | None = None
    #: A file's unit: {header: 1,000 or 1,000,000} for a column of amounts in thousands
    #: or millions (with a mapping file's, these win).
    scales: dict[str, int] = field(default_factory=dict)
    sheet: str | None = None
    encoding: str | None = None  # a CSV file's; None → guessed from its first lines
    delimiter: str | None = None  # a CSV file's; None → guessed from its first lines
    #: How the file writes its numbers, by a format's name ("1.234,56", NUMBER_FORMATS);
    #: None → decided from the numbers of its first rows.
    numbers: str | None = None
    on_duplicate: OnDuplicate = OnDuplicate.SKIP
    strict: bool = False


class FileRefused(AccordError):
    """The file cannot be imported at all (nothing was changed)."""


def number_format(name: str) -> NumberFormat:
    """The number format named by how it writes a number (``1.234,56``; any space for
    ``1 234,56``, a typographic apostrophe for ``1'234.56``)."""
    written = re.sub(r"\s", " ", name.strip()).replace("\u2019", "'")
    if written not in NUMBER_FORMATS:
        raise FileRefused(
            f"Accord knows no number format '{name}'; name one by how it writes a number: "
            f"{in_words(list(NUMBER_FORMATS), 'or')}."
        )
    return NUMBER_FORMATS[written]


def number_reading(sample: Iterable[str], chosen: str | None) -> NumberReading:
    """How a file's numbers are read: in the format ``chosen``, else in the one its first
    rows' numbers (``sample``) show."""
    if chosen is not None:
        return NumberReading(number_format(chosen), chosen=True)
    return decide_numbers(sample)


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
#: How many of a file's employee bands the summary names, to say how they were stored.
SHOWN_BANDS = 5


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
    #: The first SHOWN_REJECTS optional cells that could not be read: their rows were
    #: imported with that field left empty.
    warnings: list[RowError] = field(default_factory=list)
    #: The unread cells beyond those.
    more_warnings: int = 0
    #: Employee bands the file has (the first SHOWN_BANDS), with the lower bound stored.
    bands: dict[str, int] = field(default_factory=dict)
    #: Country spellings that name no country Accord knows, with the rows that have each:
    #: those accounts keep what was typed and have no country code.
    unknown_countries: dict[str, int] = field(default_factory=dict)
    #: What became of every column: "Mapping: Header -> Field, ...; ignored: ...".
    mapping: str = ""

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

    def bands_line(self) -> str:
        """How employee bands were stored, in a sentence, or "" when the file has none."""
        if not self.bands:
            return ""
        stored = [f"'{band}' as {low:,}" for band, low in self.bands.items()]
        return printable(
            "Employee bands are stored as their lower bound, the fewest employees the "
            f"company has: {in_words(stored)}."
        )

    @property
    def possible(self) -> int:
        """Rows imported as new accounts that may duplicate another: to review."""
        return sum(1 for m in self.matched if m.outcome is Outcome.POSSIBLE)

    @property
    def warned(self) -> int:
        """Optional cells that could not be read (their rows were imported)."""
        return len(self.warnings) + self.more_warnings

    def warn(self, error: RowError) -> None:
        """Keep an unread cell for the summary while it lists fewer than SHOWN_REJECTS."""
        if len(self.warnings) < SHOWN_REJECTS:
            self.warnings.append(error)
        else:
            self.more_warnings += 1

    def more_warned(self) -> str | None:
        """What to say after the unread cells listed, when there are more."""
        if not self.more_warnings:
            return None
        return f"… and {counted(self.more_warnings, 'more cell')} left empty, not listed here."

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
        if self.warned:
            said.append(f"{counted(self.warned, 'cell')} not read and left empty")
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
    """One mapped field per column. Every column whose header names one field alone maps to
    it (a HubSpot export's "Company Domain Name" and "Website URL" are both the Website: a
    row takes the first of them that is filled). A header that names several fields (a
    contact's "Website": the account, or the account's website) takes the first one that
    the headers naming a single field left free. A column that names no field is kept as a
    custom field under its header: nothing a file holds is dropped unless the user chooses to
    ignore it."""
    choices = [_mapped_fields_for_header(header, fields) for header in headers]
    mapped_fields = [IGNORE] * len(headers)
    taken: set[str] = set()
    for index, names in enumerate(choices):
        # A name part is joined into the name, not chosen among columns: its first column only.
        if len(names) == 1 and not (names[0] in NAME_PART_LABELS and names[0] in taken):
            mapped_fields[index] = names[0]
            taken.add(names[0])
    for index, names in enumerate(choices):
        if len(names) > 1:
            free = (n for n in names if n.startswith(CUSTOM) or n not in taken)
            mapped_fields[index] = mapped_to = next(free, IGNORE)
            taken.add(mapped_to)
    return [
        mapped_to or _kept_as_custom(header)
        for header, mapped_to in zip(headers, mapped_fields, strict=True)
    ]


def _kept_as_custom(header: str) -> str:
    if not header.strip() or header.strip() in REJECT_COLUMNS:
        return IGNORE
    return CUSTOM + header.strip()


def mapping_line(
    headers: Sequence[str], mapped_fields: Sequence[str], fields: tuple[Field, ...]
) -> str:
    """The mapping an import used, as "Mapping: Header -> Field, ...; ignored: ...": what
    became of every column, for the command line and the wizard's summary."""
    labels = {f.name: f.label for f in fields} | NAME_PART_LABELS
    mapped, ignored = [], []
    for header, mapped_to in zip(headers, mapped_fields, strict=True):
        if not mapped_to:
            ignored.append(header.strip() or "(no header)")
        elif mapped_to.startswith(CUSTOM):
            mapped.append(f"{header.strip()} -> custom field {mapped_to[len(CUSTOM) :]}")
        else:
            mapped.append(f"{header.strip()} -> {labels[mapped_to]}")
    return f"Mapping: {', '.join(mapped) or 'none'}; ignored: {', '.join(ignored) or 'none'}"


def apply_saved_mapping(
    headers: Sequence[str], saved: Mapping[str, str], fields: tuple[Field, ...]
) -> list[str]:
    """Mapped fields from a saved ``{header: field}`` mapping; headers it does not name
    auto-map."""
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


#: The units a file may give an amount in, as the wizard offers them.
SCALES = {1: "as written", 1_000: "× 1,000", 1_000_000: "× 1,000,000"}


@dataclass(frozen=True)
class SavedMapping:
    """A mapping file: the field each header goes to, and the unit of a scaled column."""

    fields: dict[str, str]
    scales: dict[str, int]


def load_mapping(path: Path) -> SavedMapping:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FileRefused(f"{path.name}: not a readable mapping file ({exc})") from None
    shape = (
        f'{path.name}: a mapping is a JSON object {{"file header": "field"}}, or '
        '{"file header": {"field": "annual_revenue", "scale": 1000000}} for a scaled column'
    )
    if not isinstance(data, dict):
        raise FileRefused(shape)
    mapped: dict[str, str] = {}
    scales: dict[str, int] = {}
    for header, value in data.items():
        if isinstance(value, dict):
            mapped_to, scale = value.get("field"), value.get("scale", 1)
            if not isinstance(scale, int) or isinstance(scale, bool):
                raise FileRefused(shape)
            scales[str(header)] = scale
        else:
            mapped_to = value
        if not isinstance(mapped_to, (str, type(None))):
            raise FileRefused(shape)
        mapped[str(header)] = mapped_to or IGNORE
    return SavedMapping(mapped, scales)


def mapping_document(
    headers: Sequence[str], mapped_fields: Sequence[str], scales: Sequence[int]
) -> str:
    """A mapping as the JSON text that :func:`load_mapping` reads."""
    mapping: dict[str, str | dict[str, str | int]] = {}
    for header, mapped_to, scale in zip(headers, mapped_fields, scales, strict=True):
        if header.strip():
            mapping[header] = mapped_to or "ignore"
            if scale != 1:
                mapping[header] = {"field": mapped_to, "scale": scale}
    return json.dumps(mapping, indent=2, ensure_ascii=False)


def column_scales(
    headers: Sequence[str],
    mapped_fields: Sequence[str],
    scales: Mapping[str, int],
    fields: tuple[Field, ...],
) -> list[int]:
    """The unit of each column from ``{header: scale}`` (1 for a column it does not name).
    Only an amount can be scaled, and only by a unit in :data:`SCALES`."""
    labels = {f.name: f.label for f in fields if not f.scalable}
    by_key = {header_key(h): (h, scale) for h, scale in scales.items()}
    column_scales = [1] * len(headers)
    for index, (header, mapped_to) in enumerate(zip(headers, mapped_fields, strict=True)):
        named, scale = by_key.pop(header_key(header), (header, 1))
        if scale not in SCALES:
            raise FileRefused(
                f"'{named}' is to be multiplied by {scale:,}: a column's amounts can be "
                "multiplied by 1,000 or 1,000,000."
            )
        if scale != 1 and (mapped_to in labels or not mapped_to or mapped_to.startswith(CUSTOM)):
            what = f"imported as {labels[mapped_to]}" if mapped_to in labels else "not an amount"
            raise FileRefused(
                f"'{named}' is to be multiplied by {scale:,}, but it is {what}: only an amount "
                "can be multiplied."
            )
        column_scales[index] = scale
    if by_key:
        unknown = in_words([repr(h) for h, _ in by_key.values()])
        raise FileRefused(f"A scale is given for {unknown}, which the file has no column for.")
    return column_scales


def missing_required(mapped_fields: Sequence[str], fields: tuple[Field, ...]) -> list[str]:
    present = set(mapped_fields)
    missing = [f.label for f in fields if f.required and f.name not in present]
    if "Contact Name" in missing and {FIRST_NAME, LAST_NAME} & present:
        missing.remove("Contact Name")
    return missing


def _columns_of_fields(
    headers: Sequence[str], mapped_fields: Sequence[str]
) -> dict[str, list[str]]:
    """The columns of each field (custom fields aside) that more than one column is mapped
    to, in the file's order."""
    columns: dict[str, list[str]] = {}
    for header, mapped_to in zip(headers, mapped_fields, strict=True):
        if mapped_to and not mapped_to.startswith(CUSTOM):
            columns.setdefault(mapped_to, []).append(header)
    return {mapped_to: chosen for mapped_to, chosen in columns.items() if len(chosen) > 1}


def doubled_fields(headers: Sequence[str], mapped_fields: Sequence[str]) -> list[str]:
    """Name parts chosen for more than one column, as "First name ('First', 'Given name')":
    a contact's name joins its parts, and both columns' first names would go into it."""
    return [
        f"{NAME_PART_LABELS[mapped_to]} ({', '.join(repr(h) for h in chosen)})"
        for mapped_to, chosen in _columns_of_fields(headers, mapped_fields).items()
        if mapped_to in NAME_PART_LABELS
    ]


def shared_fields(
    headers: Sequence[str], mapped_fields: Sequence[str], fields: tuple[Field, ...]
) -> list[str]:
    """Each field taken from more than one column, said as a sentence: a row takes the
    first of those columns whose cell is filled."""
    labels = {f.name: f.label for f in fields}
    return [
        f"{labels[mapped_to]} comes from the first filled of "
        f"{in_words([repr(h.strip()) for h in chosen])}, in that order."
        for mapped_to, chosen in _columns_of_fields(headers, mapped_fields).items()
        if mapped_to in labels
    ]


class RowRejected(Exception):
    def __init__(self, column: str, reason: str) -> None:
        self.column, self.reason = column, reason


@dataclass(frozen=True)
class _Unread:
    """An optional cell that could not be read, and why: the row keeps the field empty."""

    reason: str


_UNPARSED: Any = object()
#: A column a field is parsed from: its index, header, how a cell of it is read (with its
#: unit and the file's number format) and its cells parsed so far.
_Column = tuple[int, str, Callable[[str], Any], dict[str, Any]]
#: Parsed cells remembered per column (a column of unique names stops adding at this many).
REMEMBERED_CELLS = 20_000


class RowParser:
    """Turns the cells of a row into field values for one file's mapping (prepared once,
    used for every row), its numbers read in the file's ``numbers`` format (given none, each
    as its text shows it). ``custom`` is a dict; a bad cell raises RowRejected naming its
    column (only the required fields, a name, reject a row); an optional cell that cannot
    be read leaves its field empty and is listed in ``unread`` as (column, reason) for the
    row just parsed. In a CSV file (``defused``) a cell that starts with a formula carries
    the apostrophe an export put before it; a spreadsheet's cells are text as they are."""

    def __init__(
        self,
        headers: Sequence[str],
        mapped_fields: Sequence[str],
        fields: tuple[Field, ...],
        *,
        defused: bool,
        scales: Sequence[int] | None = None,
        numbers: NumberFormat | None = None,
    ) -> None:
        by_name = {f.name: f for f in fields}
        self.numbers = numbers
        #: The text a cell holds, without the apostrophe an export put before a formula.
        self.meant: Callable[[str], str] = unprotect_cell if defused else str
        # Cell text → parsed value, per column: industries, countries, head counts and
        # bands repeat row after row in a company list and are parsed once each.
        # A field mapped from several columns takes the first filled one: its first column,
        # and the others to look at when that column's cell is empty. Each column has its
        # unit (a scale) and its cells parsed so far.
        columns: dict[str, list[_Column]] = {}
        self.custom: list[tuple[int, str]] = []
        self.name_parts: list[tuple[int, str]] = []
        units = scales or [1] * len(headers)
        for index, (header, mapped_to) in enumerate(zip(headers, mapped_fields, strict=False)):
            if mapped_to.startswith(CUSTOM):
                self.custom.append((index, mapped_to[len(CUSTOM) :]))
            elif mapped_to in (FIRST_NAME, LAST_NAME):
                self.name_parts.append((index, mapped_to))
            elif mapped_to:
                read = self._reader(by_name[mapped_to], units[index])
                columns.setdefault(mapped_to, []).append((index, header, read, {}))
        self.fields: list[tuple[_Column, tuple[_Column, ...], Field]] = [
            (first, tuple(others), by_name[name]) for name, (first, *others) in columns.items()
        ]
        mapped = {f.name: first[1] for first, _, f in self.fields}
        self.required = [(f, mapped.get(f.name, f.label)) for f in fields if f.required]
        self.unread: list[tuple[str, str]] = []
        #: The first SHOWN_BANDS employee bands read, and the lower bound each gave.
        self.bands: dict[str, int] = {}

    def _reader(self, spec: Field, scale: int) -> Callable[[str], Any]:
        """How a cell of a column of ``spec`` in ``scale`` is read, its export's apostrophe
        taken away first."""
        read, meant = spec.reader(scale, self.numbers), self.meant
        return read if meant is str else lambda cell: read(meant(cell))

    def __call__(self, cells: Sequence[str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        unread: list[tuple[str, str]] = []
        self.unread = unread
        for column, others, spec in self.fields:
            index, header, read, parsed = column
            cell = cells[index]
            if others and not cell.strip():
                filled = (other for other in others if cells[other[0]].strip())
                index, header, read, parsed = next(filled, column)
                cell = cells[index]
            value = parsed.get(cell, _UNPARSED)
            if value is _UNPARSED:
                try:
                    value = read(cell)
                except ValueError as exc:
                    if spec.required and not cell.strip():
                        continue  # said below, once, if the name parts do not make up for it
                    if spec.required:
                        raise RowRejected(header, str(exc)) from None
                    value = _Unread(f"{exc}: {spec.label} is left empty")
                else:
                    if isinstance(value, int) and self._shows_band(spec, cell):
                        self.bands[cell.strip()] = value
                if len(parsed) < REMEMBERED_CELLS:
                    parsed[cell] = value
            if value.__class__ is _Unread:
                unread.append((header, value.reason))
                continue
            values[spec.name] = value
        if self.name_parts and not values.get("name"):
            parts = sorted(self.name_parts, key=lambda p: p[1] != FIRST_NAME)
            texts = (clean_text(self.meant(cells[i])).strip() for i, _ in parts)
            values["name"] = " ".join(text for text in texts if text)
        for spec, named in self.required:
            if not values.get(spec.name):
                raise RowRejected(named, f"{spec.label} is empty")
        values["custom"] = {}
        if self.custom:
            custom = custom_fields({key: self.meant(cells[i].strip()) for i, key in self.custom})
            values["custom"] = {key: text for key, text in custom.items() if text}
        return values

    def _shows_band(self, spec: Field, cell: str) -> bool:
        """Whether the summary names this cell as an employee band it stored."""
        return (
            spec.kind is Kind.EMPLOYEES and len(self.bands) < SHOWN_BANDS and is_employee_band(cell)
        )


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
