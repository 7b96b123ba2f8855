"""The Dossiers menu: open (or start) the current account's dossier, the dossier list and
its search, the dossier template, and the dossier PDF and a rep's call pack (made in a
worker with a progress dialog)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.dossiers import DossierTemplate, Section, save_template, section_key
from domain.errors import AccordError
from domain.users import Action, Role, User, export
from domain.values import counted, shown_time
from storage.dossiers import SqlDossierStore, current_template, dossier_for, template_versions
from storage.read_models.dossier_print import PrintJob, call_pack_job, printed_dossiers
from storage.targets import SqlTargetStore
from storage.workspace import Workspace
from ui.dossier_editor import open_dossier
from ui.dossier_list import DossierList
from ui.messages import plain_label
from ui.settings import keep_geometry
from ui.window_api import WindowApi
from ui.workers import Task, run_task, show_error


class TemplateEditor(QDialog):
    """The agreed research checklist: ordered sections with guidance and a required flag.
    Saving makes a new version; dossiers started from then on follow it."""

    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.setWindowTitle("Dossier template")
        editable = user.can(Action.EDIT_DOSSIER_TEMPLATE)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("sections")
        self.table.setHorizontalHeaderLabels(["Section", "Guidance for the researcher", "Required"])
        self.table.setColumnWidth(0, 240)
        self.table.setColumnWidth(1, 460)
        for section in current_template(workspace).sections:
            self._row(section)
        if not editable:
            self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.note = QLineEdit()
        self.note.setPlaceholderText("Why this change (kept with the version)")
        versions = template_versions(workspace)
        history = "; ".join(f"{v.label} by {v.created_by} {shown_time(v.created_at, '%Y-%m-%d')}"
                            + (f" ({v.note})" if v.note else "") for v in versions[:5])  # fmt: skip
        buttons = QHBoxLayout()
        up, down = (lambda: self._move(-1)), (lambda: self._move(1))
        actions = [("Add section", self._add), ("Remove", self._remove),
                   ("Move up", up), ("Move down", down)]  # fmt: skip
        for text, slot in actions:
            button = QPushButton(text)
            button.clicked.connect(slot)
            button.setEnabled(editable)
            buttons.addWidget(button)
        buttons.addStretch()
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                               | QDialogButtonBox.StandardButton.Close)  # fmt: skip
        box.button(QDialogButtonBox.StandardButton.Save).setEnabled(editable)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.note)
        history = history or "the default template, never changed"
        layout.addWidget(plain_label(f"Versions: {history}", wrap=True, muted=True))
        layout.addWidget(box)
        keep_geometry(self, QSize(900, 520))

    def _row(self, section: Section | None = None) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        title = QTableWidgetItem(section.title if section else "New section")
        title.setData(Qt.ItemDataRole.UserRole, section.key if section else None)
        self.table.setItem(row, 0, title)
        self.table.setItem(row, 1, QTableWidgetItem(section.guidance if section else ""))
        required = QCheckBox()
        required.setChecked(section.required if section else True)
        self.table.setCellWidget(row, 2, required)

    def _add(self) -> None:
        self._row()
        self.table.setCurrentCell(self.table.rowCount() - 1, 0)
        self.table.editItem(self.table.currentItem())

    def _remove(self) -> None:
        if self.table.currentRow() >= 0:
            self.table.removeRow(self.table.currentRow())

    def _move(self, step: int) -> None:
        row = self.table.currentRow()
        sections = self.template().sections
        target = row + step
        if row < 0 or not 0 <= target < len(sections):
            return
        order = list(sections)
        order[row], order[target] = order[target], order[row]
        self.table.setRowCount(0)
        for section in order:
            self._row(section)
        self.table.setCurrentCell(target, 0)

    def template(self) -> DossierTemplate:
        sections: list[Section] = []
        for row in range(self.table.rowCount()):
            title, guidance = self.table.item(row, 0), self.table.item(row, 1)
            text = title.text().strip() if title is not None else ""
            key = (title.data(Qt.ItemDataRole.UserRole) if title is not None else None) or (
                section_key(text, [s.key for s in sections])
            )
            required = self.table.cellWidget(row, 2)
            needed = isinstance(required, QCheckBox) and required.isChecked()
            hint = guidance.text().strip() if guidance is not None else ""
            sections.append(Section(key, text, hint, needed))
        return DossierTemplate(tuple(sections))

    def accept(self) -> None:
        try:
            save_template(SqlDossierStore(self.workspace), self.user, self.template(),
                          self.note.text())  # fmt: skip
        except AccordError as error:
            show_error(self, "Template not saved", error)
            return
        super().accept()


class CallPackDialog(QDialog):
    def __init__(self, reps: list[User], me: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Call pack")
        self.rep = QComboBox()
        for rep in reps:
            self.rep.addItem(rep.name, rep.name)
        if me.role is Role.REP:
            self.rep.setCurrentIndex(max(0, self.rep.findData(me.name)))
        self.limit = QSpinBox()
        self.limit.setRange(1, 10_000)
        self.limit.setValue(50)
        form = QFormLayout(self)
        form.addRow("Rep", self.rep)
        form.addRow("At most this many accounts", self.limit)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)  # fmt: skip
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        form.addRow(box)
        keep_geometry(self)


class DossierActions:
    def __init__(self, window: WindowApi) -> None:
        self.window, self.widget = window, window.window()
        self.task: Task | None = None

    def menu(self, menu: QWidget) -> None:
        w = self.window
        w.add_action(menu, "Dossier of this account…", self.open_current, "Ctrl+D")
        w.add_action(menu, "Dossier list…", self.dossier_list, "Ctrl+Shift+D")
        w.add_action(menu, "Search dossiers…", self.search_dossiers, "Ctrl+Shift+F")
        w.add_action(menu, "Dossier template…", self.template, "Ctrl+Shift+M")
        menu.addSeparator()  # type: ignore[attr-defined]
        w.add_action(menu, "Print dossier (PDF)…", self.print_dossier, "Ctrl+P", Action.EXPORT)
        w.add_action(menu, "Call pack (PDF)…", self.call_pack, "Ctrl+Shift+K", Action.EXPORT)

    def open_current(self) -> None:
        w = self.window
        ids = w.selected_ids()
        if ids:
            open_dossier(self.widget, w.workspace, w.user, ids[0])
            w.refresh()

    def dossier_list(self, search: bool = False) -> None:
        dialog = DossierList(self.window.workspace, self.window.user, self.widget)
        if search:
            dialog.search.setFocus()
        dialog.exec()
        self.window.refresh()

    def search_dossiers(self) -> None:
        self.dossier_list(search=True)

    def template(self) -> None:
        TemplateEditor(self.window.workspace, self.window.user, self.widget).exec()

    def print_dossier(self) -> None:
        w = self.window
        ids = w.selected_ids()
        if not ids:
            return
        if dossier_for(w.workspace, ids[0]) is None:
            show_error(self.widget, "No dossier", AccordError("This account has no dossier yet."))
            return
        self._print(PrintJob("Dossier", (), ids[:1]), "dossier.pdf")

    def call_pack(self) -> None:
        w = self.window
        reps = sorted((u for u in SqlTargetStore(w.workspace).users_by_name().values()
                       if u.role is Role.REP), key=lambda u: u.name)  # fmt: skip
        if not reps:
            show_error(self.widget, "Call pack", AccordError(
                "There is no rep in this workspace yet, so there is no call pack to print: "
                "the owner adds people in Settings › Users and roles."))  # fmt: skip
            return
        dialog = CallPackDialog(reps, w.user, self.widget)
        if not dialog.exec():
            return
        try:
            job = call_pack_job(w.workspace, dialog.rep.currentData(), dialog.limit.value())
        except AccordError as error:
            show_error(self.widget, "Call pack", error)
            return
        self._print(job, f"call-pack-{dialog.rep.currentData()}.pdf".replace(" ", "-"))

    def _print(self, job: PrintJob, name: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self.widget, "Save PDF", name, "PDF (*.pdf)")
        if path:
            self.print_to(job, Path(path))

    def print_to(self, job: PrintJob, path: Path) -> Task:
        w = self.window
        workspace, user = w.workspace, w.user

        def work(progress, cancel):  # type: ignore[no-untyped-def]
            from reports.dossier_pdf import write_dossiers  # ReportLab loads only when printing

            dossiers = export(user, lambda: printed_dossiers(workspace, job.account_ids))
            return write_dossiers(dossiers, path,
                                  title=job.title, workspace=workspace.name,
                                  cover_lines=job.cover, count=len(job.account_ids),
                                  progress=progress, cancel=cancel)  # fmt: skip

        def done(count: int) -> None:
            w.statusBar().showMessage(f"Wrote {counted(count, 'dossier')} to {path}", 10_000)

        self.task = run_task(self.widget, "Writing the PDF", work, done)
        return self.task
