"""What users typed shows as typed in every message box, label and tooltip: a name that
looks like HTML (a heading, an image request, a link) is shown as those characters, never
rendered, and nothing is fetched."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6 import QtGui
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QWidget

from domain.accounts import add_contact, create_account
from domain.dossiers import DEFAULT_TEMPLATE, DossierTemplate, Section, rate_dossier, save_template
from domain.errors import AccordError
from domain.importing import ImportOptions
from domain.users import Role, add_user
from storage.dossiers import SqlDossierStore, dossier_for
from storage.importing.importer import import_accounts
from storage.repositories import SqlUnitOfWork
from storage.users import SqlUserStore, sign_in
from storage.workspace import open_workspace
from ui.account_dialog import AccountDialog, ContactDialog
from ui.dossier_actions import TemplateEditor
from ui.dossier_editor import DossierEditor
from ui.import_history import ImportHistoryDialog
from ui.main_window import MainWindow
from ui.workers import show_error

HOSTILE = '<h1>x</h1><img src="http://example.com/x.png"><a href="http://example.com">y</a>'
#: a file's name cannot hold "/", so no closing tags
HOSTILE_FILE = "<h1>x<img src=x.png><a href=y>list"
UI = Path(__file__).resolve().parent.parent / "ui"
Yes, No, Cancel = (QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No,
                   QMessageBox.StandardButton.Cancel)  # fmt: skip


def shown(text: str, text_format: Qt.TextFormat) -> str:
    """What a person reads in a label (or tooltip) with this text and format."""
    rich = text_format == Qt.TextFormat.RichText or (
        text_format == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text)
    )
    if not rich:
        return text
    document = QtGui.QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


@dataclass
class Box:
    title: str
    text: str
    format: Qt.TextFormat


class Boxes:
    """Answers each message box as it opens, the way a person clicks, and keeps what it
    showed. It watches the screen, so it sees static QMessageBox.question boxes too."""

    def __init__(self) -> None:
        self.seen: list[Box] = []
        self.answers: list[QMessageBox.StandardButton] = []
        self.earlier = set(self._open())  # left open by an earlier test: not ours to answer
        self.timer = QTimer(interval=10)
        self.timer.timeout.connect(self._answer)
        self.timer.start()

    @staticmethod
    def _open() -> list[QMessageBox]:
        return [w for w in QApplication.topLevelWidgets()
                if isinstance(w, QMessageBox) and w.isVisible()]  # fmt: skip

    def _answer(self) -> None:
        for widget in self._open():
            if widget not in self.earlier:
                label = widget.findChild(QLabel, "qt_msgbox_label")
                self.seen.append(Box(widget.windowTitle(), label.text(), label.textFormat()))
                button = widget.button(self.answers.pop(0) if self.answers else Cancel)
                if button is not None:
                    button.click()
                else:
                    widget.reject()

    def texts(self) -> list[str]:
        """What each box said, as read on screen."""
        return [shown(box.text, box.format) for box in self.seen]


@pytest.fixture
def boxes(qtbot):
    answering = Boxes()
    yield answering
    answering.timer.stop()


@pytest.fixture
def hostile(tmp_path):
    """A workspace file, its owner, an account and a contact all named like HTML."""
    workspace = open_workspace(tmp_path / f"{HOSTILE_FILE}.sqlite")
    owner = sign_in(workspace, HOSTILE)
    account = create_account(SqlUnitOfWork(workspace), owner, {"name": HOSTILE, "city": "Graz"})
    add_contact(SqlUnitOfWork(workspace), owner, account.id, {"name": HOSTILE})
    yield workspace, owner, account
    workspace.close()


def test_removing_a_contact_names_it_as_typed(qtbot, boxes, hostile):
    workspace, owner, account = hostile
    dialog = AccountDialog(workspace, owner, account)
    qtbot.addWidget(dialog)
    dialog.contacts.selectRow(0)
    boxes.answers = [No]
    dialog.remove_contact()
    assert boxes.texts() == [f"Remove {HOSTILE}?"]
    assert boxes.seen[0].format == Qt.TextFormat.PlainText
    assert dialog.contacts.rowCount() == 1  # No keeps the contact


def test_unsaved_changes_name_the_account_and_the_contact_as_typed(qtbot, boxes, hostile):
    workspace, owner, account = hostile
    dialog = AccountDialog(workspace, owner, account)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.form.inputs["city"].setText("Linz")
    boxes.answers = [Cancel]
    dialog.reject()
    with SqlUnitOfWork(workspace) as uow:
        contact = uow.contacts.for_account(account.id)[0]
    editor = ContactDialog(workspace, owner, account.id, contact)
    qtbot.addWidget(editor)
    editor.show()
    editor.form.inputs["title"].setText("CEO")
    boxes.answers = [Cancel]
    editor.reject()
    assert boxes.texts() == [f"Save your changes to {HOSTILE}?"] * 2
    assert {box.format for box in boxes.seen} == {Qt.TextFormat.PlainText}
    assert dialog.isVisible() and editor.isVisible()  # Cancel keeps the typing


def test_undoing_an_import_names_the_file_as_typed(qtbot, boxes, hostile, tmp_path):
    workspace, owner, _ = hostile
    csv = tmp_path / f"{HOSTILE_FILE}.csv"
    csv.write_text("Company,Website\nBeta GmbH,beta.example\n", encoding="utf-8")
    import_accounts(workspace, owner, csv, ImportOptions(mapped_fields=["name", "website"]))
    dialog = ImportHistoryDialog(workspace, owner)
    qtbot.addWidget(dialog)
    dialog.table.selectRow(0)
    boxes.answers = [Yes, QMessageBox.StandardButton.Ok]
    dialog.undo.click()
    asked, told = boxes.texts()
    assert asked.startswith(f"Undo the import of {csv.name}? ")
    assert told.startswith(f"Undid import of {csv.name}: 1 record removed")
    assert {box.format for box in boxes.seen} == {Qt.TextFormat.PlainText}


def test_an_error_shows_as_typed(qtbot, boxes):
    show_error(None, "Not done", AccordError(f"No account named {HOSTILE}."))
    assert boxes.texts() == [f"No account named {HOSTILE}."]


def _labels_showing(widget: QWidget, typed: str) -> list[QLabel]:
    return [label for label in widget.findChildren(QLabel) if typed in label.text()]


def test_every_label_showing_user_data_shows_it_as_typed(qtbot, hostile, tmp_path):
    workspace, owner, account = hostile
    rep = add_user(SqlUserStore(workspace), owner, f"{HOSTILE} rep", Role.REP)
    store = SqlDossierStore(workspace)
    section = Section("overview", HOSTILE, guidance=HOSTILE)
    template = DossierTemplate((section, *DEFAULT_TEMPLATE.sections[1:]))
    save_template(store, owner, template, note=HOSTILE)
    dossier = store.create(account.id, owner)
    rate_dossier(store, rep, dossier, 4, comment=HOSTILE)

    window = MainWindow(workspace, owner)  # the user and the workspace in the status bar
    read_only = AccountDialog(workspace, rep, account)  # "… can read this account …"
    editor = DossierEditor(workspace, owner, dossier_for(workspace, account.id))
    versions = TemplateEditor(workspace, owner)  # the versions' notes
    task = window.export_to(tmp_path / f"{HOSTILE_FILE}.csv")  # its progress: "Exporting to …"
    widgets = [window, read_only, editor, versions]
    for widget in widgets:
        qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: not task.running)

    labels = [label for widget in widgets for label in _labels_showing(widget, "<h1>x")]
    assert len(labels) >= 6  # user, read-only note, section title, status, ratings, versions
    for label in labels:
        assert label.textFormat() == Qt.TextFormat.PlainText, label.text()
        assert shown(label.text(), label.textFormat()) == label.text()
    box = editor.boxes["overview"]
    assert shown(box.toolTip(), Qt.TextFormat.AutoText) == HOSTILE  # the guidance


def test_the_ui_builds_message_boxes_and_labels_in_one_place():
    """Static QMessageBox functions and bare QLabels guess that text is HTML; ui/messages.py
    makes them plain, and nothing else in ui/ makes its own."""
    found = []
    for path in UI.glob("*.py"):
        if path.name == "messages.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            called = ast.unparse(node.func)
            if called in ("QMessageBox", "QLabel") or called.startswith("QMessageBox."):
                found.append(f"{path.name}:{node.lineno}: {called}")
    assert found == []
