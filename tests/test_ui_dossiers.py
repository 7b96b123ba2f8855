"""Dossiers in the desktop app: a marketer fills a dossier (autosaved, nothing lost on
close), marks it ready; a rep rates it; the dossier list filters and searches; the template
editor saves a version; the call pack is written from the menu."""

from __future__ import annotations

from datetime import datetime

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QPushButton
from sqlalchemy import select, update

from domain.dossiers import DEFAULT_TEMPLATE, DossierEdit, DossierStatus, start_dossier
from domain.errors import NotFound
from domain.targets import assign_owners
from domain.users import Role, add_user
from storage.demo.build import build_demo
from storage.dossiers import (
    DossierFilter,
    SqlDossierStore,
    current_template,
    dossier_for,
    dossier_lines,
    dossiers,
    ratings_of,
    templates,
)
from storage.read_models.dossier_print import call_pack_job
from storage.repositories import SqlUnitOfWork
from storage.targets import SqlTargetStore, accounts, target_table
from storage.unsaved import UnsavedDossiers
from storage.users import SqlUserStore, sign_in
from ui import dossier_actions
from ui.dossier_actions import TemplateEditor
from ui.dossier_editor import DossierEditor
from ui.dossier_list import HEADERS, DossierList
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


def test_dossier_times_are_shown_on_this_computers_clock(qtbot, demo, india_clock):
    """Times are stored in UTC: 22:30 UTC on 1 July is 04:00 on 2 July in India."""
    marketer = sign_in(demo, "Maya Chen")
    store = SqlDossierStore(demo)
    with demo.write() as conn:
        conn.execute(update(dossiers).values(updated_at=datetime(2026, 7, 1, 22, 30)))
        conn.execute(update(templates).values(created_at=datetime(2026, 7, 1, 22, 30)))
    listed = DossierList(demo, marketer)
    qtbot.addWidget(listed)
    assert listed.model.index(0, HEADERS.index("Changed")).data() == "2026-07-02 04:00"
    template = TemplateEditor(demo, marketer)
    qtbot.addWidget(template)
    versions = next(label.text() for label in template.findChildren(QLabel)
                    if label.text().startswith("Versions:"))  # fmt: skip
    assert versions == (
        "Versions: Template v1 by Maya Chen 2026-07-02 (agreed with sales at the kick-off)"
    )
    editor = DossierEditor(demo, marketer, start_dossier(store, marketer, _unresearched(demo)))
    qtbot.addWidget(editor)
    editor.boxes["overview"].setPlainText("Brews beer")
    qtbot.waitUntil(lambda: editor.saved.text().startswith("Saved"), timeout=3000)
    with demo.read() as conn:
        saved_at = conn.execute(
            select(dossiers.c.updated_at).where(dossiers.c.id == editor.dossier.id)
        ).scalar_one()
    assert editor.saved.text() == f"Saved {saved_at + india_clock:%H:%M:%S}"


def test_opening_an_account_without_a_dossier_starts_one_only_when_you_type(
    qtbot, demo, monkeypatch
):
    marketer = sign_in(demo, "Maya Chen")
    account_id = _unresearched(demo)
    window = MainWindow(demo, marketer)
    qtbot.addWidget(window)
    opened: list[DossierEditor] = []
    monkeypatch.setattr(DossierEditor, "exec", lambda editor: opened.append(editor) or 0)
    monkeypatch.setattr(window, "selected_ids", lambda: [account_id])
    window.dossiers.open_current()  # Ctrl+D, looked at and closed
    opened[0].close()
    assert dossier_for(demo, account_id) is None
    assert "no dossier yet" in opened[0].status.text()
    window.dossiers.open_current()
    editor = opened[1]
    qtbot.addWidget(editor)
    editor.boxes["overview"].setPlainText("Makes bicycles")
    started = dossier_for(demo, account_id)
    assert started is not None and started.author == "Maya Chen"
    qtbot.waitUntil(lambda: editor.saved.text().startswith("Saved"), timeout=3000)
    assert dossier_for(demo, account_id).texts == {"overview": "Makes bicycles"}


def test_status_buttons_are_off_with_the_reason_when_the_rule_refuses(qtbot, demo):
    marketer = sign_in(demo, "Maya Chen")
    line = dossier_lines(demo, DossierFilter(status=DossierStatus.READY))[0]
    ready = dossier_for(demo, line.account_id)
    assert ready.author == "Maya Chen"
    editor = DossierEditor(demo, marketer, ready)
    qtbot.addWidget(editor)
    assert not editor.reviewed.isEnabled()
    assert "other than the author" in editor.reviewed.toolTip()
    owner = DossierEditor(demo, sign_in(demo, "Olivia Owner"), ready)
    qtbot.addWidget(owner)
    assert owner.reviewed.isEnabled() and owner.reviewed.toolTip() == ""
    draft = DossierEditor(demo, marketer, start_dossier(SqlDossierStore(demo), marketer,
                                                        _unresearched(demo)))  # fmt: skip
    qtbot.addWidget(draft)
    assert not draft.ready.isEnabled()
    assert "Fill in every required section first." in draft.ready.toolTip()
    for key in REQUIRED:
        draft.boxes[key].setPlainText(f"Notes on {key}")
    assert draft.ready.isEnabled() and draft.ready.toolTip() == ""


def test_a_call_pack_without_any_dossier_says_so(qtbot, demo, monkeypatch):
    owner = sign_in(demo, "Olivia Owner")
    add_user(SqlUserStore(demo), owner, "Rita New", Role.REP)
    with pytest.raises(NotFound, match=r"^Rita New owns no account on the target list yet"):
        call_pack_job(demo, "Rita New")
    rita = SqlTargetStore(demo).users_by_name()["Rita New"]
    assign_owners(SqlUnitOfWork(demo), owner, {_unresearched(demo): rita.id})
    said: list[str] = []
    monkeypatch.setattr(
        dossier_actions, "show_error", lambda _w, _t, error: said.append(str(error))
    )
    monkeypatch.setattr(dossier_actions.CallPackDialog, "exec", lambda dialog: (
        dialog.rep.setCurrentIndex(dialog.rep.findData("Rita New")), 1)[1])  # fmt: skip
    window = MainWindow(demo, owner)
    qtbot.addWidget(window)
    window.dossiers.call_pack()
    assert said == [
        "The one account Rita New owns on the target list has no dossier yet, so there is no "
        "call pack to print: start one from the account's dossier (Ctrl+D in the window)."
    ]
