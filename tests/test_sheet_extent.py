"""The measure of a sheet's span agrees with calamine's own, on sheets written every way
calamine reads: cells with and without references, empty cells, rows without numbers,
prefixed names. The quick count is never smaller than the exact one."""

from __future__ import annotations

import zipfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from storage.importing.sheet_extent import _exact_extent, column_letters, sheet_extent

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org'
    '/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
    'application/xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.'
    'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{_MAIN}" xmlns:r="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" '
    'sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>',
}
SHEET = "xl/worksheets/sheet1.xml"

#: A cell: its column step from the cell before, whether it names itself, how it is written.
cells = st.tuples(
    st.integers(1, 40), st.booleans(), st.sampled_from(["value", "empty", "prefixed", "open"])
)
#: A row: its step from the row before, whether it says its number, its cells.
rows = st.lists(st.tuples(st.integers(1, 300), st.booleans(), st.lists(cells, max_size=5)),
                min_size=1, max_size=6)  # fmt: skip


def _markup(sheet_rows: list[tuple[int, bool, list[tuple[int, bool, str]]]]) -> str:
    text, number = [], 0
    for step, numbered, row_cells in sheet_rows:
        number += step
        text.append(f'<row r="{number}">' if numbered else "<row>")
        column = 0
        for column_step, named, kind in row_cells:
            column += column_step
            ref = f' r="{column_letters(column)}{number}"' if named else ""
            text.append({
                "value": f"<c{ref}><v>1</v></c>",
                "empty": f"<c{ref}/>",
                "prefixed": f"<x:c{ref}><v>2</v></x:c>",
                "open": f"<c{ref}></c>",
            }[kind])  # fmt: skip
        text.append("</row>")
    data = "".join(text)
    return f'<worksheet xmlns="{_MAIN}" xmlns:x="{_MAIN}"><sheetData>{data}</sheetData></worksheet>'


@settings(max_examples=60, deadline=None)
@given(sheet_rows=rows)
def test_the_span_is_calamines(tmp_path_factory, sheet_rows):
    path = Path(tmp_path_factory.mktemp("sheet")) / "s.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in {**_PARTS, SHEET: _markup(sheet_rows)}.items():
            archive.writestr(name, text)
    end = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("S").end
    calamine = (0, 0) if end is None else (end[0] + 1, end[1] + 1)
    with zipfile.ZipFile(path) as archive:
        part = archive.getinfo(SHEET)
        with archive.open(part) as stream:
            exact = _exact_extent(stream, 10**12)
        quick = sheet_extent(archive, part, 10**12)
    reaches = (exact.rows, exact.columns)
    if any(kind == "open" for _, _, row_cells in sheet_rows for *_, kind in row_cells):
        # <c></c> holds nothing: calamine leaves it out, the measure counts it (never less)
        assert exact.rows >= calamine[0] and exact.columns >= calamine[1]
    else:
        assert reaches == calamine
    assert quick.rows >= calamine[0] and quick.columns >= calamine[1]
