"""Sync › Conflicts… (Shift+F9): every field changed on two copies that had not met, with
both values, who wrote each and when; Keep mine, Take theirs, or Merge… with a value typed
for it. Below, the changes a sync kept aside because their author's role did not allow them,
each with why. Settling is a write that replaces every value the field holds, so it settles
the conflict on every copy once they have synced."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.errors import AccordError
from domain.fields import ACCOUNT_FIELDS, CONTACT_FIELDS
from domain.sync import DELETED, SECTION, Conflict, Head, refusal
from domain.users import User
from domain.values import counted, shown_time
from storage.sync.conflicts import list_conflicts, list_refused, settle_conflict
from storage.workspace import Workspace
from ui.messages import plain_label, plain_tooltip
from ui.settings import keep_geometry
from ui.workers import show_error

#: The product's words for the tables a change can touch.
TABLES = {
    "accounts": "Account",
    "contacts": "Contact",
    "targets": "Target list",
    "interactions": "Interaction",
    "stage_changes": "Stage change",
    "log_exceptions": "Exception to the target list",
    "engagements": "Engagement",
    "icp_versions": "Ideal customer profile",
    "lead_definitions": "Lead definition",
    "dossier_templates": "Dossier template",
    "dossiers": "Dossier",
    "dossier_ratings": "Dossier rating",
    "dossier_conflicts": "Dossier",
    "goal_versions": "Shared goal",
    "agreement_versions": "Service agreement",
    "work_calendars": "Workspace calendar",
    "plan_sign_offs": "Plan sign-off",
    "users": "User",
}
_LABELS = {
    "accounts": {f.name: f.label for f in ACCOUNT_FIELDS},
    "contacts": {f.name: f.label for f in CONTACT_FIELDS},
}


def table_label(table: str) -> str:
    return TABLES.get(table, table.replace("_", " ").capitalize())


def field_label(table: str, field: str) -> str:
    """A field as a person names it: its label in the account window, a dossier's section
    by its key, "Deleted" for the row's deletion."""
    if field == DELETED:
        return "Deleted"
    if field.startswith(SECTION):
        return f"Section {field.removeprefix(SECTION).replace('_', ' ')}"
    return _LABELS.get(table, {}).get(field) or field.replace("_", " ").capitalize()


def shown_value(table: str, conflict_field: str, head: Head) -> str:
    """One value of a conflicted field as text; in a conflict between a deletion and an
    edit, "deleted" or the edit with its field."""
    if head.field == DELETED:
        return "deleted" if head.value is not None else "kept"
    value = "(empty)" if head.value in (None, "") else str(head.value)
    if head.field != conflict_field:
        return f"{field_label(table, head.field)}: {value}"
    return value


def _by(head: Head | None) -> str:
    return "" if head is None else f"{head.author}, {shown_time(head.at)}"


class _Columns:
    RECORD, FIELD, MINE, MINE_BY, THEIRS, THEIRS_BY = range(6)
    HEADERS = ("Record", "Field", "Yours", "Yours: who, when", "Theirs", "Theirs: who, when")


