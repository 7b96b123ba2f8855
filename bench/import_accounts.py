"""Import speed: the real importer against a plain csv.reader + sqlite3.executemany load of
the same rows, measured in the same run; and XLSX reading with calamine vs openpyxl.

    python bench/import_accounts.py --rows 1000000 --xlsx-rows 100000
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.data import HEADERS, company_rows, write_csv
from domain.fields import ACCOUNT_FIELDS
from domain.importing import RowParser, auto_mapping
from domain.values import country_code, phone_e164
from storage.bulk import indexes_rebuilt
from storage.importing.files import BadRow, _inspect_workbook, open_table
from storage.importing.importer import accounts, import_accounts, read_numbers
from storage.keys import derived_columns
from storage.users import sign_in
from storage.workspace import open_workspace


def baseline(path: Path, db: Path) -> float:
    """Seconds to load the rows of the CSV file ``path`` as they are into a plain table."""
    start = time.perf_counter()
    conn = sqlite3.connect(db)
    with path.open(newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        width = len(next(rows))
        conn.execute(f"CREATE TABLE t ({', '.join(f'c{i}' for i in range(width))})")
        conn.executemany(f"INSERT INTO t VALUES ({', '.join('?' * width)})", rows)
    conn.commit()
    conn.close()
    return time.perf_counter() - start


class _RolledBack(Exception):
    pass


def index_build(db: Path, table: Table = accounts) -> float:
    """Time to build ``table``'s indexes again as a big import does, on the imported rows
    (rolled back): the part of every big import that no row work can save."""
    workspace = open_workspace(db)
    try:
        with workspace.write() as conn:
            start = time.perf_counter()
            with indexes_rebuilt(conn, table):
                pass  # dropped, and built again on leaving
            elapsed = time.perf_counter() - start
            raise _RolledBack
    except _RolledBack:
        return elapsed
    finally:
        workspace.close()


def row_work(path: Path) -> tuple[float, float, float]:
    """Seconds of the Python work every row takes however it is stored, each part alone on
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
    start = time.perf_counter()
    rows = [item[1] for item in table.rows() if not isinstance(item, BadRow)]
    reading = time.perf_counter() - start
    start = time.perf_counter()
    values = [parse(cells) for cells in rows]
    parsing = time.perf_counter() - start
    start = time.perf_counter()
    for row in values:
        derived_columns(row)
    derived = time.perf_counter() - start
    phones = [(row["phone"], country_code(row["country"])) for row in values]
    start = time.perf_counter()
    for phone, code in phones:
        phone_e164(phone, code)
    e164 = time.perf_counter() - start
    return reading + parsing, derived, e164


def real_import(path: Path, db: Path) -> tuple[float, str]:
    workspace = open_workspace(db)
    user = sign_in(workspace, "Bench")
    start = time.perf_counter()
    summary = import_accounts(workspace, user, path)
    elapsed = time.perf_counter() - start
    assert workspace.checkpointer is not None
    copied = time.perf_counter()
    workspace.checkpointer.wait()
    copied = time.perf_counter() - copied
    workspace.close()
    return (
        elapsed,
        f"{summary.describe()}\n  then copied from the log into the file, in the "
        f"background: {copied:.2f} s",
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
    seconds, summary = real_import(path, folder / "xlsx.sqlite")
    print(
        f"XLSX {rows:,} rows: read with calamine {calamine:.2f} s, with openpyxl read-only "
        f"{openpyxl:.2f} s ({openpyxl / calamine:.1f}x slower); full import {seconds:.2f} s"
    )
    print(
        f"  measured before reading (unpacked size, DTDs, each sheet's span): {measured:.2f} s, "
        f"{measured / calamine:.0%} of calamine's read"
    )
    print(f"  {summary}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_csv(folder / "accounts.csv", args.rows)
        plain = baseline(path, folder / "baseline.sqlite")
        seconds, summary = real_import(path, folder / "workspace.sqlite")
        per_million = seconds * 1_000_000 / args.rows
        print(f"CSV {args.rows:,} rows")
        print(f"  baseline csv.reader + executemany: {plain:.2f} s")
        print(
            f"  Accord import: {seconds:.2f} s ({args.rows / seconds:,.0f} rows/s, "
            f"{per_million:.1f} s per million; target <= 15 s)"
        )
        print(f"  ratio to baseline: {seconds / plain:.1f}x (target <= 4x)")
        print(f"  {summary}")
        indexes = index_build(folder / "workspace.sqlite") * 1_000_000 / args.rows
        floor = plain * 1_000_000 / args.rows + indexes
        print(
            f"  floor per million: building the {len(accounts.indexes)} account indexes "
            f"again {indexes:.2f} s + the baseline = {floor:.2f} s "
            f"({floor / (plain * 1_000_000 / args.rows):.1f}x), before any row is parsed"
        )
        print(f"  ratio to the floor: {per_million / floor:.1f}x (target <= 2x)")
        read, derived, e164 = (t * 1_000_000 / args.rows for t in row_work(path))
        print(
            f"  row work per million, each part alone: reading and parsing {read:.2f} s, "
            f"derived columns {derived:.2f} s (phones in E.164 {e164:.2f} s of it); "
            f"with the floor {floor + read + derived:.2f} s = "
            f"{(floor + read + derived) / floor:.1f}x the floor, before any row is matched"
        )
        if args.xlsx_rows:
            xlsx(args.xlsx_rows, folder)


if __name__ == "__main__":
    main()
