"""An engagement file's rows made the rows the import stages straight from their cells, each
column's distinct cells worked out once: the same rows, the same rejections (column and
why) and the same cells said unread as the file's RowParser and the values it gives."""

from __future__ import annotations

from datetime import UTC
from functools import partial

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import registry

from domain.engagement import ENGAGEMENT_FIELDS, EngagementKind, engagement_fields, parse_time
from domain.importing import IGNORE, RowError, RowParser, RowRejected
from storage.importing.engagement import engagements
from storage.importing.reading import Chunk
from storage.importing.staging import (
    _PLAIN_EMAIL,
    StagedRows,
    _email_part,
    _email_part_of,
    _quick_time,
    _read_part,
    staged_row,
    time_text,
)

#: Cells as exports write them, and as they should not: spaces, a formula's apostrophe,
#: bad e-mails, websites and times, kinds Accord does not know, an over-long detail.
CELLS = {
    "email": ["", " ", " Ann@Acme.com ", "ann@acme.com", "bob@", "'=x@y.com", "Ünï@bücher.de"],
    "website": ["", " ", "https://www.Beta.io/about", "beta.io", "%20acme.com ", "no site",
                "bücher.de", "http://[::1]/"],
    "account": ["", " ", "Gamma GmbH", "gamma", "The Acme Co.", "=SUM(A1)", "\u200b"],
    "kind": ["", " ", "Webinar", "checked in", "nonsense", "'=webinar", "\u200b"],
    "at": ["", " ", "2025-03-01 10:00 UTC", "3/14/2025 3:30 PM", "2025-03-02T09:00+01:00",
           "2025-13-01", "tomorrow", "2025-03-01 10:00:00 Z", "2025-03-01T10:00:05Z",
           "2025-02-29 10:00:00 UTC", " 2025-03-01 10:00:00 UTC"],
    "campaign": ["", " ", "Spring webinar", "=HYPERLINK()", "x" * 300],
    "source": ["", "HubSpot", " Zoom "],
    "detail": ["", "asked about pricing", "y" * 4001],
}  # fmt: skip
FIELDS = list(CELLS)


@st.composite
def files(draw):
    """A file's columns (a time's, a kind's unless one is given for every row, others left
    out, given twice or ignored) and rows drawn from a few cells each, so that cells repeat
    down the file."""
    kind = draw(st.sampled_from([None, EngagementKind.EVENT]))
    some = draw(st.lists(st.sampled_from([*FIELDS, IGNORE]), max_size=8))
    needed = ["at"] if kind else ["at", "kind"]
    columns = draw(st.permutations([*needed, *(c for c in some if c != "kind" or not kind)]))
    pools = {name: [cells[2], *draw(st.lists(st.sampled_from(cells), max_size=3))]
             for name, cells in CELLS.items()}  # fmt: skip
    pools[IGNORE] = ["", "whatever"]
    row = st.tuples(*(st.sampled_from(pools[name]) for name in columns)).map(list)
    rows = draw(st.lists(row, max_size=30))
    given_ = (kind, draw(st.sampled_from([None, "Fair"])), draw(st.sampled_from([None, "Web"])))
    return columns, given_, rows


@settings(deadline=None, max_examples=300)
@given(files(), st.booleans())
def test_a_row_is_staged_from_its_cells_as_from_its_parsed_values(file, as_text):
    columns, given_, rows = file
    headers = [f"Column {i}" for i in range(len(columns))]
    fields = engagement_fields(given_[0] is not None)
    assert {f.name for f in fields} == {f.name for f in ENGAGEMENT_FIELDS}

    def parser():
        return RowParser(headers, columns, fields, defused=True)

    numbered = list(enumerate(rows, 2))
    chunk = Chunk(len(rows))
    StagedRows(as_text, given_, parser())(numbered, chunk)

    parse, plain, kept = parser(), Chunk(len(rows)), []
    for number, cells in numbered:
        try:
            values = parse(cells)
        except RowRejected as exc:
            plain.rejected.append((number, cells, exc.column, exc.reason))
            continue
        plain.unread += [RowError(number, column, why) for column, why in parse.unread]
        plain.staged.append(staged_row(as_text, given_, number, values))
        kept.append(cells)
    assert (chunk.staged, chunk.rejected, chunk.unread) == (
        plain.staged,
        plain.rejected,
        plain.unread,
    )
    assert [chunk.cells[i] for i in range(len(chunk.staged))] == kept


