"""The Targets menu: build the target list, curate it, assign owners, set priorities, hand
off, see its history and export it. Each action calls a domain use case; bulk ones run in a
worker with a progress dialog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.errors import AccordError
from domain.icp import Tier
from domain.importing import FileRefused
from domain.targets import (
    PRIORITIES,
    Built,
    Territories,
    add_to_target_list,
    assign_by_territory,
    assign_owners,
    assign_round_robin,
    build_target_list,
    hand_off,
    history_line,
    remove_from_target_list,
    set_priority,
)
from domain.users import Action, Role, User
from domain.values import counted, shown_time
from reports.output import write_text
from storage.icps import list_versions
from storage.importing.files import read_document
from storage.repositories import SqlUnitOfWork
from storage.targets import SqlTargetStore, hand_off_preview, target_history, target_table
from storage.workspace import Workspace
from ui.messages import Button, Icon, ask, message_box, plain_label, tell
from ui.settings import keep_geometry, remember_territories, remembered_territories
from ui.window_api import WindowApi
from ui.workers import run_task, show_error

EDIT = Action.EDIT_TARGET_LIST


def reps_of(workspace: Workspace) -> list[User]:
    return sorted((u for u in SqlTargetStore(workspace).users_by_name().values()
                   if u.role is Role.REP), key=lambda u: u.name)  # fmt: skip


class TargetActions:
    """Each action is one use case on the selection, run in a worker: one transaction, kept
    whole or (on a failure or Cancel) not at all."""

    def __init__(self, window: WindowApi) -> None:
        self.window, self.widget = window, window.window()

    def menu(self, menu: Any) -> None:
        add = self.window.add_action
        add(menu, "Build target list…", self.build, "Ctrl+B", EDIT)
        add(menu, "Add to target list…", self.add, "Ctrl+T", EDIT)
        add(menu, "Remove from target list…", self.remove, "Ctrl+Shift+T", EDIT)
        menu.addSeparator()
        add(menu, "Assign owner…", self.assign, "Ctrl+Shift+O", EDIT)
        add(menu, "Assign round-robin…", self.round_robin, None, EDIT)
        add(menu, "Assign by territory…", self.territories, None, EDIT)
        for priority in PRIORITIES:
            add(menu, f"Priority {priority}", lambda _=False, p=priority: self.priority(p),
                f"Alt+{priority}", EDIT)  # fmt: skip
        menu.addSeparator()
        add(menu, "Hand off selected", self.hand_off_selected, "Ctrl+Shift+H", EDIT)
        add(menu, "Hand off every sales-ready account", self.hand_off_all, None, EDIT)
        menu.addSeparator()
        add(menu, "Target list history…", self.history, "Ctrl+Shift+Y")
        add(menu, "Export target list…", self.export, "Ctrl+Shift+E", Action.EXPORT)

    # --- building and curating ---------------------------------------------------------------
    def build(self) -> None:
        dialog = BuildDialog(self.window.workspace, self.widget)
        if not dialog.exec():
            return
        version, tiers = dialog.choice()
        self._run(
            "Building the target list",
            lambda uow, user, _progress, cancel: build_target_list(
                uow, user, version, tiers, cancel
            ),
            lambda built: built.describe(),
            then=self._offer_removal,
        )

    def _offer_removal(self, built: Built) -> None:
        """Say how many listed accounts are no longer in the chosen tiers, and offer to
        take them off the list with a reason."""
        fallen = built.fallen_text()
        if fallen is None:
            tell(self.widget, "Build target list", built.describe())
            return
        them = "it" if len(built.fallen) == 1 else "them"
        question = f"{built.describe()}\n\n{fallen} Remove {them} from the target list?"
        if ask(self.widget, "Build target list", question) == Button.Yes:
            self._listing("Remove from target list", f"Why remove {them}?",
                          remove_from_target_list, list(built.fallen))  # fmt: skip

    def add(self) -> None:
        self._listing("Add to target list", "Why add these accounts?", add_to_target_list)

    def remove(self) -> None:
        self._listing("Remove from target list", "Why remove these accounts?",
                      remove_from_target_list)  # fmt: skip

    def _listing(
        self, title: str, question: str, change: Any, ids: list[Any] | None = None
    ) -> None:
        ids = ids or self.window.selected_ids()
        if not ids:
            return
        reason, ok = QInputDialog.getText(self.widget, title, f"{question} (kept in history)")
        if ok:
            self._run(
                title,
                lambda uow, user, progress, cancel: change(
                    uow, user, ids, reason, progress, cancel
                ),
                lambda count: f"{title}: {counted(count, 'account')}",
            )

    # --- owners and priorities -----------------------------------------------------------------
    def assign(self) -> None:
        ids = self.window.selected_ids()
        reps = reps_of(self.window.workspace)
        if not ids:
            return
        names = [r.name for r in reps] + ["(no owner)"]
        name, ok = QInputDialog.getItem(self.widget, "Assign owner", "Owning rep:", names, 0, False)
        if ok:
            owner = next((r.id for r in reps if r.name == name), None)
            self._run(
                "Assign owner",
                lambda uow, user, _progress, cancel: assign_owners(
                    uow, user, dict.fromkeys(ids, owner), cancel
                ),
                lambda count: (
                    f"Assigned {counted(count, 'account')} to {name}"
                    if owner is not None
                    else f"Took the owner off {counted(count, 'account')}"
                ),
            )

    def round_robin(self) -> None:
        dialog = RepsDialog(reps_of(self.window.workspace), self.widget)
        if not dialog.exec():
            return
        names = dialog.chosen()
        self._run(
            "Assigning round-robin",
            lambda uow, user, _progress, cancel: assign_round_robin(uow, user, names, cancel),
            lambda count: f"Assigned {counted(count, 'account')} to {', '.join(names)}",
            tell=True,
        )

    def territories(self) -> None:
        dialog = TerritoryDialog(reps_of(self.window.workspace), self.widget)
        if not dialog.exec():
            return
        rules = dialog.territories()
        self._run(
            "Assigning by territory",
            lambda uow, user, _progress, cancel: assign_by_territory(uow, user, rules, cancel),
            lambda count: f"Assigned {counted(count, 'account')} by territory",
            tell=True,
        )

    def priority(self, priority: int) -> None:
        ids = self.window.selected_ids()
        if ids:
            self._run(
                f"Priority {priority}",
                lambda uow, user, progress, cancel: set_priority(
                    uow, user, ids, priority, progress, cancel
                ),
                lambda count: f"Priority {priority} for {counted(count, 'account')}",
            )

    # --- hand-off ---------------------------------------------------------------------------------
    def hand_off_selected(self) -> None:
        ids = self.window.selected_ids()
        if ids:
            self._hand_off(ids)

    def hand_off_all(self) -> None:
        self._hand_off(None)

    def _hand_off(self, ids: list[Any] | None) -> None:
        """Say how many accounts the hand-off passes on and ask first: it cannot be undone."""
        would = hand_off_preview(self.window.workspace, ids)
        question = would.question()
        if question is None:
            tell(self.widget, "Hand off", would.nothing())
            return
        if ask(self.widget, "Hand off", question) != Button.Yes:
            return
        self._run(
            "Handing off",
            lambda uow, user, _progress, cancel: hand_off(uow, user, ids, cancel),
            lambda result: result.describe(),
            tell=True,
        )

    def _run(
        self, title: str, action: Any, describe: Any, *, tell: bool = False, then: Any = None
    ) -> None:
        """Run ``action(uow, user, progress, cancel)`` in a worker with a progress dialog;
        say what it did in the status bar (and in a box when ``tell``), then call ``then``
        with the result; an error or Cancel is said in a box, and then nothing was changed."""
        uow, user = SqlUnitOfWork(self.window.workspace), self.window.user

        def done(result: Any) -> None:
            self.window.refresh()
            message = describe(result)
            self.window.statusBar().showMessage(message, 10000)
            if tell:
                message_box(self.widget, Icon.Information, title, message).open()
            if then is not None:
                then(result)

        self.window.task = run_task(
            self.widget, title, lambda progress, cancel: action(uow, user, progress, cancel), done
        )

    # --- reading ----------------------------------------------------------------------------------
    def history(self) -> None:
        HistoryDialog(target_history(self.window.workspace), self.widget).exec()

    def export(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self.widget, "Export target list", "targets.xlsx", "Excel (*.xlsx);;CSV (*.csv)"
        )
        if not name:
            return
        workspace = self.window.workspace
        self.window.export_table(Path(name), lambda: target_table(workspace), "target account")


def _buttons(dialog: QDialog, ok: str) -> QDialogButtonBox:
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class BuildDialog(QDialog):
    """Which ICP version, which tiers."""

    def __init__(self, workspace: Workspace, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Build target list")
        self.version = QComboBox()
        versions = list_versions(workspace)
        active = max(versions, key=lambda v: v.applied_at or v.created_at, default=None)
        for version in versions:
            applied = "  (active)" if version is active and version.applied_at else ""
            self.version.addItem(version.label + applied, version)
        if active is not None:
            self.version.setCurrentIndex(versions.index(active))
        self.tiers = {t: QCheckBox(f"Tier {t}") for t in Tier}
        tiers = QHBoxLayout()
        for tier, box in self.tiers.items():
            box.setChecked(tier is not Tier.C)
            tiers.addWidget(box)
        form = QFormLayout(self)
        form.addRow("ICP version:", self.version)
        form.addRow("Tiers:", tiers)
        form.addRow(_buttons(self, "Build"))
        if not versions:
            self.version.addItem("No ICP saved yet: open Plan › Ideal customer profile")
            self.version.setEnabled(False)
        keep_geometry(self)

    def accept(self) -> None:
        if self.version.currentData() is None:
            return
        super().accept()

    def choice(self) -> tuple[Any, set[Tier]]:
        return self.version.currentData(), {t for t, box in self.tiers.items() if box.isChecked()}


class RepsDialog(QDialog):
    def __init__(self, reps: list[User], parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Assign round-robin")
        self.list = QListWidget()
        for rep in reps:
            item = QListWidgetItem(rep.name)
            item.setCheckState(Qt.CheckState.Checked)
            self.list.addItem(item)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label("Deal the listed accounts without an owner, best "
                                     "first, to these reps in turn:", wrap=True))  # fmt: skip
        layout.addWidget(self.list)
        layout.addWidget(_buttons(self, "Assign"))
        keep_geometry(self)

    def chosen(self) -> list[str]:
        items = [self.list.item(i) for i in range(self.list.count())]
        return [i.text() for i in items if i.checkState() == Qt.CheckState.Checked]


class TerritoryDialog(QDialog):
    """Territory rules: country or region → rep, loaded from and saved to JSON."""

    def __init__(self, reps: list[User], parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Assign by territory")
        self.reps = [r.name for r in reps]
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Country or region", "Rep"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 220)
        add, remove = QPushButton("Add rule"), QPushButton("Remove rule")
        load, save = QPushButton("Load…"), QPushButton("Save…")
        add.clicked.connect(lambda: self._row("", self.reps[0] if self.reps else ""))
        remove.clicked.connect(lambda: self.table.removeRow(self.table.currentRow()))
        load.clicked.connect(self._load)
        save.clicked.connect(self._save)
        row = QHBoxLayout()
        for button in (add, remove, load, save):
            row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(
            "Listed accounts without an owner go to the rep of their country (or else their "
            "region). Accounts outside every territory keep no owner.", wrap=True))  # fmt: skip
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(_buttons(self, "Assign"))
        keep_geometry(self, QSize(520, 420))
        self._fill(remembered_territories())

    def _row(self, place: str, rep: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(place))
        combo = QComboBox()
        combo.addItems(self.reps if rep in self.reps else [*self.reps, rep])
        combo.setCurrentText(rep)
        self.table.setCellWidget(row, 1, combo)

    def _fill(self, rules: dict[str, str]) -> None:
        self.table.setRowCount(0)
        for place, rep in rules.items():
            self._row(place, rep)

    def rules(self) -> dict[str, str]:
        result = {}
        for row in range(self.table.rowCount()):
            item, combo = self.table.item(row, 0), self.table.cellWidget(row, 1)
            if item is not None and item.text().strip() and isinstance(combo, QComboBox):
                result[item.text().strip()] = combo.currentText()
        return result

    def territories(self) -> Territories:
        return Territories.from_document(self.rules())

    def accept(self) -> None:
        try:
            self.territories()
        except AccordError as error:
            show_error(self, "Territories", error)
            return
        remember_territories(self.rules())
        super().accept()

    def _load(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Load territories", "", "JSON (*.json)")
        if not name:
            return
        try:
            document = read_document(Path(name))
            Territories.from_document(document)
        except FileRefused as error:
            show_error(self, "Territories", error)
            return
        except AccordError as error:
            show_error(self, "Territories", AccordError(f"{Path(name).name}: {error}"))
            return
        self._fill(cast(dict[str, str], document))  # from_document took it: texts to texts

    def _save(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save territories", "territories.json",
                                              "JSON (*.json)")  # fmt: skip
        if not name:
            return
        try:
            write_text(Path(name), json.dumps(self.rules(), indent=2, ensure_ascii=False))
        except AccordError as error:
            show_error(self, "Not saved", error)


class HistoryDialog(QDialog):
    def __init__(self, rows: list[tuple[Any, ...]], parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Target list history")
        table = QTableWidget(len(rows), 3)
        table.setHorizontalHeaderLabels(["When", "Who", "What"])
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setStretchLastSection(True)
        for row, (at, who, action, details) in enumerate(rows):
            shown = history_line(action, details)
            for column, text in enumerate((shown_time(at), who, shown)):
                table.setItem(row, column, QTableWidgetItem(str(text)))
        table.resizeColumnsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        keep_geometry(self, QSize(760, 480))
