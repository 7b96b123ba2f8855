"""The import wizard in its engagement mode: mapping without custom fields, the kind of
every row, the summary with the unmatched rows, and undo from the import history."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import func, select

from domain.accounts import create_account
from domain.importing import IGNORE
from storage.importing.engagement import engagements
from storage.repositories import SqlUnitOfWork
from storage.users import sign_in
from ui.import_history import ImportHistoryDialog
from ui.import_wizard import ImportWizard
from ui.main_window import MainWindow


def _zoom(tmp_path: Path) -> Path:
    path = tmp_path / "zoom.csv"
    path.write_text(
        "User Name,Email,Join Time,Topic\n"
        "Ann,ann@acme.com,2025-03-01 10:00,Spring webinar\n"
        "Bo,bo@elsewhere.example,2025-03-01 10:05,Spring webinar\n",
        encoding="utf-8",
    )
    return path


def _count(workspace) -> int:
    with workspace.read() as conn:
        return conn.execute(select(func.count()).select_from(engagements)).scalar_one()


def test_engagement_is_imported_with_the_wizard_and_undone_from_the_history(
    qtbot, sqlite_workspace, tmp_path, monkeypatch
):
    owner = sign_in(sqlite_workspace, "Olivia Owner")
    create_account(SqlUnitOfWork(sqlite_workspace), owner, {"name": "Acme", "website": "acme.com"})
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()) or 0)
    window = MainWindow(sqlite_workspace, owner)
    qtbot.addWidget(window)
    assert "Import engagement…" in [a.text() for a in window.findChildren(QAction)]
    wizard = ImportWizard(sqlite_workspace, owner, "engagement", window)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(_zoom(tmp_path)))
    wizard.next()
    page = wizard.mapping_page
    # a column that names no field is ignored, never a custom field, and no unit is asked
    assert page.mapped_fields() == [IGNORE, "email", "at", "campaign"]
    assert page.combos[0].findData("custom:User Name") == -1
    assert page.columns.isColumnHidden(2) and not page.numbers.isVisible()
    wizard.next()
    options = wizard.engagement_page
    assert wizard.currentPage() is options and options.kind.isEnabled()
    wizard.next()  # no kind yet: the page says so and stays
    assert wizard.currentPage() is options
    assert "no column gives the kind of engagement" in said[-1]
    options.kind.setCurrentIndex(options.kind.findText("Webinar"))
    options.source.setText("Zoom")
    wizard.next()  # starts the import on a worker thread
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=10_000)
    summary = wizard.summary_page
    # rows are only added: what was, how each found its account, and why rows were not
    assert summary.counts.text().startswith(
        "1 engagement added (1 by website domain) · 1 rejected (1 matching no account)\n"
    )
    assert "updated" not in summary.counts.text()
    assert "possible duplicates" not in summary.counts.text()
    assert [summary.errors.item(0, c).text() for c in range(2)] == ["3", "Email"]
    assert summary.errors.item(0, 2).text().startswith("no account has this contact e-mail")
    assert summary.save.isEnabled()
    assert _count(sqlite_workspace) == 1

    yes = QMessageBox.StandardButton.Yes
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()) or yes)
    history = ImportHistoryDialog(sqlite_workspace, owner, window)
    qtbot.addWidget(history)
    assert history.table.item(0, 3).text() == "engagement"
    history.table.selectRow(0)
    history.undo.click()
    assert said[-2] == "Undo the import of zoom.csv? 1 engagement recorded from it will be removed."
    assert said[-1].startswith("Undid import of zoom.csv: 1 record removed")
    assert _count(sqlite_workspace) == 0


def test_a_kind_column_is_each_rows_own_kind(qtbot, sqlite_workspace, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("Email,Status,First Responded Date\nann@acme.com,Responded,2025-03-01\n",
                    encoding="utf-8")  # fmt: skip
    wizard = ImportWizard(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"),
                          "engagement")  # fmt: skip
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(path))
    wizard.next()
    wizard.next()
    kind = wizard.engagement_page.kind
    assert not kind.isEnabled()
    assert kind.currentText() == "Each row's own, from the column 'Status'"
