"""An account's fit: its score and tier with each criterion's contribution (the "why"), the
lead definition's checklist, and its line on the target list."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from PySide6.QtWidgets import (
    QGroupBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.values import shown_time
from storage.icps import account_facts, active_version
from storage.leads import current_lead_definition
from storage.targets import target_entry
from storage.workspace import Workspace
from ui.messages import plain_label

MET, MISSED = "✓", "✗"


def _label(name: str) -> QLabel:
    label = plain_label(wrap=True)
    label.setObjectName(name)
    return label


def _table(name: str, headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)
    table.setColumnWidth(0, 40)
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for row, cells in enumerate(rows):
        for column, text in enumerate(cells):
            table.setItem(row, column, QTableWidgetItem(text))


class FitPanel(QWidget):
    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.score = _label("score")
        self.why = _table("why", ["", "Points", "Criterion"])
        self.why.setColumnWidth(1, 140)
        self.ready = _label("sales_ready")
        self.checks = _table("checks", ["", "Lead definition"])
        self.target = _label("target")
        fit_box, lead_box, list_box = (
            QGroupBox("Fit under the active ICP"),
            QGroupBox("Sales-ready?"),
            QGroupBox("Target list"),
        )
        for box, widgets in (
            (fit_box, [self.score, self.why]),
            (lead_box, [self.ready, self.checks]),
            (list_box, [self.target]),
        ):
            box_layout = QVBoxLayout(box)
            for widget in widgets:
                box_layout.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addWidget(fit_box, 3)
        layout.addWidget(lead_box, 2)
        layout.addWidget(list_box)

    def load(self, account_id: UUID) -> None:
        version = active_version(self.workspace)
        with self.workspace.read() as conn:
            facts = account_facts(conn, account_id)
        if version is None:
            self.score.setText("No ICP has been applied yet: Plan › Ideal customer profile.")
            _fill(self.why, [])
        else:
            evaluation = version.icp.evaluate(facts)
            tier = f"tier {evaluation.tier}" if evaluation.tier else "excluded by a must-have"
            self.score.setText(f"Score {evaluation.score} of 100, {tier} — {version.label}")
            _fill(self.why, [_why_row(c) for c in evaluation.contributions])
        checks = current_lead_definition(self.workspace).evaluate(facts)
        missed = [c.rule.describe() for c in checks if not c.met]
        self.ready.setText("Sales-ready" if not missed else f"Not yet: {'; '.join(missed)}")
        _fill(self.checks, [[MET if c.met else MISSED, c.rule.describe()] for c in checks])
        self.target.setText(_target_text(target_entry(self.workspace, account_id)))


def _why_row(contribution: Any) -> list[str]:
    criterion = contribution.criterion
    if criterion.must_have:
        points = "must-have"
    else:
        points = f"+{contribution.points}" if contribution.met else f"0 of {criterion.weight}"
    return [MET if contribution.met else MISSED, points, criterion.describe()]


def _target_text(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "Not on the target list."
    parts = [
        f"Owner: {entry['owner'] or 'none yet'}",
        f"stage: {entry['stage']}",
        f"priority {entry['priority']}",
    ]
    if entry["handed_off_at"] is not None:
        when = shown_time(entry["handed_off_at"])
        parts.append(f"handed off {when} by {entry['handed_off_by']}")
    return "On the target list. " + ", ".join(parts)
