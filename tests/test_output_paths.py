"""Where exports and reports write: a place that cannot take the file is said in one line
before the work, a full disk is said in one line and leaves the old file (and the
workspace) as it was, and no temporary file is left in the system's temporary folder."""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, func, select

from main import main
from reports.tabular import write_table
from storage.read_models.export import account_table
from storage.targets import accounts
from storage.users import sign_in
from storage.workspace import open_workspace


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("demo") / "w.sqlite")
    main(["--db", db, "--user", "Alex Morgan", "demo", "--accounts", "1500"])
    return db


def _accounts(db: str) -> int:
    with open_workspace(db).read() as conn:
        return conn.execute(select(func.count()).select_from(accounts)).scalar_one()


def _commands(db: str, out: Path, tmp_path: Path) -> dict[str, list[str]]:
    listing = tmp_path / "list.csv"
    listing.write_text("Company name,Number of Employees\nAcme,12\nBeta,lots\n", encoding="utf-8")
    website = _first_dossier_website(db)
    return {
        "export": ["--db", db, "export", "accounts", str(out.with_suffix(".xlsx"))],
        "export targets": ["--db", db, "export", "targets", str(out.with_suffix(".csv"))],
        "icp export": ["--db", db, "icp", "export", str(out.with_suffix(".json"))],
        "report": ["--db", db, "report", "dossier", "--account", website,
                   "--out", str(out.with_suffix(".pdf"))],
        "import --rejects": ["--db", str(tmp_path / "new.sqlite"), "--user", "Ann", "import",
                             "accounts", str(listing), "--rejects", str(out.with_suffix(".csv"))],
    }  # fmt: skip


def _first_dossier_website(db: str) -> str:
    from storage.schema import DossierRow, table_of

    dossiers = table_of(DossierRow)
    with open_workspace(db).read() as conn:
        return conn.execute(
            select(accounts.c.website).join(dossiers, dossiers.c.account_id == accounts.c.id)
        ).first()[0]


