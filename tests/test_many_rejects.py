"""An import of many bad rows: the summary, the wizard and the command line list the first
SHOWN_REJECTS and say how many more there are; the rejects file holds every one, from a
temporary file beside the workspace that no one sees and that goes with the summary."""

from __future__ import annotations

import csv
import gc
import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from domain.engagement import NOT_FOUND
from domain.importing import SHOWN_REJECTS
from domain.users import Role
from main import main
from storage.importing import importer
from storage.importing.importer import import_accounts
from tests.test_engagement import _import as _import_engagement
from ui.import_wizard import ImportWizard

BAD = SHOWN_REJECTS + 500


#: A name longer than Accord keeps, which rejects its row.
LONG = "x" * 255


def _listing(tmp_path: Path, name: str = LONG + " {n}") -> Path:
    """One good row, then BAD rows (rejected for their ``name``) whose head count is no
    number."""
    path = tmp_path / "list.csv"
    lines = ["Company name,Number of Employees", "Acme,12"]
    lines += [f"{name.format(n=n)},lots {n}" for n in range(BAD)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rejects(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))[1:]


def test_the_summary_keeps_the_first_rows_and_counts_the_rest(
    sqlite_workspace, sqlite_people, tmp_path
):
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _listing(tmp_path))
    assert (summary.created, summary.rejected) == (1, BAD)
    assert len(summary.errors) == len(summary.rejected_cells) == SHOWN_REJECTS
    assert summary.errors[-1].row == SHOWN_REJECTS + 2
    assert summary.more() == "… and 500 more rejected rows, not listed here."
    rows = list(summary.rejected_rows())
    assert [error.row for error, _ in rows] == list(range(3, BAD + 3))
    assert rows[-1][1][1:] == [f"{LONG} {BAD - 1}", f"lots {BAD - 1}"]
    assert summary.warnings == []


def test_the_summary_keeps_the_first_unread_cells_and_counts_the_rest(
    sqlite_workspace, sqlite_people, tmp_path
):
    listing = _listing(tmp_path, "Unread {n}")
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], listing)
    assert (summary.created, summary.rejected, summary.warned) == (BAD + 1, 0, BAD)
    assert len(summary.warnings) == SHOWN_REJECTS
    assert summary.warnings[-1].describe("list.csv") == (
        f"list.csv: row {SHOWN_REJECTS + 2}, column 'Number of Employees': "
        f"'lots {SHOWN_REJECTS - 1}' is not a number of employees: Employees is left empty"
    )
    assert summary.more_warned() == "… and 500 more cells left empty, not listed here."


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc to find the file")
def test_the_rows_beyond_wait_in_a_nameless_file_beside_the_workspace(
    sqlite_workspace, sqlite_people, tmp_path
):
    folder, listing = Path(sqlite_workspace.label).parent, _listing(tmp_path)
    before = set(folder.iterdir())
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], listing)
    descriptor = summary.all_rejected.file.fileno()  # type: ignore[union-attr]
    target = os.readlink(f"/proc/self/fd/{descriptor}")
    assert target.startswith(f"{folder}/") and target.endswith("(deleted)")
    assert set(folder.iterdir()) - before <= {folder / "workspace.sqlite-wal"}
    del summary
    gc.collect()
    try:  # closed, or its number taken since by another file (which may close meanwhile)
        now = os.readlink(f"/proc/self/fd/{descriptor}")
    except FileNotFoundError:
        now = None
    assert now != target


def test_the_command_line_lists_the_first_rows_and_writes_them_all(tmp_path, capsys):
    rejects = tmp_path / "fix.csv"
    argv = ["--db", str(tmp_path / "w.sqlite"), "--user", "Ann", "import", "accounts"]
    assert main([*argv, str(_listing(tmp_path)), "--rejects", str(rejects)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == SHOWN_REJECTS + 1
    assert err[-1] == "… and 500 more rejected rows, not listed here."
    written = _rejects(rejects)
    assert len(written) == BAD
    assert written[-1][:3] == [f"{LONG} {BAD - 1}", f"lots {BAD - 1}", str(BAD + 2)]
    assert main([*argv, str(_listing(tmp_path))]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"… and 500 more rejected rows, not listed here. --rejects FILE writes all {BAD:,} "
        "to a file to fix."
    )


def test_the_wizard_says_how_many_more_and_saves_them_all(
    qtbot, sqlite_workspace, tmp_path, monkeypatch
):
    from storage.users import sign_in

    wizard = ImportWizard(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(_listing(tmp_path)))
    wizard.next()
    wizard.next()
    wizard.next()  # starts the import on a worker thread
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=20_000)
    page = wizard.summary_page
    assert page.errors.rowCount() == SHOWN_REJECTS
    assert page.counts.text().endswith(
        f"… and 500 more rejected rows, not listed here. Save rejected rows… writes all {BAD:,}."
    )
    assert not page.warnings.isVisibleTo(page)
    saved = tmp_path / "rejected.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(saved), ""))
    page.save.click()
    assert len(_rejects(saved)) == BAD


def test_the_command_line_and_the_wizard_list_the_first_unread_cells(
    qtbot, sqlite_workspace, tmp_path, capsys
):
    from storage.users import sign_in

    listing = _listing(tmp_path, "Unread {n}")
    argv = ["--db", str(tmp_path / "w.sqlite"), "--user", "Ann", "import", "accounts"]
    assert main([*argv, str(listing)]) == 0
    out, err = capsys.readouterr()
    assert f"{BAD:,} cells not read and left empty" in out
    assert len(err.splitlines()) == SHOWN_REJECTS + 1
    assert err.splitlines()[-1] == "… and 500 more cells left empty, not listed here."
    wizard = ImportWizard(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(listing))
    for _ in range(3):
        wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=20_000)
    page = wizard.summary_page
    assert page.warnings.rowCount() == SHOWN_REJECTS and not page.errors.isVisibleTo(page)
    assert "… and 500 more cells left empty, not listed here." in page.counts.text()


def test_an_engagement_file_of_many_unmatched_rows_keeps_every_one_in_order(
    sqlite_workspace, sqlite_people, tmp_path, monkeypatch
):
    """The rows no account matches are rejected a chunk at a time: the summary fills up in
    the middle of one, and every row after it, with its cells, is in the rejects file."""
    monkeypatch.setattr(importer, "CHUNK", 300)
    path = tmp_path / "engagement.csv"
    lines = ["Email,Activity,Date"]
    lines += [f"nobody{n}@nowhere.example,Webinar,2025-03-01" for n in range(BAD)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = _import_engagement(sqlite_workspace, sqlite_people[Role.OWNER], path)
    assert (summary.created, summary.rejected, summary.unmatched) == (0, BAD, BAD)
    assert [e.row for e in summary.errors] == list(range(2, SHOWN_REJECTS + 2))
    rows = list(summary.rejected_rows())
    assert [error.row for error, _ in rows] == list(range(2, BAD + 2))
    assert {(error.column, error.reason) for error, _ in rows} == {("Email", NOT_FOUND)}
    assert rows[SHOWN_REJECTS][1] == [
        str(SHOWN_REJECTS + 2),
        f"nobody{SHOWN_REJECTS}@nowhere.example",
        "Webinar",
        "2025-03-01",
    ]
    assert rows[-1][1][1] == f"nobody{BAD - 1}@nowhere.example"
