"""An engagement file's rows made the rows the import stages straight from their cells, each
column's distinct cells worked out once: the same rows, the same rejections (column and
why) and the same cells said unread as the file's RowParser and the values it gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.engagement import ENGAGEMENT_FIELDS, EngagementKind, engagement_fields
from domain.importing import IGNORE, RowParser, RowRejected
from storage.importing.engagement import _staged_row, _StagedRows

#: Cells as exports write them, and as they should not: spaces, a formula's apostrophe,
#: bad e-mails, websites and times, kinds Accord does not know, an over-long detail.
CELLS = {
    "email": ["", " ", " Ann@Acme.com ", "ann@acme.com", "bob@", "'=x@y.com", "Ünï@bücher.de"],
    "website": ["", " ", "https://www.Beta.io/about", "beta.io", "%20acme.com ", "no site",
                "bücher.de", "http://[::1]/"],
    "account": ["", " ", "Gamma GmbH", "gamma", "The Acme Co.", "=SUM(A1)", "\u200b"],
    "kind": ["", " ", "Webinar", "checked in", "nonsense", "'=webinar", "\u200b"],
    "at": ["", " ", "2025-03-01 10:00 UTC", "3/14/2025 3:30 PM", "2025-03-02T09:00+01:00",
           "2025-13-01", "tomorrow", "2025-03-01 10:00:00 Z"],
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


def _outcome(make, number, cells):
    try:
        return make(number, cells)
    except RowRejected as exc:
        return ("rejected", exc.column, exc.reason)


@settings(deadline=None, max_examples=300)
@given(files(), st.sampled_from(["sqlite.pysqlite", "postgresql.psycopg"]))
def test_a_row_is_staged_from_its_cells_as_from_its_parsed_values(file, dialect):
    columns, given_, rows = file
    headers = [f"Column {i}" for i in range(len(columns))]
    fields = engagement_fields(given_[0] is not None)
    assert {f.name for f in fields} == {f.name for f in ENGAGEMENT_FIELDS}

    def parser():
        return RowParser(headers, columns, fields, defused=True)

    parse = parser()
    staged = _StagedRows(dialect, given_, parser())

    def parsed(number, cells):
        return _staged_row(dialect, given_, number, parse(cells))

    for number, cells in enumerate(rows, 2):
        made = _outcome(staged, number, cells)
        assert made == _outcome(parsed, number, cells)
        if made[0] != "rejected":
            assert staged.unread == parse.unread
