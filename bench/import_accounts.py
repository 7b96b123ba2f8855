"""Import speed: the real importer against a plain csv.reader + sqlite3.executemany load of
the same rows, measured in the same run; and XLSX reading with calamine vs openpyxl.

    python bench/import_accounts.py --rows 1000000 --xlsx-rows 100000
"""

from __future__ import annotations

import argparse
import csv
import os
import pickle
import sqlite3
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from sqlalchemy import Table, delete

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.data import HEADERS, company_rows, write_csv
from bench.timing import Spent, spent, timed
from domain.fields import ACCOUNT_FIELDS
from domain.importing import RowParser, auto_mapping
from domain.values import country_code, phone_e164
from storage.bulk import SORT_HELPERS, cycle_collector_paused, indexes_rebuilt
from storage.icps import rescore_batch
from storage.importing.files import BadRow, SourceTable, _inspect_workbook, open_table
from storage.importing.importer import CHUNK, accounts, import_accounts, read_numbers
from storage.importing.reading import Reading, chunks
from storage.keys import derived_columns
from storage.schema import AccountScoreRow, table_of
from storage.users import sign_in
from storage.workspace import open_workspace


def baseline(path: Path, db: Path) -> Spent:
    """What loading the rows of the CSV file ``path`` as they are into a plain table took."""

    def load() -> None:
        conn = sqlite3.connect(db)
        with path.open(newline="", encoding="utf-8") as f:
            rows = csv.reader(f)
            width = len(next(rows))
            conn.execute(f"CREATE TABLE t ({', '.join(f'c{i}' for i in range(width))})")
            conn.executemany(f"INSERT INTO t VALUES ({', '.join('?' * width)})", rows)
        conn.commit()
        conn.close()

    return spent(load)[0]


class _RolledBack(Exception):
    pass


def index_build(db: Path, table: Table = accounts, helpers: int = 0) -> Spent:
    """What building ``table``'s indexes again took, on the imported rows (rolled back): the
    part of every big import that no row work can save. As the issue's floor has it, SQLite
    sorts each index alone (no ``helpers``); a big import lets it start SORT_HELPERS
    helper threads."""
    workspace = open_workspace(db)
    try:
        with workspace.write() as conn:

            def build() -> None:
                with indexes_rebuilt(conn, table, helpers=helpers):
                    pass  # dropped, and built again on leaving

            raise _RolledBack(spent(build)[0])
    except _RolledBack as rolled_back:
        return rolled_back.args[0]  # type: ignore[no-any-return]
    finally:
        workspace.close()


def scoring(db: Path, batch_id: uuid.UUID) -> Spent:
    """What scoring the batch's accounts as the import does once they are stored took, their
    score rows removed first (rolled back): it follows the last row."""
    workspace = open_workspace(db)
    try:
        with workspace.write() as conn:
            conn.execute(delete(table_of(AccountScoreRow)))
            raise _RolledBack(spent(lambda: rescore_batch(conn, batch_id, created=True))[0])
    except _RolledBack as rolled_back:
        return rolled_back.args[0]  # type: ignore[no-any-return]
    finally:
        workspace.close()


def reader_work(path: Path) -> float:
    """CPU seconds of the reader process's work alone, in this process: reading the file,
    parsing every row and its dedupe keys, each chunk pickled to be sent, as the import's
    reader does while the import matches and stores the chunks before (without the derived
    columns, which it works out only while the import is behind), the cycle collector
    paused as there."""
    table = open_table(path, ACCOUNT_FIELDS)
    mapped_fields = auto_mapping(table.headers, ACCOUNT_FIELDS)
    reading = read_numbers(table, mapped_fields, ACCOUNT_FIELDS, None)
    numbers = reading.numbers if reading else None
    if numbers:
        table = replace(table, decimal=numbers.decimal)
    rows = Reading(table, ACCOUNT_FIELDS, mapped_fields, CHUNK, None, numbers, accounts=True)
    start = time.process_time()
    with cycle_collector_paused():  # as in the reader's process
        for chunk in chunks(rows):
            pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL)
    return time.process_time() - start


def row_work(path: Path) -> tuple[float, float, float]:
    """CPU seconds of the Python work every row takes however it is stored, each part alone on
    the file's rows: reading them, parsing their cells into field values, and the derived
    columns (of which the phones in E.164)."""
    table = open_table(path, ACCOUNT_FIELDS)
    mapped_fields = auto_mapping(table.headers, ACCOUNT_FIELDS)
    reading = read_numbers(table, mapped_fields, ACCOUNT_FIELDS, None)
    parse = RowParser(
        table.headers,
        mapped_fields,
        ACCOUNT_FIELDS,
        defused=True,
        numbers=reading.numbers if reading else None,
    )
    with cycle_collector_paused():  # as an import runs
        return _row_work(table, parse)


def _row_work(table: SourceTable, parse: RowParser) -> tuple[float, float, float]:
    start = time.process_time()
    rows = [item[1] for item in table.rows() if not isinstance(item, BadRow)]
    reading = time.process_time() - start
    start = time.process_time()
    values = [parse(cells) for cells in rows]
    parsing = time.process_time() - start
    start = time.process_time()
    for row in values:
        derived_columns(row)
    derived = time.process_time() - start
    phones = [(row["phone"], country_code(row["country"])) for row in values]
    start = time.process_time()
    for phone, code in phones:
        phone_e164(phone, code)
    e164 = time.process_time() - start
    return reading + parsing, derived, e164


