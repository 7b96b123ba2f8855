"""An engagement file's rows made the rows the import stages, where the file is read (in a
process of its own for a big file): plain tuples of texts, numbers and times in their stored
form, which the importing process inserts as they are. The process that reads the file
imports this module and what reading needs, not SQLAlchemy nor the schema: it starts in a
sixth of the time."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import cache, partial
from itertools import repeat
from typing import Any

from domain.engagement import EngagementKind
from domain.importing import REMEMBERED_CELLS, RowError, RowParser, RowRejected
from domain.values import normalize_domain, normalize_name
from storage.importing.reading import Cells, Chunk
from storage.keys import email_key

#: What the options give every row whose own cell is empty: a kind, a campaign, a source.
Given = tuple[EngagementKind | None, str | None, str | None]


def _email_part(email: str | None) -> tuple[str | None, str | None]:
    """What a contact's e-mail gives a staged row: its key and its domain."""
    return email_key(email), normalize_domain(email)


def _website_part(website: str | None) -> tuple[str | None, bool]:
    """What a website gives a staged row: its domain, and whether there is one."""
    return normalize_domain(website), bool(website)


def _name_part(name: str | None) -> str | None:
    """What a name gives a staged row: its normalised form, none for a name that has none
    (an empty cell, or a legal form alone): a row without a name is matched by none."""
    return normalize_name(name) or None


def _kind_part(given: EngagementKind | None, kind: EngagementKind | None) -> str | None:
    """What a kind gives a staged row: its text (the ``given`` kind's for a row without)."""
    kind = kind or given
    return kind.value if kind else None


def _or_given(given: str | None, text: str | None) -> str | None:
    return text or given


def _as_it_is(value: Any) -> Any:
    return value


def time_text(moment: datetime | None) -> str | None:
    """A time as SQLAlchemy stores it on SQLite, its zone left out (it is UTC):
    ``2026-06-01 12:34:56.000000``."""
    return None if moment is None else moment.replace(tzinfo=None).isoformat(" ", "microseconds")


@cache
def _parts(as_text: bool, given: Given) -> dict[str, Callable[[Any], Any]]:
    """What each field's value gives the row the staging table takes, in the order
    _assembled takes them: an e-mail its key and domain, a website its domain and whether
    there is one, a name its normalised form (if any), a kind its text, a time its stored
    form (its text ``as_text``, as SQLite stores it, else the time itself); a row without a
    kind, a campaign or a source takes what the options give every row (``given``)."""
    kind, campaign, source = given
    return {
        "email": _email_part,
        "website": _website_part,
        "account": _name_part,
        "kind": partial(_kind_part, kind),
        "at": time_text if as_text else _as_it_is,
        "campaign": partial(_or_given, campaign),
        "source": partial(_or_given, source),
        "detail": _as_it_is,
    }


def _assembled(
    number: int,
    email: tuple[str | None, str | None],
    website: tuple[str | None, bool],
    name: str,
    kind: str | None,
    at: Any,
    campaign: str | None,
    source: str | None,
    detail: str | None,
) -> tuple[Any, ...]:
    """A row as the staging table takes it, from what each field gives it (_parts): its
    number; what it is matched by, its e-mail's key, its website's domain (else its
    e-mail's) and its account's name, normalised; its kind, its time in its stored form,
    its campaign, source and detail; and whether its domain is its website's."""
    (key, email_domain), (domain, from_website) = email, website
    return (
        number,
        key,
        domain or email_domain,
        name,
        kind,
        at,
        campaign,
        source,
        detail,
        from_website,
    )


def staged_row(as_text: bool, given: Given, number: int, values: dict[str, Any]) -> tuple[Any, ...]:
    """A row as the staging table takes it, from its field values (_assembled), its time
    as text ``as_text``."""
    parts = _parts(as_text, given)
    return _assembled(number, *(part(values.get(name)) for name, part in parts.items()))


#: A time as exports mostly write it, in UTC: ``2026-06-01 12:34:56 UTC`` or
#: ``2026-06-01T12:34:56Z``, the seconds optional.
_UTC_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[ T]([0-9]{2}:[0-9]{2})(:[0-9]{2})?(?: UTC|Z)")


def _quick_time(as_text: bool, known: Callable[[str], Any]) -> Callable[[str], Any]:
    """What a time cell gives the staged row: for a cell written as _UTC_TIME its stored
    form straight from the cell, the same as the time's reader (parse_time) and _parts
    give (tests/test_engagement_staging.py): as text, the cell's own text once it is found
    to be a time; for any other cell what its column's cells give (``known``). A time is
    met once in a file, mostly: it is read without looking it up."""

    def quick(cell: str) -> Any:
        if (written := _UTC_TIME.fullmatch(cell)) is None:
            return known(cell)
        day, minute, second = written.groups()
        text = f"{day} {minute}{second or ':00'}"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:  # no such day or time: left to the reader, which says why
            return known(cell)
        return f"{text}.000000" if as_text else moment.replace(tzinfo=UTC)

    return quick


def _read_part(read: Callable[[str], Any], part: Callable[[Any], Any], cell: str) -> Any:
    """What a cell gives the staged row (``part``), read by the file's RowParser's reader
    (``read``, which raises ValueError for a cell that does not read)."""
    return part(read(cell))


