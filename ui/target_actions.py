"""The Targets menu: build the target list, curate it, assign owners, set priorities, hand
off, see its history and export it. Each action calls a domain use case; bulk ones run in a
worker with a progress dialog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.errors import AccordError
from domain.icp import Tier
from domain.targets import (
    PRIORITIES,
    Territories,
    add_to_target_list,
    assign_by_territory,
    assign_owners,
    assign_round_robin,
    build_target_list,
    hand_off,
    remove_from_target_list,
    set_priority,
)
from domain.users import Action, Role, User
from domain.values import counted, shown_time
from reports.output import write_text
from storage.icps import list_versions
from storage.targets import SqlTargetStore, target_history, target_table
from ui.workers import run_task, show_error

if TYPE_CHECKING:
    from ui.main_window import MainWindow

EDIT = Action.EDIT_TARGET_LIST


def reps_of(store: SqlTargetStore) -> list[User]:
    return sorted((u for u in store.users_by_name().values() if u.role is Role.REP),
                  key=lambda u: u.name)  # fmt: skip


class TargetActions:
    def __init__(self, window: MainWindow) -> None:
        self.window = window

    @property
    def store(self) -> SqlTargetStore:
        return SqlTargetStore(self.window.workspace)

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
        dialog = BuildDialog(self.window)
        if not dialog.exec():
            return
        version, tiers = dialog.choice()
        store, user = self.store, self.window.user
        self._bulk(
            "Building the target list",
            lambda: build_target_list(store, user, version, tiers),
            lambda added: (
                f"Added {counted(added, 'account')} to the target list from {version.label}"
            ),
        )

    def add(self) -> None:
        self._each("Add to target list", "Why add these accounts?", add_to_target_list)

    def remove(self) -> None:
        self._each("Remove from target list", "Why remove these accounts?",
                   remove_from_target_list)  # fmt: skip

    def _each(self, title: str, question: str, change: Any) -> None:
        ids = self.window.selected_ids()
        if not ids:
            return
        reason, ok = QInputDialog.getText(self.window, title, f"{question} (kept in history)")
        if not ok:
            return
        problems: list[str] = []
        for account_id in ids:
            try:
                change(self.store, self.window.user, account_id, reason)
            except AccordError as error:
                problems.append(str(error))
                if "reason" in str(error):
                    break
        self.window.refresh()
        if problems:
            show_error(self.window, title, AccordError("\n".join(dict.fromkeys(problems))))
        else:
            self.window.statusBar().showMessage(f"{title}: {counted(len(ids), 'account')}", 6000)

    # --- owners and priorities -----------------------------------------------------------------
    def assign(self) -> None:
        ids = self.window.selected_ids()
        reps = reps_of(self.store)
        if not ids:
            return
        names = [r.name for r in reps] + ["(no owner)"]
        name, ok = QInputDialog.getItem(self.window, "Assign owner", "Owning rep:", names, 0, False)
        if ok:
            owner = next((r.id for r in reps if r.name == name), None)
            self.window.act(
                lambda: assign_owners(self.store, self.window.user, dict.fromkeys(ids, owner))
            )

    def round_robin(self) -> None:
        dialog = RepsDialog(reps_of(self.store), self.window)
        if not dialog.exec():
            return
        names, store, user = dialog.chosen(), self.store, self.window.user
        self._bulk(
            "Assigning round-robin",
            lambda: assign_round_robin(store, user, names),
            lambda count: f"Assigned {counted(count, 'account')} to {', '.join(names)}",
        )

    def territories(self) -> None:
        dialog = TerritoryDialog(reps_of(self.store), self.window)
        if not dialog.exec():
            return
        rules, store, user = dialog.territories(), self.store, self.window.user
        self._bulk(
            "Assigning by territory",
            lambda: assign_by_territory(store, user, rules),
            lambda count: f"Assigned {counted(count, 'account')} by territory",
        )

    def priority(self, priority: int) -> None:
        ids, store, user = self.window.selected_ids(), self.store, self.window.user

        def change() -> None:
            for account_id in ids:
                set_priority(store, user, account_id, priority)

        self.window.act(change)

    # --- hand-off ---------------------------------------------------------------------------------
    def hand_off_selected(self) -> None:
        ids = self.window.selected_ids()
        if ids:
            self._bulk("Handing off", lambda: hand_off(self.store, self.window.user, ids),
                       lambda result: result.describe())  # fmt: skip

    def hand_off_all(self) -> None:
        store, user = self.store, self.window.user
        self._bulk("Handing off", lambda: hand_off(store, user), lambda r: r.describe())

    def _bulk(self, title: str, work: Any, describe: Any) -> None:
        def done(result: Any) -> None:
            self.window.refresh()
            message = describe(result)
            self.window.statusBar().showMessage(message, 10000)
            box = QMessageBox(QMessageBox.Icon.Information, title, message,
                              QMessageBox.StandardButton.Ok, self.window)  # fmt: skip
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.open()

        self.window.task = run_task(self.window, title, lambda _p, _c: work(), done)

    # --- reading ----------------------------------------------------------------------------------
    def history(self) -> None:
        HistoryDialog(target_history(self.window.workspace), self.window).exec()

    def export(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self.window, "Export target list", "targets.xlsx", "Excel (*.xlsx);;CSV (*.csv)"
        )
        if not name:
            return
        workspace, user = self.window.workspace, self.window.user
        self.window.export_table(
            Path(name), lambda: target_table(workspace, user), "target account"
        )


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

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Build target list")
        self.version = QComboBox()
        versions = list_versions(window.workspace)
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
        layout.addWidget(_note("Deal the listed accounts without an owner, best "
                                           "first, to these reps in turn:"))  # fmt: skip
        layout.addWidget(self.list)
        layout.addWidget(_buttons(self, "Assign"))

    def chosen(self) -> list[str]:
        items = [self.list.item(i) for i in range(self.list.count())]
        return [i.text() for i in items if i.checkState() == Qt.CheckState.Checked]


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class TerritoryDialog(QDialog):
    """Territory rules: country or region → rep, loaded from and saved to JSON."""

    SETTING = "territories"

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
        layout.addWidget(_note(
            "Listed accounts without an owner go to the rep of their country (or else their "
            "region). Accounts outside every territory keep no owner."))  # fmt: skip
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(_buttons(self, "Assign"))
        self.resize(520, 420)
        saved = QSettings("Accord", "Accord").value(self.SETTING)
        if isinstance(saved, str):
            self._fill(json.loads(saved))

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
        QSettings("Accord", "Accord").setValue(self.SETTING, json.dumps(self.rules()))
        super().accept()

    def _load(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Load territories", "", "JSON (*.json)")
        if not name:
            return
        try:
            document = json.loads(Path(name).read_text(encoding="utf-8-sig"))
            Territories.from_document(document)
        except (OSError, ValueError, AccordError) as error:
            show_error(self, "Territories", AccordError(f"{Path(name).name}: {error}"))
            return
        self._fill(document)

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
        table = QTableWidget(len(rows), 4)
        table.setHorizontalHeaderLabels(["When", "Who", "What", "Details"])
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setStretchLastSection(True)
        for row, (at, who, action, details) in enumerate(rows):
            shown = "; ".join(f"{k}: {v}" for k, v in (details or {}).items())
            for column, text in enumerate((shown_time(at), who, action, shown)):
                table.setItem(row, column, QTableWidgetItem(str(text)))
        table.resizeColumnsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.resize(760, 480)