@st.composite
def utc_times(draw):
    """A time as exports write it in UTC (``2026-06-01 12:34:56 UTC``, ``…T12:34:56Z``,
    without seconds), its numbers drawn beyond their ranges too (a 30 February, 24:00)."""
    year = draw(st.integers(0, 9999))
    month, day = draw(st.integers(0, 13)), draw(st.integers(0, 32))
    hour, minute, second = (
        draw(st.integers(0, 24)),
        draw(st.integers(0, 60)),
        draw(st.integers(0, 60)),
    )
    seconds = draw(st.sampled_from([f":{second:02}", ""]))
    layout = draw(st.sampled_from(["{} {} UTC", "{}T{}Z"]))
    return layout.format(f"{year:04}-{month:02}-{day:02}", f"{hour:02}:{minute:02}{seconds}")


LEFT_TO_THE_READER = object()


@settings(max_examples=500)
@given(utc_times(), st.booleans())
def test_a_time_as_exports_write_it_in_utc_is_stored_as_the_times_reader_reads_it(cell, as_text):
    """The common forms are read straight from the cell: the very value the time's reader
    gives, stored as text or as the time itself; a time that is none is left to the
    reader."""
    quick = _quick_time(as_text, lambda cell: LEFT_TO_THE_READER)(cell)
    try:
        moment = parse_time(cell)
    except ValueError:
        assert quick is LEFT_TO_THE_READER
    else:
        stored = time_text(moment) if as_text else moment
        assert quick == stored
        assert type(quick) is type(stored)


@given(st.none() | st.datetimes(timezones=st.sampled_from([None, UTC])))
def test_a_time_is_staged_as_text_as_sqlalchemy_binds_it_on_sqlite(moment):
    sqlite = registry.load("sqlite.pysqlite")()
    binds = engagements.c.at.type.dialect_impl(sqlite).bind_processor(sqlite)
    assert time_text(moment) == binds(moment)


#: E-mails as people write them, and as they should not: plain ones, with spaces, capitals,
#: accents, a formula's apostrophe, a path, a query or a port, a "www." domain, no domain.
emails = st.one_of(
    st.from_regex(_PLAIN_EMAIL, fullmatch=True),
    st.builds(
        "{}@{}".format,
        st.one_of(st.text(alphabet="aB1.+-_%:/?#'= \tü", max_size=8), st.just("x" * 300)),
        st.one_of(
            st.from_regex(r"[a-zA-Z0-9.:/-]{0,12}", fullmatch=True),
            st.sampled_from(["www.acme.com", "Acme.COM", "acme.com ", "bücher.de", "a..com"]),
        ),
    ),
    st.text(alphabet="aB.+-_@%:/'= \tüW1", max_size=30),
)


@settings(max_examples=500)
@given(emails, st.booleans())
def test_a_plain_email_gives_the_staged_row_what_its_read_value_gives(cell, defused):
    """Read straight from its text, as the reader would read it: its key and domain, or the
    reader's own refusal for a cell that is no e-mail."""
    [(column, _, _)] = RowParser(["Email"], ["email"], ENGAGEMENT_FIELDS, defused=defused).fields
    made = partial(_read_part, column[2], _email_part)
    try:
        read = made(cell)
    except ValueError:
        read = "not an e-mail"
    try:
        quick = _email_part_of(made, cell)
    except ValueError:
        quick = "not an e-mail"
    assert quick == read


def test_a_plain_email_is_read_straight_from_its_text():
    def unread(cell):
        raise AssertionError(cell)

    assert _email_part_of(unread, "M.Weber@Greenlight-Learning.com") == (
        "m.weber@greenlight-learning.com",
        "greenlight-learning.com",
    )