#: An e-mail as most are written: ASCII letters, digits and ``._+-`` before its "@", and
#: after it a domain of ASCII letters, digits and hyphens in labels between dots.
_PLAIN_EMAIL = re.compile(r"[A-Za-z0-9._+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def _email_part_of(made: Callable[[str], Any], cell: str) -> Any:
    """What an e-mail cell gives the staged row: a plain one's (_PLAIN_EMAIL) straight from
    its text, which the reader keeps as it is (its key the text in lower case, its domain
    the one after its "@"), the same as _email_part gives (tests/test_engagement_staging.py);
    any other's as ``made`` makes it."""
    if (plain := _PLAIN_EMAIL.fullmatch(cell)) is None:
        return made(cell)
    return cell.lower(), normalize_domain(plain[1])


class _CellParts(dict[str, Any]):
    """What a column's cells give the staged row (one of _parts), each distinct cell made
    once (remembered up to REMEMBERED_CELLS) by ``made`` (_read_part); a cell that does
    not read gives _UNREAD."""

    def __init__(self, made: Callable[[str], Any]) -> None:
        super().__init__()
        self.made = made

    def __missing__(self, cell: str) -> Any:
        try:
            got = self.made(cell)
        except ValueError:
            return _UNREAD
        if len(self) < REMEMBERED_CELLS:
            self[cell] = got
        return got


#: A cell that does not read.
_UNREAD: Any = object()
#: The places in a staged row (_assembled) of the keys it is matched by, its e-mail's key,
#: its domain and its name; and of whether its domain is its website's.
KEYS = (1, 2, 3)
FROM_WEBSITE = 9


class StagedRows:
    """An engagement file's rows made the rows the staging table takes, a chunk at a time,
    straight from their cells: column by column, what each distinct cell gives the row
    (_parts: an e-mail its key and domain, a website its domain, a name its normalised
    form, a kind its text, a time its stored form) worked out once (_CellParts), since
    e-mails, websites, names, kinds, campaigns and sources repeat down a file, a plain
    e-mail and a time as exports write it read straight from their text; then each row
    assembled from its cells' parts (_assembled). A row with a cell that does not read (a
    bad or empty required cell, an optional one left empty), and every row of a file that
    gives a field in several columns, is parsed by the file's RowParser and made from its
    values (staged_row): it is rejected, and its unread cells said, exactly as the parser
    says them."""

    def __init__(self, as_text: bool, given: Given, parse: RowParser) -> None:
        self.parse = parse
        self.general = partial(staged_row, as_text, given)
        mapped = {spec.name: first for first, _, spec in parse.fields}
        #: Per field, in _parts' order: the column that gives it (None for a field no
        #: column gives), what a cell of it gives the row, and what an empty one gives (it
        #: stands in for a cell that does not read, until its row is parsed).
        self.fields: list[tuple[int | None, Callable[[str], Any], Any]] = []
        for name, part in _parts(as_text, given).items():
            if name not in mapped:
                self.fields.append((None, part, part(None)))
                continue
            index, _, read, _ = mapped[name]
            made = partial(_read_part, read, part)
            if name == "email":
                made = partial(_email_part_of, made)
            known = _CellParts(made).__getitem__
            lookup = _quick_time(as_text, known) if name == "at" else known
            self.fields.append((index, lookup, part(None)))
        self.lean = (
            all(not others for _, others, _ in parse.fields)
            and not parse.name_parts
            and not parse.custom
            and all(spec.name in mapped for spec, _ in parse.required)
        )

    def __call__(self, rows: list[tuple[int, list[str]]], chunk: Chunk) -> None:
        """Stage a chunk's rows of the file (their numbers and cells) in ``chunk``: each
        as the staging table takes it, with its cells, or rejected as the RowParser rejects
        it; and the cells that did not read."""
        if not rows:
            return
        cells: Sequence[list[str]]
        numbers, cells = zip(*rows, strict=True)
        columns: Sequence[Sequence[str]] = list(zip(*cells, strict=True))
        staged, parsed = (
            self._from_parts(numbers, columns)
            if self.lean
            else ([()] * len(rows), range(len(rows)))
        )
        rejected = set()
        for i in parsed:
            number = numbers[i]
            try:
                values = self.parse(cells[i])
            except RowRejected as exc:
                chunk.rejected.append((number, cells[i], exc.column, exc.reason))
                rejected.add(i)
                continue
            chunk.unread += [RowError(number, column, why) for column, why in self.parse.unread]
            staged[i] = self.general(number, values)
        if rejected:
            kept = [i for i in range(len(rows)) if i not in rejected]
            staged = [staged[i] for i in kept]
            columns = [[column[i] for i in kept] for column in columns]
        chunk.staged = staged
        chunk.cells = Cells.of(columns)

    def _from_parts(
        self, numbers: Sequence[int], columns: Sequence[Sequence[str]]
    ) -> tuple[list[tuple[Any, ...]], list[int]]:
        """The rows assembled from their cells' parts (given by column), and (in order)
        those of them with a cell that does not read, to be parsed instead."""
        parts: list[Iterable[Any]] = []
        unread: set[int] = set()
        for index, lookup, empty in self.fields:
            if index is None:
                parts.append(repeat(empty))
                continue
            got = list(map(lookup, columns[index]))
            if _UNREAD in got:
                for i, part in enumerate(got):
                    if part is _UNREAD:
                        got[i] = empty
                        unread.add(i)
            parts.append(got)
        return list(map(_assembled, numbers, *parts)), sorted(unread)
