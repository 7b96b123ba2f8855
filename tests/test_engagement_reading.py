"""How an engagement file's rows are read for the import: each row made, where the file is
read (in a process of its own for a big file), the very tuple the staging table takes."""

from __future__ import annotations

import pickle
from datetime import datetime

import pytest

from domain.engagement import (
    ENGAGEMENT_FIELDS,
    EngagementKind,
    EngagementOptions,
    engagement_fields,
    parse_time,
)
from domain.users import Role
from storage.bulk import bind_processor
from storage.importing.engagement import engagement_reading, engagements, mapped_engagement_fields
from storage.importing.files import open_table
from storage.importing.reading import chunks
from tests.conftest import statements_of
from tests.test_engagement import _csv, _import, _stored, crm  # noqa: F401 (crm: a fixture)


def _chunks(workspace, path, options):
    table = open_table(path, ENGAGEMENT_FIELDS, None, None, None)
    fields = engagement_fields(options.kind is not None)
    mapped = mapped_engagement_fields(table, options, fields)
    return list(chunks(engagement_reading(workspace, table, options, fields, mapped)))


def test_a_row_is_read_as_the_staging_table_takes_it(workspace, tmp_path):
    """A row's keys, what the file (or the options) gives and its time in the form the
    database stores it, as plain values: sent from the reading process and inserted as they
    are, with nothing to convert or bind on the importing side."""
    path = _csv(tmp_path, (
        " Ann@Acme.com ,,,Webinar,2025-03-01 10:00 UTC,Spring webinar,HubSpot,asked\n"
        ",https://www.Beta.io/about,,Form submission,3/14/2025 3:30 PM,,,\n"
        "bob@gamma.example,,Gamma GmbH,Event,2025-03-02T09:00+01:00,,Zoom,\n"
    ))  # fmt: skip
    options = EngagementOptions(campaign="Spring", source="Web")
    [chunk] = _chunks(workspace, path, options)
    with workspace.read() as conn:
        stored = bind_processor(conn, engagements.c.at) or (lambda moment: moment)
    at = [stored(parse_time(t)) for t in ("2025-03-01 10:00 UTC", "3/14/2025 3:30 PM",
                                         "2025-03-02T09:00+01:00")]  # fmt: skip
    assert chunk.staged == [
        (2, "ann@acme.com", "acme.com", None, "webinar", at[0], "Spring webinar", "HubSpot",
         "asked", False),  # no name: none to match
        (3, None, "beta.io", None, "form fill", at[1], "Spring", "Web", None, True),
        (4, "bob@gamma.example", "gamma.example", "gamma", "event attended", at[2], "Spring",
         "Zoom", None, False),
    ]  # fmt: skip
    assert chunk.rows == []
    assert chunk.cells[1] == ["", "https://www.Beta.io/about", "", "Form submission",
                              "3/14/2025 3:30 PM", "", "", ""]  # fmt: skip
    plain = (str, int, bool, type(None)) if workspace.is_sqlite else (str, int, bool, type(None),
                                                                      datetime)  # fmt: skip
    assert {type(value) for row in chunk.staged for value in row} <= set(plain)


def test_the_kind_chosen_for_every_row_is_staged_as_its_text(workspace, tmp_path):
    path = _csv(tmp_path, "ann@acme.com,2025-03-01\n", header="Email,Date\n")
    [chunk] = _chunks(workspace, path, EngagementOptions(kind=EngagementKind.EVENT))
    [row] = chunk.staged
    assert row[4] == "event attended" and type(row[4]) is str
    assert pickle.loads(pickle.dumps(row)) == row


@pytest.mark.usefixtures("crm")
def test_the_rows_the_same_as_one_earlier_in_the_file_are_found_in_one_sort(
    workspace, people, tmp_path
):
    """A row met again later in the file is added once: the matched rows are numbered within
    their engagement by one statement, not each looked up in an index of the staged rows
    (a million rows: 2.5 s for the sort, against 5.2 s for the index, the lookups and
    the tally's)."""
    row = "ann@acme.com,,,Webinar,2025-03-0{},,,\n,acme.com,,Webinar,2025-03-0{},,,\n"
    path = _csv(tmp_path, "".join(row.format(day, day) for day in (1, 2, 1)))
    sent = statements_of([workspace], lambda: _import(workspace, people[Role.OWNER], path))
    assert not [s for s in sent if s.startswith("CREATE INDEX ix_engagement_staging")]
    [added] = [s for s in sent if s.startswith("INSERT INTO engagements ")]
    assert "EXISTS" not in added
    assert len(_stored(workspace)) == 4  # each day's e-mail's and website's rows, once