class ConflictsDialog(QDialog):
    """The conflicts and the changes kept aside, read when it opens and after each settle."""

    def __init__(
        self, workspace: Workspace, user: User, device: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Conflicts")
        self.workspace, self.user, self.device = workspace, user, device
        self.conflicts: list[Conflict] = []

        self.heading = plain_label("", wrap=True)
        self.heading.setObjectName("heading")
        self.table = QTableWidget(0, len(_Columns.HEADERS))
        self.table.setObjectName("conflicts")
        self.table.setHorizontalHeaderLabels(_Columns.HEADERS)
        self._read_only(self.table, (_Columns.RECORD, _Columns.MINE, _Columns.THEIRS))
        self.table.itemSelectionChanged.connect(self._chosen)
        self.detail = plain_label("", wrap=True, muted=True)
        self.detail.setObjectName("detail")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.mine = QPushButton("Keep mine")
        self.mine.setObjectName("keep mine")
        self.theirs = QPushButton("Take theirs")
        self.theirs.setObjectName("take theirs")
        self.merge = QPushButton("Merge…")
        self.merge.setObjectName("merge")
        self.mine.clicked.connect(lambda: self._settle("mine"))
        self.theirs.clicked.connect(lambda: self._settle("theirs"))
        self.merge.clicked.connect(self._merge)
        actions = QHBoxLayout()
        for button in (self.mine, self.theirs, self.merge):
            actions.addWidget(button)
        actions.addStretch()

        self.refused_heading = plain_label("", wrap=True)
        self.refused_heading.setObjectName("refused heading")
        self.refused = QTableWidget(0, 6)
        self.refused.setObjectName("refused")
        self.refused.setHorizontalHeaderLabels(("When", "Who", "Record", "Field", "Value", "Why"))
        self._read_only(self.refused, (2, 4, 5))  # the record, the value, why

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.detail)
        layout.addLayout(actions)
        layout.addSpacing(8)
        layout.addWidget(self.refused_heading)
        layout.addWidget(self.refused, 2)
        layout.addWidget(close)
        self.read()
        keep_geometry(self, QSize(1180, 640))

    @staticmethod
    def _read_only(table: QTableWidget, stretched: tuple[int, ...]) -> None:
        """Read-only rows; the ``stretched`` columns (what people typed) share the width
        left by the others, which take what they hold, so every column shows whole or
        elided, never off the right edge. A cell's tooltip holds all of it."""
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        header = table.horizontalHeader()
        fitted, stretch = QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch
        for column in range(table.columnCount()):
            header.setSectionResizeMode(column, stretch if column in stretched else fitted)

    # --- reading -------------------------------------------------------------------------
    def read(self) -> None:
        with self.workspace.read() as conn:
            self.conflicts = list_conflicts(conn)
            refused = list_refused(conn)
        self.heading.setText(
            f"{counted(len(self.conflicts), 'field')} changed on both sides. Until you "
            "settle one, every copy shows the latest value and keeps the other."
            if self.conflicts
            else "No conflicts: no field was changed on both sides."
        )
        self.table.setRowCount(len(self.conflicts))
        for row, conflict in enumerate(self.conflicts):
            mine, theirs = self._sides(conflict)
            cells = (
                conflict.what,
                field_label(conflict.table, conflict.field),
                "" if mine is None else shown_value(conflict.table, conflict.field, mine),
                _by(mine),
                "" if theirs is None else shown_value(conflict.table, conflict.field, theirs),
                _by(theirs),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tooltip(text))
                self.table.setItem(row, column, item)
        self.refused_heading.setText(
            f"{counted(len(refused), 'change')} kept aside: their author's role does not "
            "allow them, so they were not applied."
            if refused
            else "No change was kept aside for its author's role."
        )
        self.refused.setRowCount(len(refused))
        for row, change in enumerate(refused):
            value = "(empty)" if change.value in (None, "") else str(change.value)
            cells = (shown_time(change.at), change.author, table_label(change.table),
                     field_label(change.table, change.field), value, change.reason)  # fmt: skip
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tooltip(text))
                self.refused.setItem(row, column, item)
        self.refused.setVisible(bool(refused))
        if self.conflicts:
            self.table.selectRow(0)
        self._chosen()

    def _sides(self, conflict: Conflict) -> tuple[Head | None, Head | None]:
        """The latest value made on this copy and the latest made elsewhere."""
        sides = []
        for keep in ("mine", "theirs"):
            try:
                sides.append(conflict.kept(keep, self.device))
            except AccordError:
                sides.append(None)
        return sides[0], sides[1]

    def current(self) -> Conflict | None:
        rows = self.table.selectionModel().selectedRows()
        return self.conflicts[rows[0].row()] if rows else None

    def _chosen(self) -> None:
        conflict = self.current()
        mine, theirs = self._sides(conflict) if conflict else (None, None)
        why = None if conflict is None else refusal(
            self.user.name, self.user.role, conflict.table, conflict.field)  # fmt: skip
        self.mine.setEnabled(mine is not None and why is None)
        self.theirs.setEnabled(theirs is not None and why is None)
        self.merge.setEnabled(conflict is not None and conflict.field != DELETED and why is None)
        if conflict is None:
            self.detail.setText("")
            return
        table, field = conflict.table, conflict.field
        others = "; ".join(
            f"{shown_value(table, field, head)} ({_by(head)})" for head in conflict.others
        )
        self.detail.setText(
            f"{conflict.what}, {field_label(table, field)}: every copy shows "
            f"{shown_value(table, field, conflict.winner)} ({_by(conflict.winner)}) and keeps "
            f"{others}." + ("" if why is None else f" Someone else settles it: {why}")
        )

    # --- settling ------------------------------------------------------------------------
    def _settle(self, keep: Any) -> None:
        conflict = self.current()
        if conflict is None:
            return
        try:
            settle_conflict(self.workspace, self.user, conflict.id, keep)
        except AccordError as error:
            show_error(self, "Conflicts", error)
        self.read()

    def _merge(self) -> None:
        conflict = self.current()
        if conflict is None:
            return
        label = field_label(conflict.table, conflict.field)
        ask = QInputDialog(self)
        ask.setWindowTitle("Merge")
        ask.setLabelText(f"The value {label} keeps on every copy:")
        for shown in ask.findChildren(QLabel):  # a section's name comes from the template
            shown.setTextFormat(Qt.TextFormat.PlainText)
        if conflict.field.startswith(SECTION):
            ask.setOption(QInputDialog.InputDialogOption.UsePlainTextEditForTextInput)
        ask.setTextValue("" if conflict.winner.value is None else str(conflict.winner.value))
        ask.resize(560, ask.sizeHint().height())
        if ask.exec():
            self._settle(ask.textValue())