COMMANDS = ["export", "export targets", "icp export", "report", "import --rejects"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_folder_is_said_in_one_line_before_the_work(demo_db, tmp_path, capsys,
                                                              command):  # fmt: skip
    out = tmp_path / "no such folder" / "out"
    argv = _commands(demo_db, out, tmp_path)[command]
    capsys.readouterr()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("accord: ")
    assert "was not written: the folder does not exist. Choose an existing folder." in err
    if command == "import --rejects":
        assert _accounts(str(tmp_path / "new.sqlite")) == 0  # refused before importing


@pytest.mark.parametrize("command", COMMANDS)
def test_a_legal_name_of_250_characters_is_written(demo_db, tmp_path, command):
    out = tmp_path / ("n" * 246)  # and its suffix
    assert main(_commands(demo_db, out, tmp_path)[command]) == 0
    written = [p.name for p in tmp_path.iterdir() if p.name.startswith("nnn")]
    assert len(written) == 1 and len(written[0]) >= 250
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_name_too_long_or_a_place_accord_may_not_write_is_said_in_one_line(
    demo_db, tmp_path, capsys
):
    assert main(["--db", demo_db, "export", "accounts", str(tmp_path / ("n" * 300))]) == 1
    assert "the file name is too long. Choose a shorter name." in capsys.readouterr().err
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    if os.access(locked, os.W_OK):  # root writes anywhere; sysfs refuses even root
        locked = Path("/sys")
    assert main(["--db", demo_db, "export", "accounts", str(locked / "a.csv")]) == 1
    assert "Accord may not write in that folder. Choose another folder." in (
        capsys.readouterr().err
    )


def _disk_full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_full_disk_during_an_export_is_said_and_the_old_file_stays(
    demo_db, tmp_path, capsys, monkeypatch, suffix
):
    import csv

    from reports.sheet_rows import SheetWriter

    scratch = tmp_path / "system temp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / f"accounts{suffix}"
    out.write_text("the export of last week")
    rows = 0

    def fills_the_disk(*args: object) -> None:
        nonlocal rows
        rows += 1
        if rows > 500:
            _disk_full()

    if suffix == ".csv":
        real_writer = csv.writer
        monkeypatch.setattr(csv, "writer", lambda f: _Filling(real_writer(f), fills_the_disk))
    else:
        real_row = SheetWriter.write_row
        monkeypatch.setattr(SheetWriter, "write_row",
                            lambda self, *a: fills_the_disk() or real_row(self, *a))  # fmt: skip
    capsys.readouterr()
    assert main(["--db", demo_db, "export", "accounts", str(out)]) == 1
    err = capsys.readouterr().err
    assert (
        err == f"accord: {out} was not written: the disk is full. Free some space and try again.\n"
    )
    assert out.read_text() == "the export of last week"
    assert [p.name for p in folder.iterdir()] == [out.name]
    assert list(scratch.iterdir()) == []


class _Filling:
    """A csv writer on a disk that fills up."""

    def __init__(self, writer: object, write: object) -> None:
        self.writer, self.write = writer, write

    def writerow(self, row: list[str]) -> object:
        self.write()  # type: ignore[operator]
        return self.writer.writerow(row)  # type: ignore[attr-defined]


def test_a_full_disk_during_an_import_is_said_and_changes_nothing(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    main(["--db", db, "--user", "Ann", "users"])
    listing = tmp_path / "big.csv"
    lines = [f"Company {n},Berlin,Software" for n in range(20_000)]
    listing.write_text("Company name,City,Industry\n" + "\n".join(lines), encoding="utf-8")

    def small_disk(connection: sqlite3.Connection, _record: object) -> None:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages + 30}")

    event.listen(Engine, "connect", small_disk)
    try:
        capsys.readouterr()
        assert main(["--db", db, "--user", "Ann", "import", "accounts", str(listing)]) == 1
    finally:
        event.remove(Engine, "connect", small_disk)
    err = capsys.readouterr().err
    assert err == (
        "accord: The disk is full: nothing was imported from big.csv, the workspace is as it "
        "was. Free some space and import again.\n"
    )
    assert _accounts(db) == 0


def test_rejected_rows_that_cannot_be_written_after_the_import_still_report_success(
    tmp_path, capsys, monkeypatch
):
    import reports.tabular

    listing = tmp_path / "list.csv"
    listing.write_text("Company name,Number of Employees\nAcme,12\n,lots\n", encoding="utf-8")
    db, rejects = str(tmp_path / "w.sqlite"), tmp_path / "fix.csv"
    monkeypatch.setattr(reports.tabular, "_write_csv", _disk_full)
    argv = ["--db", db, "--user", "Ann", "import", "accounts", str(listing), "--rejects"]
    assert main([*argv, str(rejects)]) == 0
    out, err = capsys.readouterr()
    assert "1 created" in out
    assert f"accord: {rejects} was not written: the disk is full." in err
    assert "The import itself is saved." in err
    assert _accounts(db) == 1 and not rejects.exists()


def test_an_xlsx_export_keeps_its_temporary_files_beside_the_file(demo_db, tmp_path,
                                                                  monkeypatch):  # fmt: skip
    scratch = tmp_path / "system temp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    folder = tmp_path / "exports"
    folder.mkdir()
    seen: set[str] = set()

    def look(done: int, total: int | None) -> None:
        seen.update(p.name for p in folder.iterdir())
        assert list(scratch.iterdir()) == []

    workspace = open_workspace(demo_db)
    out = folder / "accounts.xlsx"
    write_table(account_table(workspace), out, progress=look)
    assert ".accounts.xlsx.partial.Accounts.xml" in seen
    assert [p.name for p in folder.iterdir()] == ["accounts.xlsx"]
    assert list(scratch.iterdir()) == []


def test_the_window_says_when_an_export_cannot_be_written(qtbot, demo_db, tmp_path,
                                                         monkeypatch):  # fmt: skip
    from PySide6.QtWidgets import QMessageBox

    from ui.main_window import MainWindow

    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()) or 0)
    workspace = open_workspace(demo_db)
    window = MainWindow(workspace, sign_in(workspace, "Alex Morgan"))
    qtbot.addWidget(window)
    out = tmp_path / "gone" / "accounts.xlsx"
    assert window.export_to(out) is None
    assert said == [f"{out} was not written: the folder does not exist. Choose an existing folder."]


def test_the_windows_save_dialogs_say_when_a_file_cannot_be_written(
    qtbot, sqlite_workspace, tmp_path, monkeypatch
):
    """Rejected rows, a mapping and an ICP saved to a folder that is gone: a message box
    with the sentence, not a traceback."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from domain.importing import ImportSummary, RowError
    from ui.icp_editor import IcpEditor
    from ui.import_wizard import ImportWizard

    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()) or 0)
    gone = tmp_path / "gone"
    owner = sign_in(sqlite_workspace, "Olivia Owner")
    wizard = ImportWizard(sqlite_workspace, owner)
    qtbot.addWidget(wizard)
    summary = ImportSummary("list.csv", headers=["Company name"], rejected_cells=[["2", "Beta"]],
                            errors=[RowError(2, "Company name", "bad")])  # fmt: skip
    wizard.write_rejects(summary, gone / "rejected.csv")
    listing = tmp_path / "list.csv"
    listing.write_text("Company name\nAcme\n", encoding="utf-8")
    wizard.show()
    wizard.file_page.path.setText(str(listing))
    wizard.next()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(gone / "m.json"), ""))
    wizard.mapping_page.save()
    editor = IcpEditor(sqlite_workspace, owner)
    qtbot.addWidget(editor)
    editor.name.setText("Mid-size software")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(gone / "icp.json"), ""))
    editor.export_json()
    missing = "was not written: the folder does not exist. Choose an existing folder."
    assert said == [f"{gone / name} {missing}" for name in ("rejected.csv", "m.json", "icp.json")]
