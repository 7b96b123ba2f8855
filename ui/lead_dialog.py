"""The lead definition: which points make a target account sales-ready."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from domain.errors import AccordError
from domain.icp import Tier
from domain.leads import (
    DossierComplete,
    HasDecisionMaker,
    HasPhone,
    LeadDefinition,
    LeadRule,
    MinimumEmployees,
    TierIn,
    make_rule,
    save_lead_definition,
)
from domain.users import Action, User
from storage.leads import SqlLeadStore, current_lead_definition
from storage.workspace import Workspace
from ui.messages import plain_label
from ui.settings import keep_geometry
from ui.workers import show_error


class LeadDefinitionDialog(QDialog):
    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.setWindowTitle("Lead definition")
        current = {r.kind: r for r in current_lead_definition(workspace).rules}
        intro = plain_label(
            "An account on the target list is sales-ready — ready to hand off to its rep — "
            "when it meets every point ticked here. Marketing and sales agree on it together.",
            wrap=True,
        )
        self.boxes: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        self.tiers = {t: QCheckBox(t.value) for t in Tier}
        tier_rule = current.get(TierIn.kind)
        for tier, box in self.tiers.items():
            box.setChecked(tier in (tier_rule.tiers if isinstance(tier_rule, TierIn) else {"A"}))
        tiers = QHBoxLayout()
        for box in self.tiers.values():
            tiers.addWidget(box)
        tiers.addStretch()
        self.employees = QSpinBox()
        self.employees.setRange(0, 1_000_000)
        self.employees.setGroupSeparatorShown(True)
        rule = current.get(MinimumEmployees.kind)
        self.employees.setValue(rule.employees if isinstance(rule, MinimumEmployees) else 10)
        rows: list[tuple[str, str, Any]] = [
            (HasPhone.kind, "Has a phone number", None),
            (HasDecisionMaker.kind, "Has a decision-maker contact", None),
            (TierIn.kind, "Tier is one of", tiers),
            (MinimumEmployees.kind, "At least this many employees", self.employees),
            (DossierComplete.kind, "Dossier complete (every required section filled)", None),
        ]
        for row, (kind, text, setting) in enumerate(rows):
            box = QCheckBox(text)
            box.setChecked(kind in current)
            self.boxes[kind] = box
            grid.addWidget(box, row, 0)
            if isinstance(setting, QHBoxLayout):
                grid.addLayout(setting, row, 1)
            elif setting is not None:
                grid.addWidget(setting, row, 1)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        allowed = user.can(Action.EDIT_LEAD_DEFINITION)
        for widget in [*self.boxes.values(), *self.tiers.values(), self.employees]:
            widget.setEnabled(allowed)
        buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(allowed)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(grid)
        layout.addWidget(buttons)
        keep_geometry(self, QSize(520, 240))

    def definition(self) -> LeadDefinition:
        rules: list[LeadRule] = []
        for kind, box in self.boxes.items():
            if not box.isChecked():
                continue
            if kind == TierIn.kind:
                rules.append(TierIn(frozenset(t for t, b in self.tiers.items() if b.isChecked())))
            elif kind == MinimumEmployees.kind:
                rules.append(MinimumEmployees(self.employees.value()))
            else:
                rules.append(make_rule(kind, {}))
        return LeadDefinition(tuple(rules))

    def accept(self) -> None:
        try:
            definition = self.definition()
            if any(isinstance(r, TierIn) and not r.tiers for r in definition.rules):
                raise AccordError("Tick at least one tier, or untick the tier point.")
            save_lead_definition(SqlLeadStore(self.workspace), self.user, definition)
        except AccordError as error:
            show_error(self, "Lead definition not saved", error)
            return
        super().accept()
