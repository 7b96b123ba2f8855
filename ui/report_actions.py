"""The Reports menu: the goal, service agreement, closed-loop, meeting and plan reports as a
PDF or an Excel workbook, over the months and for the rep chosen, written off the GUI
thread with a progress bar and Cancel (the same reports as ``accord report``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QSize
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from domain.errors import AccordError
from domain.periods import Month, Period
from domain.report import ReportKind
from domain.users import Action, Role, User, export
from storage.read_models.reports import make_report, report_readers, report_scope
from storage.targets import users_by_name
from storage.workspace import Workspace
from ui.messages import plain_label
from ui.settings import keep_geometry
from ui.window_api import WindowApi
from ui.workers import Task, run_task, show_error, show_warning

#: The menu's entries, in the order of the meeting: what each is called there.
ENTRIES = {
    ReportKind.GOAL: "Goal report…",
    ReportKind.SLA: "Service agreement report…",
    ReportKind.CLOSED_LOOP: "Closed-loop report…",
    ReportKind.MEETING: "Meeting pack…",
    ReportKind.PLAN: "The plan to sign…",
}
#: What each file kind is for, and its suffix.
FORMATS = (("PDF, to print and hand round", ".pdf"), ("Excel workbook, for the analyst", ".xlsx"))
EVERYONE = "Everyone"


@dataclass(frozen=True)
class ReportRequest:
    kind: ReportKind
    period: Period
    rep: str | None
    path: Path


class ReportDialog(QDialog):
    """Which report, over which whole months, whose figures, as what, to which file."""

    def __init__(
        self, workspace: Workspace, user: User, kind: ReportKind, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Report")
        with workspace.read() as conn:
            default = report_scope(conn, datetime.now(UTC)).period
            reps = sorted(u.name for u in users_by_name(conn).values() if u.role is Role.REP)
        self.kind = QComboBox()
        for each, entry in ENTRIES.items():
            self.kind.addItem(entry.removesuffix("…"), each)
        self.kind.setCurrentIndex(self.kind.findData(kind))
        self.first, self.last = self._month(default.first), self._month(default.last)
        self.rep = QComboBox()
        self.rep.addItem(EVERYONE, None)
        for name in reps:
            self.rep.addItem(name, name)
        self.format = QComboBox()
        for said, suffix in FORMATS:
            self.format.addItem(said, suffix)
        self.path = QLineEdit(str(Path.home() / self._file_name()))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self.choose)
        self.kind.currentIndexChanged.connect(self._name_file)
        self.format.currentIndexChanged.connect(self._name_file)
        self.first.dateChanged.connect(self._name_file)
        self.last.dateChanged.connect(self._name_file)
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(browse)
        months = QHBoxLayout()
        months.addWidget(self.first)
        months.addWidget(plain_label("to"))
        months.addWidget(self.last)
        months.addStretch(1)
        form = QFormLayout(self)
        form.addRow("Report", self.kind)
        form.addRow("Months", months)
        form.addRow("Figures of", self.rep)
        form.addRow("As", self.format)
        form.addRow("File", where)
        hint = "The goal's months unless you choose others; with no goal, the last six."
        form.addRow(plain_label(hint, wrap=True, muted=True))
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)  # fmt: skip
        box.button(QDialogButtonBox.StandardButton.Ok).setText("Write the report")
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        form.addRow(box)
        self.request: ReportRequest | None = None
        keep_geometry(self, QSize(640, self.sizeHint().height()))  # room for the file's path

    @staticmethod
    def _month(month: Month) -> QDateEdit:
        edit = QDateEdit(QDate(month.year, month.month, 1))
        edit.setDisplayFormat("MMMM yyyy")
        return edit

    def period(self) -> Period:
        """The months chosen; ValidationError when they end before they start."""
        first, last = self.first.date(), self.last.date()
        return Period(Month(first.year(), first.month()), Month(last.year(), last.month()))

    def _file_name(self) -> str:
        kind = ReportKind(self.kind.currentData())  # Qt hands the kind back as its text
        try:
            months = str(self.period()).replace("..", "_")
        except AccordError:
            months = "period"
        return f"{kind.value}-{months}{self.format.currentData()}"

    def _name_file(self) -> None:
        path = Path(self.path.text())
        self.path.setText(str(path.with_name(self._file_name())))

    def choose(self) -> None:
        suffix = self.format.currentData()
        kind = "PDF (*.pdf)" if suffix == ".pdf" else "Excel workbook (*.xlsx)"
        name, _ = QFileDialog.getSaveFileName(self, "Write the report to", self.path.text(), kind)
        if name:
            self.path.setText(name if name.lower().endswith(suffix) else name + suffix)

    def accept(self) -> None:
        try:
            period = self.period()
        except AccordError as error:
            show_error(self, "Report", error)
            return
        path = Path(self.path.text().strip()).expanduser()
        kind = ReportKind(self.kind.currentData())
        self.request = ReportRequest(kind, period, self.rep.currentData(), path)
        super().accept()


class ReportActions:
    """The Reports menu of the main window."""

    def __init__(self, window: WindowApi) -> None:
        self.window = window
        self.task: Task | None = None

    def menu(self, menu: Any) -> None:
        for kind, entry in ENTRIES.items():
            shortcut = "Ctrl+Shift+B" if kind is ReportKind.MEETING else None
            self.window.add_action(menu, entry, lambda _=False, k=kind: self.ask(k), shortcut,
                                   Action.EXPORT)  # fmt: skip

    def ask(self, kind: ReportKind) -> Task | None:
        w = self.window
        dialog = ReportDialog(w.workspace, w.user, kind, w.window())
        if not dialog.exec() or dialog.request is None:
            return None
        return self.write(dialog.request)

    def write(self, request: ReportRequest) -> Task | None:
        """Write the report asked for off the GUI thread, with its progress and Cancel; a
        file that cannot be written there is said before any work."""
        from reports.report_file import check_report_path, lists_raw_rows, write_report

        parent = self.window.window()
        try:
            check_report_path(request.path)
        except AccordError as error:
            show_error(parent, "Report", error)
            return None
        workspace, user = self.window.workspace, self.window.user

        def work(progress, cancel):  # type: ignore[no-untyped-def]
            with report_readers(workspace) as readers:
                scope = report_scope(readers[0], datetime.now(UTC), request.period, request.rep)
                read = (request.kind, scope, workspace.name, lists_raw_rows(request.path), cancel)
                report = export(user, lambda: make_report(readers, *read))
            return write_report(report, request.path, progress=progress, cancel=cancel)

        def done(warning: str | None) -> None:
            self.window.statusBar().showMessage(
                f"Wrote {request.kind.in_sentence} to {request.path}", 10_000
            )
            if warning:
                show_warning(parent, "Report", warning)

        self.task = run_task(parent, f"Writing {request.path.name}", work, done)
        return self.task