def real_import(path: Path, db: Path) -> tuple[Spent, str, uuid.UUID | None]:
    workspace = open_workspace(db)
    user = sign_in(workspace, "Bench")
    took, summary = spent(lambda: import_accounts(workspace, user, path))
    assert workspace.checkpointer is not None
    copied, _ = timed(workspace.checkpointer.wait)
    workspace.close()
    return (
        took,
        f"{summary.describe()}\n  then copied from the log into the file, in the "
        f"background: {copied:.2f} s",
        summary.batch_id,
    )


def xlsx(rows: int, folder: Path) -> None:
    from openpyxl import Workbook, load_workbook
    from python_calamine import CalamineWorkbook

    path = folder / "accounts.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Accounts")
    sheet.append(HEADERS)
    for row in company_rows(rows, seed=2):
        sheet.append(row)
    workbook.save(path)
    start = time.perf_counter()
    _inspect_workbook(path)
    measured = time.perf_counter() - start
    start = time.perf_counter()
    read = sum(
        1 for _ in CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Accounts").iter_rows()
    )
    calamine = time.perf_counter() - start
    start = time.perf_counter()
    read_openpyxl = sum(
        1 for _ in load_workbook(path, read_only=True).active.iter_rows(values_only=True)
    )
    openpyxl = time.perf_counter() - start
    assert read == read_openpyxl
    took, summary, _ = real_import(path, folder / "xlsx.sqlite")
    print(
        f"XLSX {rows:,} rows: read with calamine {calamine:.2f} s, with openpyxl read-only "
        f"{openpyxl:.2f} s ({openpyxl / calamine:.1f}x slower); full import {took.wall:.2f} s"
    )
    print(
        f"  measured before reading (unpacked size, DTDs, each sheet's span): {measured:.2f} s, "
        f"{measured / calamine:.0%} of calamine's read"
    )
    print(f"  {summary}")


def _per_row(seconds: float, rows: int) -> str:
    return f"{seconds:.2f} s, {seconds / rows * 1e6:.1f} us a row"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_csv(folder / "accounts.csv", args.rows)
        load = os.getloadavg()[0]
        plain = baseline(path, folder / "baseline.sqlite")
        took, summary, batch_id = real_import(path, folder / "workspace.sqlite")
        alone = index_build(folder / "workspace.sqlite")
        helped = index_build(folder / "workspace.sqlite", helpers=SORT_HELPERS)
        assert batch_id is not None
        scored = scoring(folder / "workspace.sqlite", batch_id)
        load = max(load, os.getloadavg()[0])
        rows = args.rows
        per_million = took.wall * 1_000_000 / rows
        floor, floor_helped = plain + alone, plain + helped
        print(f"CSV {rows:,} rows (load average up to {load:.1f} on {os.cpu_count()} cores)")
        print(
            f"  floor: baseline csv.reader + executemany {plain.wall:.2f} s + building the "
            f"{len(accounts.indexes)} account indexes again on the imported rows "
            f"{alone.wall:.2f} s = {floor.wall:.2f} s; CPU {_per_row(floor.cpu, rows)}"
        )
        print(
            f"  the same floor given the import's help (SQLite's sorter with {SORT_HELPERS} "
            f"helper threads): indexes {helped.wall:.2f} s = {floor_helped.wall:.2f} s; "
            f"CPU {_per_row(floor_helped.cpu, rows)}, of which the building thread "
            f"{helped.thread:.2f} s"
        )
        print(
            f"  Accord import: {took.wall:.2f} s ({rows / took.wall:,.0f} rows/s, "
            f"{per_million:.1f} s per million); CPU {_per_row(took.cpu, rows)}: its own "
            f"process {_per_row(took.own, rows)}, the process reading the file beside it "
            f"{_per_row(took.children, rows)}"
        )
        print(f"  {summary}")
        # Idle, the reader's rows go beside the import's own, and what follows the last row
        # (the indexes built again, the new accounts scored) takes the import's process,
        # the sorter's helpers on the second core: the CPU of the longer side plus that part.
        after = helped.own + scored.own
        idle = max(took.own - after, took.children) + helped.on_two_cores + scored.own
        idle_floor = plain.cpu + alone.own
        idle_helped = plain.cpu + helped.on_two_cores
        print(
            f"  ratio to the floor: {took.wall / floor.wall:.2f}x wall at this load "
            f"({took.wall / floor_helped.wall:.2f}x the floor given the same help); "
            f"{took.cpu / floor.cpu:.2f}x in CPU seconds ({took.cpu / floor_helped.cpu:.2f}x "
            "given the same help); an idle machine with two free cores "
            f"would take about {idle:.2f} s (the longer of the two processes' row work, then "
            "the indexes and the scores): "
            f"{idle / idle_floor:.2f}x the floor's {idle_floor:.2f} s, "
            f"{idle / idle_helped:.2f}x the same floor given the same help "
            f"({idle_helped:.2f} s) (target <= 2x)"
        )
        reader = reader_work(path)
        remaining = max(reader, plain.cpu) + helped.on_two_cores + scored.own
        print(
            f"  floor of the work that remains (CPU): the reader's work alone (reading, "
            f"parsing, dedupe keys, pickled) {_per_row(reader, rows)}, "
            f"beside the load, then building the indexes {_per_row(helped.own, rows)} "
            f"(on two cores about {helped.on_two_cores:.2f} s) and "
            f"scoring the new accounts {_per_row(scored.own, rows)}: {remaining:.2f} s, "
            f"{remaining / idle_floor:.2f}x the floor; the import's own process beside the "
            f"reader {_per_row(took.own - after, rows)}"
        )
        read, derived, e164 = (_per_row(t, rows) for t in row_work(path))
        print(
            f"  row work alone, each part on its own (CPU): reading and parsing {read}, "
            f"derived columns {derived}, of which phones in E.164 {e164}"
        )
        if args.xlsx_rows:
            xlsx(args.xlsx_rows, folder)


if __name__ == "__main__":
    main()
