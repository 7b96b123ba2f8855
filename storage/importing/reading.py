"""A file's rows read and parsed for an import, a chunk at a time: in the importing process
for a small file, and for a big file of accounts or engagement in a process of its own,
which reads and parses the next rows, with the keys they are matched by (an engagement
row made the very tuple the import stages), on a second core while the import matches
these and stores them. For accounts the derived columns go to
whichever side has the time: the reader works them out for a chunk when the import already
has every chunk it may have waiting (rather than wait for it), the import for the chunks that
come without them; so does the matching of engagement rows to accounts on a SQLite file
(Reading.matching). Either way the chunks are the same, in the file's order, and so is what
is stored."""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Any, Protocol

from domain.errors import AccordError
from domain.fields import Field
from domain.importing import RowError, RowParser, RowRejected
from domain.values import NumberFormat
from storage.importing.files import BadRow, SourceTable
from storage.keys import Keys, account_keys, derived_columns


@dataclass(frozen=True)
class Cells:
    """The cells of a chunk's engagement rows, column by column, each text of the chunk kept
    once: a text met again (a column's kinds, campaigns and sources, a name) is sent to the
    importing process once, and rebuilt there once. ``cells[i]`` is the i-th row's."""

    columns: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, columns: Iterable[Iterable[str]]) -> Cells:
        once: dict[str, str] = {}
        return cls(tuple(tuple(map(once.setdefault, column, column)) for column in columns))

    def __getitem__(self, row: int) -> list[str]:
        return [column[row] for column in self.columns]

    def of_rows(self, rows: Sequence[int]) -> Cells:
        """The cells of these rows (their places in the chunk), column by column."""
        return Cells(tuple(tuple(map(column.__getitem__, rows)) for column in self.columns))


@dataclass
class Chunk:
    """What a chunk of the file's rows gave, each list in the file's order."""

    #: How many rows of the file the chunk took (for the progress bar).
    read: int
    #: Each row parsed: its number, its cells (none for accounts: only a contact row may
    #: still be rejected once parsed) and its field values.
    rows: list[tuple[int, list[str], dict[str, Any]]] = field(default_factory=list)
    #: For accounts, each row's dedupe keys.
    keys: list[Keys] = field(default_factory=list)
    #: For engagement, each row as the import stages it (``Reading.staged_of``), and its
    #: cells (a row may still be rejected once staged).
    staged: list[tuple[Any, ...]] = field(default_factory=list)
    cells: Cells = field(default_factory=Cells)
    #: For engagement, whether its rows were matched to accounts (``Reading.matching``):
    #: then ``staged`` holds the rows one account matches, as they are staged, and
    #: ``refused`` the others, each number, the column it names and why, with their
    #: ``cells``: ``unmatched`` of them match no account, the rest several.
    matched: bool = False
    refused: list[tuple[int, str, str]] = field(default_factory=list)
    unmatched: int = 0
    #: For engagement matched by a reader process, the keys it found several accounts hold
    #: while it did (each way, key and what was found, its rejection's reason said): the
    #: import learns them rather than look them up again (the dearest lookups: each key's
    #: accounts counted, and the first few read and listed).
    shared: list[tuple[str, Any, Any]] = field(default_factory=list)
    #: For accounts, each row's derived columns, when the reader worked them out.
    derived: list[dict[str, Any]] = field(default_factory=list)
    #: The rows rejected: number, cells, column and why.
    rejected: list[tuple[int, list[str], str, str]] = field(default_factory=list)
    #: The optional cells that could not be read.
    unread: list[RowError] = field(default_factory=list)
    #: The employee bands read so far, with the lower bound stored for each.
    bands: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Reading:
    """How to read a file's rows: the table, its fields, each column's field and unit, the
    file's number format, whether the rows are accounts (each keyed by its dedupe keys), or
    else engagement (each made the row the import stages), and how many rows a chunk
    takes."""

    table: SourceTable
    fields: tuple[Field, ...]
    mapped_fields: Sequence[str]
    chunk_rows: int
    scales: Sequence[int] | None = None
    numbers: NumberFormat | None = None
    accounts: bool = False
    #: How a chunk's engagement rows are made the rows the import stages, given the file's
    #: RowParser: from their numbers and cells, rejected as the parser rejects them, their
    #: unread cells the parser's. A module's class (or a partial of one), which a reader
    #: process finds by its name (storage.importing.staging: a reader process imports no
    #: more). A row is a plain tuple of texts, numbers and times in their stored form: it
    #: is sent to the importing process and inserted as it is, cheaper to send than the
    #: values.
    staged_of: Callable[[RowParser], Staging] | None = None
    #: How a reader process matches a chunk's staged engagement rows to accounts itself,
    #: on a connection of its own (Chunk.matched): what makes the matcher there.
    matching: Callable[[], Callable[[Chunk], None]] | None = None


class Staging(Protocol):
    """Makes engagement rows the rows the import stages (Reading.staged_of)."""

    def __call__(self, rows: list[tuple[int, list[str]]], chunk: Chunk) -> None:
        """Stage the chunk's rows (their numbers and cells, but for the BadRows) in ``chunk``:
        each staged, with its cells, or rejected as the file's RowParser rejects it; and
        the cells not read."""


