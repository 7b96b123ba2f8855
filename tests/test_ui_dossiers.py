"""Dossiers in the desktop app: a marketer fills a dossier (autosaved, nothing lost on
close), marks it ready; a rep rates it; the dossier list filters and searches; the template
editor saves a version; the call pack is written from the menu."""

from __future__ import annotations

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QPushButton
from sqlalchemy import select

from domain.dossiers import DEFAULT_TEMPLATE, DossierEdit, DossierStatus, start_dossier
from storage.demo.build import build_demo
from storage.dossiers import (
    DossierFilter,
    SqlDossierStore,
    current_template,
    dossier_for,
    dossier_lines,
    ratings_of,
)
from storage.read_models.dossier_print import call_pack_job
from storage.targets import SqlTargetStore, accounts, target_table
from storage.unsaved import UnsavedDossiers
from storage.users import sign_in
from ui.dossier_actions import TemplateEditor
from ui.dossier_editor import DossierEditor
from ui.dossier_list import DossierList
from ui.main_window import MainWindow

REQUIRED = [s.key for s in DEFAULT_TEMPLATE.required()]


@pytest.fixture
def demo(sqlite_workspace):
    build_demo(sqlite_workspace, accounts=600, seed=5, replace=True, owner_name="Olivia Owner")
    return sqlite_workspace


def _unresearched(workspace):
    """A listed account of Sam Rivera's with no dossier yet."""
    rep = SqlTargetStore(workspace).users_by_name()["Sam Rivera"]
    names = {row[0] for row in target_table(workspace, owner=rep).rows}
    researched = {line.account for line in dossier_lines(workspace, DossierFilter(), limit=999)}
    with workspace.read() as conn:
        rows = conn.execute(select(accounts.c.id, accounts.c.name)).all()
    return next(i for i, n in rows if n in names - researched)


def test_a_marketer_fills_a_dossier_that_saves_itself_and_marks_it_ready(qtbot, demo):
    marketer = sign_in(demo, "Maya Chen")
    store = SqlDossierStore(demo)
    account_id = _unresearched(demo)
    editor = DossierEditor(demo, marketer, start_dossier(store, marketer, account_id))
    qtbot.addWidget(editor)
    assert editor.progress.value() == 0
    editor.boxes["overview"].setPlainText("Brews <craft> beer & ships it — Ψ 北京")
    qtbot.waitUntil(lambda: editor.saved.text().startswith("Saved"), timeout=3000)
    assert dossier_for(demo, account_id).texts["overview"].startswith("Brews <craft>")
    for key in REQUIRED[1:]:
        editor.boxes[key].setPlainText(f"Notes on {key}")
    assert editor.progress.value() == 100
    editor.ready.click()  # saves first, then moves to ready
    stored = dossier_for(demo, account_id)
    assert stored.status is DossierStatus.READY and stored.completeness == 100
    assert "ready" in editor.status.text() and not editor.ready.isEnabled()
    editor.boxes["news"].setPlainText("Typed just before closing")
    editor.close()  # closing saves what the timer had not yet
    assert dossier_for(demo, account_id).texts["news"] == "Typed just before closing"
    assert UnsavedDossiers(demo).waiting() == []


def test_text_that_could_not_be_saved_is_recovered_when_the_dossier_opens(qtbot, demo):
    marketer = sign_in(demo, "Maya Chen")
    line = dossier_lines(demo, DossierFilter(status=DossierStatus.DRAFT))[0]
    dossier = dossier_for(demo, line.account_id)
    UnsavedDossiers(demo).keep(dossier, DossierEdit({**dossier.texts, "news": "Before crash"}))
    editor = DossierEditor(demo, marketer, dossier)
    qtbot.addWidget(editor)
    assert editor.saved.text().startswith("Recovered")
    assert editor.boxes["news"].toPlainText() == "Before crash"
    assert dossier_for(demo, line.account_id).texts["news"] == "Before crash"


def test_a_rep_reads_a_dossier_and_rates_it_but_cannot_change_it(qtbot, demo):
    rep = sign_in(demo, "Sam Rivera")
    line = dossier_lines(demo, DossierFilter(status=DossierStatus.READY))[0]
    editor = DossierEditor(demo, rep, dossier_for(demo, line.account_id))
    qtbot.addWidget(editor)
    assert editor.boxes["overview"].isReadOnly() and not editor.ready.isEnabled()
    editor.stars.setCurrentIndex(editor.stars.findData(2))
    editor.comment.setText("Decision-maker had left <again>")
    qtbot.mouseClick(editor.findChild(QPushButton, "rate"), Qt.MouseButton.LeftButton)
    given = ratings_of(demo, line.dossier_id)
    assert [(r.rater, r.stars, r.comment) for r in given if r.rater == "Sam Rivera"] == [
        ("Sam Rivera", 2, "Decision-maker had left <again>")
    ]
    assert "2/5 from Sam Rivera: Decision-maker had left <again>" in editor.ratings.text()


def test_the_dossier_list_filters_and_searches_all_dossier_text(qtbot, demo):
    owner = sign_in(demo, "Olivia Owner")
    dialog = DossierList(demo, owner)
    qtbot.addWidget(dialog)
    everything = dialog.model.total
    assert everything == dialog.model.rowCount() > 0
    dialog.status.setCurrentIndex(dialog.status.findData(DossierStatus.REVIEWED))
    reviewed = dialog.model.total
    assert 0 < reviewed < everything
    assert {dialog.model.index(r, 3).data() for r in range(dialog.model.rowCount())} == {"reviewed"}
    dialog.status.setCurrentIndex(0)
    dialog.search.setText("上海")  # the demo's news mention a Shanghai distributor
    qtbot.waitUntil(lambda: 0 < dialog.model.total < everything, timeout=3000)
    dialog.search.setText("no such words anywhere")
    qtbot.waitUntil(lambda: dialog.model.total == 0, timeout=3000)
    assert dialog.count.text() == "0 dossiers"


def test_the_template_editor_saves_a_new_version(qtbot, demo):
    marketer = sign_in(demo, "Maya Chen")
    editor = TemplateEditor(demo, marketer)
    qtbot.addWidget(editor)
    editor._add()
    editor.table.item(editor.table.rowCount() - 1, 0).setText("Budget & timing")
    editor.note.setText("sales asked for budget")
    editor.accept()
    titles = [s.title for s in current_template(demo).sections]
    assert titles[-1] == "Budget & timing" and titles[:-1] == [
        s.title for s in DEFAULT_TEMPLATE.sections
    ]
    rep = TemplateEditor(demo, sign_in(demo, "Sam Rivera"))
    qtbot.addWidget(rep)
    save = rep.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    assert not save.isEnabled()


def test_the_call_pack_is_written_from_the_menu_with_progress(qtbot, demo, tmp_path):
    rep = sign_in(demo, "Sam Rivera")
    window = MainWindow(demo, rep)
    qtbot.addWidget(window)
    out = tmp_path / "pack.pdf"
    task = window.dossiers.print_to(call_pack_job(demo, "Sam Rivera", 5), out)
    qtbot.waitUntil(lambda: not task.running and out.exists(), timeout=20000)
    reader = PdfReader(out)
    assert "for Sam Rivera" in reader.pages[0].extract_text()
    assert len(reader.outline) == 5
    pages = [page.extract_text() for page in reader.pages]
    assert all("Accord · workspace · " in page for page in pages)  # the workspace's name
    assert str(tmp_path) not in " ".join(pages)
