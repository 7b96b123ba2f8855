"""The ICP editor: criteria, tier thresholds, a live preview of what the ICP does to the
workspace, versions (save, history, compare), JSON import/export and applying it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSize, QThreadPool, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.errors import AccordError, ValidationError
from domain.icp import (
    CRITERION_FIELDS,
    CUSTOM,
    Criterion,
    IcpVersion,
    IdealCustomerProfile,
    Operator,
    Tier,
    apply_icp,
    from_document,
    is_numeric,
    operators_for,
    save_icp,
    tier_moves,
    to_document,
)
from domain.importing import FileRefused
from domain.users import Action, User
from domain.values import counted, parse_amount, shown_time
from reports.output import write_text
from storage.icps import (
    SAMPLE_ABOVE,
    Histogram,
    SqlIcpStore,
    active_version,
    best_accounts,
    compare,
    count_accounts,
    histogram,
    list_versions,
)
from storage.importing.files import read_document
from storage.workspace import Workspace
from ui.messages import plain_label
from ui.settings import keep_geometry
from ui.workers import run_task, show_error

PREVIEW_DELAY_MS = 100
_NEW = "New ICP"
_TIER_NAMES = {Tier.A: "Tier A", Tier.B: "Tier B", Tier.C: "Tier C", None: "Excluded"}


def parse_values(field: str, operator: Operator, text: str) -> tuple[Any, ...]:
    """The values typed for a criterion. Lists ("in", "between") are comma-separated, so
    numbers in a list are written plainly or as 5k / 5M; a single number may be 1,200."""
    if operator is Operator.IS_SET:
        return ()
    if operator in (Operator.CONTAINS, Operator.AT_LEAST, Operator.AT_MOST):
        parts = [text.strip()]
    else:
        parts = [p.strip() for p in text.split(",")]
    parts = [p for p in parts if p]
    if not is_numeric(field):
        return tuple(parts)
    try:
        return tuple(parse_amount(p) for p in parts)
    except ValueError as exc:
        raise ValidationError({CRITERION_FIELDS.get(field, field): str(exc)}) from None


def format_values(criterion: Criterion) -> str:
    return ", ".join(str(v) for v in criterion.values)


class _Preview(QObject):
    """Runs the preview queries on worker threads; answers carry the request's number so
    that the editor keeps only the newest. On a big workspace an estimate from a sample
    comes first (well within 0.3 s), the exact counts after."""

    ready = Signal(int, object, float)  # request number, PreviewAnswer, seconds

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.generation = 0
        self.large = count_accounts(workspace) > SAMPLE_ABOVE

    def request(self, icp: IdealCustomerProfile) -> int:
        self.generation += 1
        generation, started = self.generation, time.perf_counter()
        passes = (True, False) if self.large else (False,)

        def work() -> None:
            for sample in passes:
                if generation != self.generation:
                    return  # a newer edit came in: its answer is the one to show
                try:
                    answer: Any = PreviewAnswer(
                        histogram(self.workspace, icp, sample),
                        best_accounts(self.workspace, icp, sample=sample),
                    )
                except Exception as exc:  # shown in the preview, never lost in a thread
                    answer = exc
                self.ready.emit(generation, answer, time.perf_counter() - started)

        QThreadPool.globalInstance().start(work)
        return generation


@dataclass(frozen=True)
class PreviewAnswer:
    histogram: Histogram
    top: list[tuple[Any, str, int]]


class IcpEditor(QDialog):
    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.setWindowTitle("Ideal customer profile")
        self.can_edit = user.can(Action.EDIT_ICP)
        self.store = SqlIcpStore(workspace)
        self.preview = _Preview(workspace)
        self.preview.ready.connect(self._show_preview)
        self.timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self.timer.timeout.connect(self.refresh_preview)
        self.loading = False
        self.answer: PreviewAnswer | None = None
        self.answer_generation = 0
        self.answered_criteria: tuple[Criterion, ...] = ()
        self.requested = IdealCustomerProfile("preview")

        self.versions = QComboBox()
        self.versions.setObjectName("versions")
        self.versions.activated.connect(self._version_chosen)
        self.name = QLineEdit()
        self.description = QLineEdit()
        self.tier_a, self.tier_b = QSpinBox(), QSpinBox()
        for box in (self.tier_a, self.tier_b):
            box.setRange(0, 100)
            box.valueChanged.connect(self.changed)
        self.name.textChanged.connect(self.changed)
        self.criteria = QTableWidget(0, 5)
        self.criteria.setObjectName("criteria")
        self.criteria.setHorizontalHeaderLabels(["Field", "Operator", "Values", "Must-have",
                                                 "Weight"])  # fmt: skip
        header = self.criteria.horizontalHeader()
        weight_width = max(QSpinBox().sizeHint().width(), header.sectionSizeHint(4)) + 24
        for column, width in ((0, 190), (1, 100), (3, 80), (4, weight_width)):
            self.criteria.setColumnWidth(column, width)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)  # the values give way
        self.criteria.verticalHeader().hide()
        add, remove = QPushButton("Add criterion"), QPushButton("Remove criterion")
        add.setShortcut(QKeySequence("Ctrl+Shift+N"))
        add.clicked.connect(lambda: self.add_criterion(Criterion("industry", Operator.IN, ())))
        remove.clicked.connect(self.remove_criterion)
        self.problems = plain_label()
        self.problems.setObjectName("problems")
        self.problems.setStyleSheet("color: #b00020")
        self.problems.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Version:", self.versions)
        form.addRow("Name:", self.name)
        form.addRow("Description:", self.description)
        thresholds = QHBoxLayout()
        thresholds.addWidget(plain_label("Tier A from score"))
        thresholds.addWidget(self.tier_a)
        thresholds.addWidget(plain_label("Tier B from score"))
        thresholds.addWidget(self.tier_b)
        thresholds.addStretch()
        form.addRow("Tiers:", thresholds)
        criteria_buttons = QHBoxLayout()
        criteria_buttons.addWidget(add)
        criteria_buttons.addWidget(remove)
        criteria_buttons.addStretch()
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(
            plain_label(
                "Criteria: a must-have excludes accounts that fail it; a weighted "
                "criterion adds its weight. Scores are 0–100."
            )
        )
        left.addWidget(self.criteria, 1)
        left.addLayout(criteria_buttons)
        left.addWidget(self.problems)

        self.counts = {tier: plain_label("–") for tier in _TIER_NAMES}
        counts = QFormLayout()
        for tier, label in self.counts.items():
            label.setObjectName(f"count_{tier or 'excluded'}")
            counts.addRow(_TIER_NAMES[tier] + ":", label)
        self.top = QListWidget()
        self.top.setObjectName("top")
        self.timing = plain_label()
        preview = QGroupBox("Preview on this workspace")
        preview_layout = QVBoxLayout(preview)
        preview_layout.addLayout(counts)
        preview_layout.addWidget(plain_label("Best accounts:"))
        preview_layout.addWidget(self.top, 1)
        preview_layout.addWidget(self.timing)
        preview.setMinimumWidth(320)

        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addWidget(preview)
        self.save_button = QPushButton("Save version…")
        self.save_button.setShortcut(QKeySequence.StandardKey.Save)
        self.apply_button = QPushButton("Apply to all accounts…")
        import_button, export_button = QPushButton("Import JSON…"), QPushButton("Export JSON…")
        compare_button, close = QPushButton("Compare versions…"), QPushButton("Close")
        self.save_button.clicked.connect(self.save)
        self.apply_button.clicked.connect(self.apply)
        import_button.clicked.connect(self.import_json)
        export_button.clicked.connect(self.export_json)
        compare_button.clicked.connect(self.compare)
        close.clicked.connect(self.reject)
        for button in (self.save_button, self.apply_button, import_button, add, remove):
            button.setEnabled(self.can_edit)
        buttons = QHBoxLayout()
        for button in (import_button, export_button, compare_button):
            buttons.addWidget(button)
        buttons.addStretch()
        for button in (self.save_button, self.apply_button, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addLayout(buttons)
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)  # Return in a criterion's field clicks no button
        QShortcut(QKeySequence("Ctrl+Return"), self, self.apply)
        keep_geometry(self, QSize(1180, 640))
        self.task: Any = None
        self._load_versions()

    # --- versions ---------------------------------------------------------------------------------
    def _load_versions(self, select: IcpVersion | None = None) -> None:
        self.all_versions = list_versions(self.workspace)
        self.versions.clear()
        self.versions.addItem(_NEW, None)
        active = active_version(self.workspace)
        for version in self.all_versions:
            when = shown_time(version.created_at)
            mark = "  ● active" if active is not None and version.id == active.id else ""
            self.versions.addItem(f"{version.label} — {when}, {version.created_by}{mark}",
                                  version)  # fmt: skip
        ids = [v.id for v in self.all_versions]
        chosen = select or active or (self.all_versions[0] if self.all_versions else None)
        index = ids.index(chosen.id) + 1 if chosen is not None and chosen.id in ids else 0
        self.versions.setCurrentIndex(index)
        self.load(chosen.icp if chosen else IdealCustomerProfile("", (), 70, 40))

    def _version_chosen(self) -> None:
        version = self.versions.currentData()
        self.load(version.icp if version else IdealCustomerProfile("", (), 70, 40))

    def current_version(self) -> IcpVersion | None:
        version = self.versions.currentData()
        return version if isinstance(version, IcpVersion) else None

    # --- editing ----------------------------------------------------------------------------------
    def load(self, icp: IdealCustomerProfile) -> None:
        self.loading = True
        self.name.setText(icp.name)
        self.description.setText(icp.description)
        self.tier_a.setValue(icp.tier_a)
        self.tier_b.setValue(icp.tier_b)
        self.criteria.setRowCount(0)
        for criterion in icp.criteria:
            self.add_criterion(criterion)
        self.loading = False
        self.dirty = False
        self.changed()
        self.dirty = False

    def open_draft(self, icp: IdealCustomerProfile) -> None:
        """Show ``icp`` as a new version not yet saved (the closed loop's suggested
        weights): Save keeps it, Apply scores with it, Close drops it."""
        self.versions.setCurrentIndex(0)
        self.load(icp)
        self.dirty = True

    def add_criterion(self, criterion: Criterion) -> None:
        row = self.criteria.rowCount()
        self.criteria.insertRow(row)
        field = QComboBox()
        field.setEditable(True)  # "custom:Name" for a custom field
        field.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)  # Return adds no item
        for name, label in CRITERION_FIELDS.items():
            field.addItem(label, name)
        index = field.findData(criterion.field)
        if index >= 0:
            field.setCurrentIndex(index)
        else:
            field.setEditText(criterion.field)
        operator = QComboBox()
        values = QLineEdit(format_values(criterion))
        values.setPlaceholderText("comma-separated")
        must = QCheckBox()
        must.setChecked(criterion.must_have)
        weight = QSpinBox()
        weight.setRange(1, 100)
        weight.setValue(criterion.weight if not criterion.must_have else 10)
        weight.setEnabled(not criterion.must_have)
        for column, widget in enumerate((field, operator, values, must, weight)):
            self.criteria.setCellWidget(row, column, widget)
            widget.setEnabled(self.can_edit and (widget is not weight or not criterion.must_have))
        self._fill_operators(field, operator, criterion.operator)
        field.currentIndexChanged.connect(lambda: self._fill_operators(field, operator))
        field.editTextChanged.connect(self.changed)
        operator.currentIndexChanged.connect(self.changed)

        def values_needed() -> None:
            needed = operator.currentData() != Operator.IS_SET  # Qt hands back a str
            values.setEnabled(self.can_edit and needed)
            values.setPlaceholderText("comma-separated" if needed else "no value needed")

        operator.currentIndexChanged.connect(values_needed)
        values_needed()
        values.textChanged.connect(self.changed)
        must.toggled.connect(lambda on: weight.setEnabled(self.can_edit and not on))
        must.toggled.connect(self.changed)
        weight.valueChanged.connect(self.changed)
        self.changed()

    def _fill_operators(self, field: QComboBox, operator: QComboBox, chosen: Any = None) -> None:
        chosen = chosen or operator.currentData()
        operator.blockSignals(True)
        operator.clear()
        for op in operators_for(self._chosen_field(field)):
            operator.addItem(op.value, op)
        index = operator.findData(chosen)
        operator.setCurrentIndex(max(0, index))
        operator.blockSignals(False)
        self.changed()

    @staticmethod
    def _chosen_field(combo: QComboBox) -> str:
        data = combo.currentData()
        text = combo.currentText().strip()
        if data is not None and combo.itemText(combo.currentIndex()) == text:
            return str(data)
        if text.lower().startswith(("custom:", "custom ")):
            return CUSTOM + text[len("custom:") :].strip()
        return text

    def remove_criterion(self) -> None:
        row = self.criteria.currentRow()
        if row < 0:
            row = self.criteria.rowCount() - 1
        if row >= 0:
            self.criteria.removeRow(row)
            self.changed()

    def icp(self) -> IdealCustomerProfile:
        """The ICP as edited; ValidationError naming what is wrong."""
        criteria = []
        for row in range(self.criteria.rowCount()):
            field_box, operator_box, values_box, must_box, weight_box = (
                self.criteria.cellWidget(row, c) for c in range(5)
            )
            assert isinstance(field_box, QComboBox) and isinstance(operator_box, QComboBox)
            assert isinstance(values_box, QLineEdit) and isinstance(must_box, QCheckBox)
            assert isinstance(weight_box, QSpinBox)
            field = self._chosen_field(field_box)
            operator = operator_box.currentData()
            if operator is None:
                raise ValidationError({f"criterion {row + 1}": f"unknown field '{field}'"})
            try:
                values = parse_values(field, operator, values_box.text())
            except ValidationError as exc:
                raise ValidationError({f"criterion {row + 1}": str(exc)}) from None
            must = must_box.isChecked()
            criteria.append(Criterion(field, operator, values, must, weight_box.value()))
        icp = IdealCustomerProfile(
            self.name.text().strip(),
            tuple(criteria),
            self.tier_a.value(),
            self.tier_b.value(),
            self.description.text().strip(),
        )
        icp.validate()
        return icp

    def changed(self, *_: Any) -> None:
        if self.loading:
            return
        self.dirty = True
        try:
            self.icp()
        except ValidationError as exc:
            if set(exc.problems) != {"name"}:
                self.problems.setText(str(exc))
                return
        self.problems.setText("")
        self.timer.start()

    # --- preview ----------------------------------------------------------------------------------
    def refresh_preview(self) -> None:
        try:
            icp = self.icp()
        except ValidationError as exc:
            if set(exc.problems) != {"name"}:
                return
            icp = IdealCustomerProfile("preview", self._criteria_only(), self.tier_a.value(),
                                       self.tier_b.value())  # fmt: skip
        if self.answer is not None and icp.criteria == self.answered_criteria:
            self._show_tiers(icp)  # only the thresholds moved: no need to ask the database
            if self.answer.histogram.sampled is None:
                self.timing.setText("Updated at once (only the thresholds changed)")
                return
        self.timing.setText("Counting…")
        self.requested = icp
        self.preview.request(icp)

    def _criteria_only(self) -> tuple[Criterion, ...]:
        self.name.blockSignals(True)
        name = self.name.text()
        self.name.setText("preview")
        try:
            return self.icp().criteria
        finally:
            self.name.setText(name)
            self.name.blockSignals(False)

    def _show_preview(self, generation: int, answer: Any, seconds: float) -> None:
        if generation != self.preview.generation:
            return  # an older edit's answer
        if isinstance(answer, Exception):
            self.timing.setText(f"Preview failed: {answer}")
            return
        if (
            self.answer is not None
            and self.answer_generation == generation
            and (answer.histogram.sampled is not None)
        ):
            return  # the exact answer is already shown
        self.answer, self.answer_generation = answer, generation
        self.answered_criteria = self.requested.criteria
        self._show_tiers(self.requested)
        self.top.clear()
        for _, name, score in answer.top:
            self.top.addItem(f"{score:>3}  {name}")
        sampled = answer.histogram.sampled
        how = f"estimate from {counted(sampled, 'account')}" if sampled is not None else "exact"
        self.timing.setText(f"Updated in {seconds:.2f} s ({how})")

    def _show_tiers(self, icp: IdealCustomerProfile) -> None:
        assert self.answer is not None
        counts = self.answer.histogram.tiers(icp)
        about = "≈ " if self.answer.histogram.sampled is not None else ""
        total = sum(counts.values()) or 1
        for tier, label in self.counts.items():
            label.setText(f"{about}{counts[tier]:,}  ({100 * counts[tier] / total:.0f}%)")

    # --- saving, applying -------------------------------------------------------------------------
    def save(self) -> IcpVersion | None:
        try:
            icp = self.icp()
        except ValidationError as error:
            show_error(self, "Not saved", error)
            return None
        note, ok = QInputDialog.getText(self, "Save version", "What changed, and why? (optional)")
        if not ok:
            return None
        try:
            version = save_icp(self.store, self.user, icp, note)
        except AccordError as error:
            show_error(self, "Not saved", error)
            return None
        self._load_versions(select=version)
        return version

    def apply(self) -> None:
        version = self.current_version()
        if version is None or self.dirty:
            version = self.save()
        if version is None or not self.can_edit:
            return
        store, user = self.store, self.user
        self.task = run_task(
            self,
            f"Scoring accounts with {version.label}",
            lambda progress, cancel: apply_icp(store, user, version, progress, cancel),
            lambda count: self._applied(version, count),
        )

    def _applied(self, version: IcpVersion, count: int) -> None:
        self._load_versions(select=version)
        self.timing.setText(f"Scored {counted(count, 'account')} with {version.label}")

    # --- files ------------------------------------------------------------------------------------
    def import_json(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import ICP", "", "ICP (*.json)")
        if not name:
            return
        try:
            icp = from_document(read_document(Path(name)))
        except FileRefused as error:
            show_error(self, "Not imported", error)
            return
        except AccordError as error:
            show_error(self, "Not imported", AccordError(f"{Path(name).name}: {error}"))
            return
        self.versions.setCurrentIndex(0)
        self.load(icp)
        self.dirty = True

    def export_json(self) -> None:
        try:
            icp = self.icp()
        except ValidationError as error:
            show_error(self, "Not exported", error)
            return
        name, _ = QFileDialog.getSaveFileName(self, "Export ICP", f"{icp.name}.json", "*.json")
        if not name:
            return
        try:
            write_text(Path(name), json.dumps(to_document(icp), indent=2, ensure_ascii=False))
        except AccordError as error:
            show_error(self, "Not exported", error)

    def compare(self) -> None:
        CompareDialog(self.workspace, self.all_versions, self).exec()


class CompareDialog(QDialog):
    """How many accounts move between tiers from one version to another."""

    def __init__(self, workspace: Workspace, versions: list[IcpVersion], parent: QWidget) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.setWindowTitle("Compare ICP versions")
        self.before, self.after = QComboBox(), QComboBox()
        for combo in (self.before, self.after):
            for version in versions:
                combo.addItem(version.label, version)
        if len(versions) > 1:
            self.before.setCurrentIndex(1)  # the one before the newest
        self.table = QTableWidget(4, 4)
        names = [_TIER_NAMES[t] for t in (Tier.A, Tier.B, Tier.C, None)]
        self.table.setHorizontalHeaderLabels([f"now {n}" for n in names])
        self.table.setVerticalHeaderLabels([f"was {n}" for n in names])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.summary = plain_label()
        self.summary.setObjectName("summary")
        choose = QHBoxLayout()
        choose.addWidget(plain_label("From"))
        choose.addWidget(self.before, 1)
        choose.addWidget(plain_label("to"))
        choose.addWidget(self.after, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(choose)
        layout.addWidget(self.table)
        layout.addWidget(self.summary)
        keep_geometry(self, QSize(720, 280))
        for combo in (self.before, self.after):
            combo.currentIndexChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        before, after = self.before.currentData(), self.after.currentData()
        if before is None or after is None:
            self.summary.setText("Save at least one version to compare.")
            return
        pairs = compare(self.workspace, before, after)
        order = [Tier.A, Tier.B, Tier.C, None]
        counts = {(b, a): n for b, a, n in pairs}
        for row, was in enumerate(order):
            for column, now in enumerate(order):
                item = QTableWidgetItem(f"{counts.get((was, now), 0):,}")
                self.table.setItem(row, column, item)
        moves = tier_moves(pairs)
        self.summary.setText(", ".join(f"{n:,} {what}" for what, n in moves.items()))