def chunks(reading: Reading) -> Iterator[Chunk]:
    """The file's chunks, read and parsed in this process."""
    table = reading.table
    parse = RowParser(
        table.headers,
        reading.mapped_fields,
        reading.fields,
        defused=table.is_csv,
        scales=reading.scales,
        numbers=reading.numbers,
    )
    stage = reading.staged_of(parse) if reading.staged_of is not None else None
    rows = table.rows()
    while items := list(islice(rows, reading.chunk_rows)):
        chunk = Chunk(len(items))
        read = [item for item in items if not isinstance(item, BadRow)]
        if len(read) < len(items):
            bad = (item for item in items if isinstance(item, BadRow))
            chunk.rejected += [(row.number, row.cells, "", row.reason) for row in bad]
        if stage is not None:
            stage(read, chunk)
        else:
            _parse(read, parse, reading.accounts, chunk)
        chunk.rejected.sort(key=itemgetter(0))  # in the file's order, however rejected
        chunk.bands = dict(parse.bands)
        yield chunk


def _parse(
    rows: list[tuple[int, list[str]]], parse: RowParser, accounts: bool, chunk: Chunk
) -> None:
    """Add these rows to ``chunk`` parsed, each with its keys for ``accounts``, or rejected
    as the RowParser rejects it; and the cells not read."""
    for number, cells in rows:
        try:
            values = parse(cells)
        except RowRejected as exc:
            chunk.rejected.append((number, cells, exc.column, exc.reason))
            continue
        if unread := parse.unread:
            chunk.unread += [RowError(number, column, why) for column, why in unread]
        chunk.rows.append((number, [] if accounts else cells, values))
        if accounts:
            chunk.keys.append(account_keys(values))


class ReaderFailed(Exception):
    """The process that read the file ended without a word (killed, out of memory), or
    failed on something that is no user's error (its traceback is the message)."""


#: Chunks the reader process may have ready before the import takes them: enough to keep
#: both processes busy, few enough that a big file does not pile up in memory.
_READY_CHUNKS = 4
_DONE = None
#: Seconds between a waiting reader process's looks at whether the import still runs.
_PARENT_CHECKED_EVERY = 1


def _read(reading: Reading, ready: Any) -> None:
    """In the reader process: put every chunk, then _DONE or what stopped the reading."""
    # Its records live until they are sent, and reference counting frees them: the cycle
    # collector's passes over every object the caches keep would only cost time.
    gc.disable()
    try:
        match = None  # made when first needed
        for chunk in chunks(reading):
            if ready.full():  # the import is behind: the reader does some of its work
                if reading.accounts:
                    chunk.derived = list(map(_derived, chunk.rows, chunk.keys))
                elif reading.matching is not None:
                    match = match or reading.matching()
                    match(chunk)
            _put(ready, chunk)
        _put(ready, _DONE)
    except AccordError as exc:  # a file Accord refuses: said to the user as it is
        _put(ready, exc)
    except BaseException:  # anything else is a bug, told with its traceback
        _put(ready, ReaderFailed(traceback.format_exc()))


def _put(ready: Any, item: Any) -> None:
    """Put ``item`` for the import, waiting while it has every chunk it may have; if the
    importing process has ended meanwhile (killed, it could not stop this one), end this
    process too: nothing would ever take the item, and it would wait for ever."""
    importing = multiprocessing.parent_process()
    while True:
        try:
            ready.put(item, timeout=_PARENT_CHECKED_EVERY)
            return
        except queue.Full:
            if importing is not None and not importing.is_alive():
                os._exit(1)  # no one to tell: what it holds goes with it


def _derived(row: tuple[int, list[str], dict[str, Any]], keys: Keys) -> dict[str, Any]:
    return derived_columns(row[2], keys)


def _from_reader(reading: Reading, process: Any, ready: Any) -> Iterator[Chunk]:
    while True:
        try:
            got = ready.get(timeout=1)
        except queue.Empty:
            if process.is_alive():
                continue
            try:  # what it put just before it ended
                got = ready.get(timeout=1)
            except queue.Empty:
                raise ReaderFailed(
                    f"The process reading {reading.table.path.name} ended "
                    f"(exit code {process.exitcode})."
                ) from None
        if got is _DONE:
            return
        if isinstance(got, BaseException):
            raise got
        yield got


@contextmanager
def read_chunks(reading: Reading, own_process: bool) -> Iterator[Iterator[Chunk]]:
    """The chunks of the file's rows, read and parsed here or (``own_process``) in a
    process of its own, which is stopped on leaving, however the import ends."""
    if not own_process:
        yield chunks(reading)
        return
    # A fresh interpreter, not a fork: the GUI imports from a thread, and a fork copies
    # the locks other threads hold.
    context = multiprocessing.get_context("spawn")
    ready = context.Queue(_READY_CHUNKS)
    # No group, and the function it runs (multiprocessing's word for it is retired here).
    process = context.Process(None, _read, args=(reading, ready), daemon=True)
    process.start()
    try:
        yield _from_reader(reading, process, ready)
    finally:
        process.terminate()
        process.join()
        ready.close()
